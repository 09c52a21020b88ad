"""The MySQL/MariaDB dialect (PyMySQL): its connection settings, its errors,
and its text for the statements that differ from SQLite's.

Writers serialise per host (SELECT ... FOR UPDATE). Where the server has
JSON_TABLE (MariaDB 10.6, MySQL 8.0), many rows are one statement with one
JSON parameter: a driver in Python escapes one string, not thousands of
values."""

import json
import re
import threading
import time

from .database import (chunks, holder_rows, maker, split_concatenated, split_concatenated_text,
                       words_to_bitmap)
from .deferred import DeferringCursor
from .dialect import Dialect, first_line
from .errors import StoreUnavailable
from .mysql_statements import MySQLSQL, compile_sql
from .records import HostAt, host_order
from .statements import compile_statements


def server_has_json_table(version):
    """Whether a server of this version string (as the handshake gives it,
    e.g. '5.5.5-10.11.6-MariaDB-0+deb12u1' or '8.0.36') has JSON_TABLE:
    MariaDB from 10.6, MySQL from 8.0.4."""
    mariadb = re.search(r"(\d+)\.(\d+)\.(\d+)-MariaDB", version)
    if mariadb:
        return tuple(map(int, mariadb.groups())) >= (10, 6, 0)
    mysql = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return bool(mysql) and tuple(map(int, mysql.groups())) >= (8, 0, 4)


def server_has_returning(version):
    """Whether a server of this version string has INSERT ... RETURNING
    (with ON DUPLICATE KEY UPDATE): MariaDB from 10.5; MySQL has none."""
    mariadb = re.search(r"(\d+)\.(\d+)\.(\d+)-MariaDB", version)
    return bool(mariadb) and tuple(map(int, mariadb.groups())) >= (10, 5, 0)


def server_has_compound(version):
    """Whether a server of this version string runs a compound statement
    (BEGIN NOT ATOMIC ... END) outside a stored program: MariaDB from
    10.1.1; MySQL does not."""
    mariadb = re.search(r"(\d+)\.(\d+)\.(\d+)-MariaDB", version)
    return bool(mariadb) and tuple(map(int, mariadb.groups())) >= (10, 1, 1)


# package rows made by one INSERT ... RETURNING at most: PyMySQL builds a
# result row in Python, slower than a GROUP_CONCAT string read after it
RETURNING_ROWS = 200


def _json(value):
    """A JSON document as a statement's parameter: ASCII bytes (non-ASCII
    characters escaped by json.dumps), which PyMySQL 2.2 sends as a hex
    literal at C speed; a str with quotes goes through its escaping, a
    character at a time (1.2 ms for the 57 KB of a first report's 1,300
    package lines, against 0.08 ms). The server reads the document alike
    (older PyMySQL escapes bytes as it does a str: the same, no faster)."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def _close_quietly(conn):
    try:
        conn.close()
    except Exception:  # broken already: nothing more to do with it
        pass


def _message(exc):
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)


class MySQLDialect(Dialect):
    """dialect.Dialect for MySQL and MariaDB: a server, writers serialised
    per host row."""

    name = "mysql"
    placeholder = "%s"
    compile = staticmethod(compile_sql)
    sql = compile_statements(MySQLSQL, compile_sql)
    # a writer holds its host's row only: a report's lines are read inside
    # its transaction when they are not the host's stored block (no peek)
    lock_is_global = False
    # server error codes: deadlock, lock wait timeout
    RETRYABLE = (1213, 1205)
    # client error codes: can't connect, gone away, lost connection, ... and
    # server ones meaning "not now": too many connections, read-only, shutdown
    UNAVAILABLE = (2002, 2003, 2005, 2006, 2013, 2055, 1040, 1053, 1290, 1836)
    # server errors whose message names a table, column or key but never a
    # value or the statement: null, unknown column, table full, no such
    # table, lock wait timeout, deadlock, out of range, too long, foreign key
    NAMES_ONLY = (1048, 1054, 1114, 1146, 1205, 1213, 1264, 1406, 1451, 1452)

    def __init__(self, params):
        import pymysql  # only MySQL users need it
        self.pymysql = pymysql
        self.params = params
        self.integrity_errors = (pymysql.err.IntegrityError,)
        self.value_errors = (pymysql.err.DataError,)
        self.errors = (pymysql.err.MySQLError,)  # whatever the server refuses
        self.json_table = None  # known once connected
        self.returning = None
        self.defers = None
        self._checking = None  # the connection answers() keeps between checks
        self._checking_lock = threading.Lock()

    def connect(self):
        p = self.params
        try:
            conn = self.pymysql.connect(
                host=p["host"], port=p["port"], user=p["user"], password=p["password"],
                database=p["database"], charset="utf8mb4", autocommit=False,
                connect_timeout=5, read_timeout=120, write_timeout=120)
            with conn.cursor() as cursor:
                # READ COMMITTED: after INSERT IGNORE a plain SELECT must see the
                # row another transaction committed meanwhile.
                cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cursor.execute("SET SESSION innodb_lock_wait_timeout = 20")
                cursor.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
                               "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'")
                # (English messages: a duplicate's key is read from its message,
                # see deferred.py, whatever lc_messages the server was given)
                cursor.execute("SET time_zone = '+00:00', lc_messages = 'en_US'")
                cursor.execute("SET SESSION group_concat_max_len = 1073741824")
            conn.commit()
            if self.json_table is None:
                self.json_table = server_has_json_table(conn.get_server_info())
                self.returning = server_has_returning(conn.get_server_info())
                # (?compound=no in the URL: a proxy between that does not pass them)
                self.defers = p.get("compound", True) and server_has_compound(
                    conn.get_server_info())
        except self.pymysql.err.MySQLError as exc:
            raise StoreUnavailable("cannot connect to MySQL %s:%s/%s: %s" % (
                p["host"], p["port"], p["database"], _message(exc)))
        return conn

    def snapshot(self, cursor):
        # the sessions read committed rows statement by statement; this
        # transaction alone reads as of its start (SET TRANSACTION: the next
        # one only)
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def cursor(self, conn):
        if self.defers:
            return DeferringCursor(conn.cursor(), self)
        return conn.cursor()

    def finish(self, cursor):
        if isinstance(cursor, DeferringCursor):
            cursor.flush()

    def message(self, exc):
        """The server's message of an error (whole: for matching, not showing)."""
        return _message(exc)

    def _code(self, exc):
        if isinstance(exc, self.pymysql.err.MySQLError) and exc.args:
            return exc.args[0]
        return None

    def error_line(self, exc):
        """The server's message when it names no value; else its error
        number, and the column or key it ends by naming (a duplicate entry
        or an incorrect string quotes the value before it)."""
        code, message = self._code(exc), _message(exc)
        if code in self.NAMES_ONLY:
            return "MySQL error %d: %s" % (code, first_line(message))
        what = ("MySQL error %d" % code if isinstance(code, int) and code
                else "MySQL client error") + " (%s)" % type(exc).__name__
        # (at the end of the whole message: what a value holds comes before)
        named = re.search(r" for (column|key) ([`'][^ \n]*[`'])( at row \d+)?\Z", message)
        return what + (" for %s %s" % named.group(1, 2) if named else "")

    # (begin: autocommit is off, so the first statement opens the
    # transaction; an explicit BEGIN would cost a round trip each time)

    def is_retryable(self, exc):
        return self._code(exc) in self.RETRYABLE

    def is_unavailable(self, exc):
        if isinstance(exc, (self.pymysql.err.InterfaceError, ConnectionError, OSError)):
            return True
        return self._code(exc) in self.UNAVAILABLE

    def run_script(self, conn, text):
        """A schema file: statements end with ';', comment lines start with '--'."""
        lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
        with conn.cursor() as cursor:
            for statement in "\n".join(lines).split(";"):
                if statement.strip():
                    cursor.execute(statement)  # no parameters: no '%' formatting
        conn.commit()

    def table_exists(self, cursor, table):
        cursor.execute(self.sql.SELECT_TABLE_EXISTS, (table,))
        return cursor.fetchone() is not None

    def describe(self):
        p = self.params
        return "mysql://%s@%s:%s/%s" % (p["user"], p["host"], p["port"], p["database"])

    def answers(self, statement, timeout):
        # One connection is kept between checks, autocommit (it holds no
        # snapshot): a new one costs PyMySQL an SSL context, 50 ms of CPU.
        # A kept one the server has closed since is replaced within the
        # time; one that hangs is given up after it. A server that accepts
        # connections and never greets them (stopped, out of threads) is
        # given up after it too: the greeting is a read.
        deadline = time.monotonic() + timeout
        with self._checking_lock:
            conn, self._checking = self._checking, None
            fresh = False
            while True:
                if conn is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    try:
                        conn = self._connect_briefly(remaining, timeout)
                    except (self.pymysql.err.MySQLError, OSError):
                        return False
                    fresh = True
                try:
                    with conn.cursor() as cursor:
                        cursor.execute(statement)
                        answered = len(cursor.fetchall()) > 0
                    self._checking = conn
                    return answered
                except (self.pymysql.err.MySQLError, OSError):
                    _close_quietly(conn)
                    if fresh:
                        return False
                    conn = None

    def _connect_briefly(self, connect_timeout, timeout):
        p = self.params
        return self.pymysql.connect(
            host=p["host"], port=p["port"], user=p["user"], password=p["password"],
            database=p["database"], charset="utf8mb4", autocommit=True,
            connect_timeout=connect_timeout, read_timeout=timeout, write_timeout=timeout)

    def close(self):
        with self._checking_lock:
            conn, self._checking = self._checking, None
        if conn is not None:
            _close_quietly(conn)

    # -- what is written differently

    def insert_packages(self, cursor, packager, rows):
        """Package rows (name, version, arch, key, source), unless there already."""
        if self.json_table:
            cursor.execute(self.sql.INSERT_PACKAGES_JSON, (packager, _json(
                [tuple(package[:3]) + (package[3].hex(), package[4]) for package in rows])))
        else:
            cursor.executemany(self.sql.INSERT_PACKAGE,
                               [(packager,) + tuple(row) for row in rows])

    def find_package_ids(self, cursor, packager, packages):
        if not self.json_table:
            return None
        # (no key made here: a report's 1,500 sha256 and their hex cost
        # more in Python than the server takes to make them)
        cursor.execute(self.sql.SELECT_PACKAGE_IDS_OF_JSON, (_json(packages), packager))
        numbers = iter(map(int, split_concatenated_text(cursor.fetchone()[0])))
        return {packages[place - 1]: package_id for place, package_id in zip(numbers, numbers)}

    def find_or_make_package_ids(self, cursor, packager, packages, sources):
        """({package: id} of `packages`, [id made]): the rows not there made
        and all found in one block (a few hundred packages at most: for
        more, those there are most often all, and a lookup alone reads
        them once); None where the server cannot."""
        if not (self.defers and self.returning and self.json_table) \
                or len(packages) > RETURNING_ROWS or not hasattr(cursor, "execute_together"):
            return None
        document = _json(packages)
        cursor.execute_together([
            (self.sql.MAKE_MISSING_PACKAGES_JSON, (packager, packager, _json(
                [package + (sources.get(package[0]),) for package in packages]), packager)),
            (self.sql.SELECT_PACKAGE_IDS_OF_JSON, (document, packager))])
        made = [package_id for package_id, in cursor.fetchall()]
        cursor.nextset()
        numbers = iter(map(int, split_concatenated_text(cursor.fetchone()[0])))
        return ({packages[place - 1]: package_id for place, package_id in zip(numbers, numbers)},
                made)

    def insert_package_ids(self, cursor, packager, rows):
        if not (self.returning and self.json_table) or len(rows) > RETURNING_ROWS:
            return None
        cursor.execute(self.sql.INSERT_PACKAGES_JSON_RETURNING, (packager, _json(
            [tuple(package[:3]) + (package[3].hex(), package[4]) for package in rows])))
        return {bytes(key): package_id for key, package_id in cursor.fetchall()}

    def select_package_ids(self, cursor, keys):
        """{key: id} of the package rows there are of these keys."""
        if self.json_table:
            cursor.execute(self.sql.SELECT_PACKAGE_IDS_JSON, (_json([k.hex() for k in keys]),))
            return {bytes.fromhex(key_hex): int(package_id) for key_hex, package_id
                    in split_concatenated(cursor.fetchone()[0])}
        found = {}
        for chunk in chunks(keys):
            cursor.execute(self.sql.SELECT_PACKAGE_IDS.format(
                marks=", ".join(["%s"] * len(chunk))), chunk)
            for key_hex, package_id in split_concatenated(cursor.fetchone()[0]):
                # MySQL's HEX() is upper case, as SQLite's
                found[bytes.fromhex(key_hex)] = int(package_id)
        return found

    def insert_installs(self, cursor, host_id, package_ids, installed):
        if self.json_table:
            self.defer(cursor, self.sql.INSERT_INSTALLS_JSON,
                       (host_id, installed, _json(package_ids)))
        else:
            cursor.executemany(self.sql.INSERT_INSTALL,
                               [(host_id, package_id, installed) for package_id in package_ids])

    def hosts_at(self, cursor, at, site):
        """[HostAt] of the hosts known at `at` (of one site, if given)."""
        where, params = ("", (at,)) if site is None else (" AND site = %s", (at, site))
        cursor.execute(self.sql.SELECT_HOSTS_AT_CONCAT.format(where=where), params)
        make = maker(HostAt)
        hosts = [make((int(host_id), site_name, name, packager, system[1:] if system else None,
                       int(set_report) if set_report else None))
                 for host_id, site_name, name, packager, system, set_report
                 in split_concatenated(cursor.fetchone()[0], "\x1e", "\x1f")]
        hosts.sort(key=host_order)  # (as ORDER BY site, name)
        return hosts

    def set_reports(self, cursor):
        """{host id: set_report or 0} of the hosts known now."""
        cursor.execute(self.sql.SELECT_SET_REPORTS_CONCAT)
        numbers = iter(map(int, split_concatenated_text(cursor.fetchone()[0])))
        return dict(zip(numbers, numbers))

    def holder_bitmaps(self, cursor, package_ids, at):
        """{package id: bitmap of the ids of the hosts that held it at
        `at`} (see words_to_bitmap): the rows come as 64-bit words."""
        words = {}
        for package_id, pairs in holder_rows(
                cursor, self.sql.SELECT_OPEN_HOLDER_WORDS, self.sql.SELECT_PAST_HOLDER_WORDS,
                package_ids, at, self.placeholder):
            found = words.setdefault(package_id, {})
            numbers = iter(map(int, split_concatenated_text(pairs)))
            for block, word in zip(numbers, numbers):
                found[block] = found.get(block, 0) | word
        return {package_id: words_to_bitmap(found) for package_id, found in words.items()}

    # -- bulk loads

    def bulk_begin(self, cursor):
        # generated rows are consistent: skip the per-row checks of a bulk load
        cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        return None

    def bulk_installs(self, cursor, rows):
        """Insert (host id, package id, installed, removed) rows."""
        if not self.json_table:
            Dialect.bulk_installs(self, cursor, rows)
            return
        # PyMySQL escapes a parameter at a time: one JSON string a batch
        for part in chunks(rows, 50000):
            cursor.execute(self.sql.BULK_INSTALLS_JSON, (_json(part),))

    def bulk_end(self, cursor, state):
        cursor.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")

    # -- the schema as it is

    def storage_bytes(self, conn):
        with conn.cursor() as cursor:
            for table in ("hosts", "packages", "installs", "reports"):
                cursor.execute("OPTIMIZE TABLE %s" % table)
                cursor.fetchall()
                cursor.execute("ANALYZE TABLE %s" % table)
                cursor.fetchall()
            cursor.execute(self.sql.SELECT_STORAGE_BYTES)
            size = int(cursor.fetchone()[0])
        conn.commit()
        return size

    def schema_shape(self, cursor):
        """{table: {index: columns}, table columns: ..., foreign keys: ...}:
        two databases with the same shape have the same schema."""
        shape = {}
        cursor.execute(self.sql.SELECT_INDEXES)
        for table, index, _, column in sorted(cursor.fetchall()):
            shape.setdefault(table, {}).setdefault(index, []).append(column)
        cursor.execute(self.sql.SELECT_COLUMNS)
        for table, column, position, kind, nullable in cursor.fetchall():
            shape.setdefault(table + " columns", []).append((position, column, kind, nullable))
        cursor.execute(self.sql.SELECT_FOREIGN_KEYS)
        shape["foreign keys"] = sorted(tuple(row) for row in cursor.fetchall())
        return {name: sorted(value) if isinstance(value, list) else value
                for name, value in shape.items()}

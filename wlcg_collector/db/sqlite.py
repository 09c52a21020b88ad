"""The SQLite dialect (standard library sqlite3): its connection settings,
its errors, and its text for the statements that differ from MySQL's.

Writers serialise on the database write lock (BEGIN IMMEDIATE); readers
work beside them (WAL)."""

import os
import re
import sqlite3
import urllib.parse

from .advisory_statements import AdvisorySQL
from .database import chunks, holder_rows, ids_to_bitmap, maker, split_concatenated
from .dialect import Dialect, first_line
from .errors import StoreError, StoreUnavailable
from .fleet_statements import FleetSQL
from .metrics_statements import MetricsSQL
from .records import HostAt
from .statements import PARAM, SharedSQL, compile_statements
from .tag_statements import TagSQL

# the collected data are for the collector's user only (the officer's
# commands run as that user)
DATABASE_MODE = 0o600

# the variables one statement may bind: SQLite's default limit (999 before
# 3.32), with room for a statement's own few
MAX_VARIABLES = (32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999) - 16


def compile_sql(text):
    """A statement for sqlite3: {p} becomes '?'; nothing else changes."""
    return text.replace(PARAM, "?")


class SQLiteSQL(SharedSQL, FleetSQL, TagSQL, AdvisorySQL, MetricsSQL):
    INSERT_HOST = ("INSERT OR IGNORE INTO hosts (site, name, packager, facts, package_count, "
                   "first_report, last_report, last_received, created, created_by) "
                   "VALUES ({p}, {p}, {p}, '{}', 0, {p}, -1, {p}, {p}, {p})")
    # BEGIN IMMEDIATE already holds the database write lock: a plain read
    LOCK_HOST = SharedSQL.PEEK_HOST
    LOCK_HOST_BY_ID = SharedSQL.PEEK_HOST_BY_ID
    LOCK_HOST_AND_SET = SharedSQL.PEEK_HOST_AND_SET
    # a range of hosts whose open sets are made again (open_sets.rebuild_range)
    LOCK_HOSTS_BETWEEN = SharedSQL.SELECT_HOSTS_BETWEEN
    # BEGIN IMMEDIATE holds the write lock: a plain read
    LOCK_SITE_HOSTS = SharedSQL.SELECT_SITE_HOSTS
    LOCK_SITE_ALIAS = SharedSQL.SELECT_SITE_ALIAS
    # the hosts of a listed site take its spelling (rows already spelled so
    # are left alone: compared as bytes, not as the column compares)
    SET_SITE_SPELLING = ("UPDATE hosts SET site = {p} WHERE site = {p} "
                         "AND site <> {p} COLLATE BINARY")
    INSERT_SITE_KEY = ("INSERT OR IGNORE INTO site_keys (site, fingerprint, pinned_at, pinned_by) "
                       "VALUES ({p}, {p}, {p}, {p})")
    # quotas.py's rows of a changed report, (scope, name, day, reports,
    # new_rows) each, made or added to in one statement: a row of an
    # earlier day starts again at 0 (an upsert, as COUNT_INGEST)
    COUNT_QUOTA_USAGE = ("INSERT INTO quota_usage (scope, name, day, reports, new_rows) "
                         "VALUES {rows} ON CONFLICT (scope, name) DO UPDATE SET "
                         "reports = CASE WHEN day = excluded.day THEN reports ELSE 0 END "
                         "+ excluded.reports, "
                         "new_rows = CASE WHEN day = excluded.day THEN new_rows ELSE 0 END "
                         "+ excluded.new_rows, "
                         "day = excluded.day")
    INSERT_QUOTA_EVENT = ("INSERT OR IGNORE INTO quota_events (day, setting, site, host, "
                          "sender, refused, first_at, last_at) "
                          "VALUES ({p}, {p}, {p}, {p}, {p}, 0, {p}, {p})")
    # /metrics' counts (metrics_store.py): rows of (writer, outcome,
    # reason, bucket, reports, micros, updated) added to a writer's rows
    COUNT_INGEST = ("INSERT INTO ingest_counts (writer, outcome, reason, bucket, reports, "
                    "micros, updated) VALUES {rows} "
                    "ON CONFLICT (writer, outcome, reason, bucket) DO UPDATE SET "
                    "reports = reports + excluded.reports, micros = micros + excluded.micros, "
                    "updated = MAX(updated, excluded.updated)")
    # (the write lock is held: nobody else writes meanwhile)
    SELECT_FOLDED_COUNTS = MetricsSQL.OLD_COUNTS
    # (an interval the surviving host has already stays as it is)
    MOVE_INSTALLS = ("INSERT OR IGNORE INTO installs (host_id, package_id, installed, removed) "
                     "SELECT {p}, package_id, installed, removed FROM installs "
                     "WHERE host_id = {p}")
    INSERT_PACKAGE = ("INSERT OR IGNORE INTO packages (packager, name, version, arch, key_hash, "
                      "source) VALUES ({p}, {p}, {p}, {p}, {p}, {p})")
    # A new set's rows as one statement of a VALUES list (in chunks of
    # MAX_VARIABLES): half the time of executemany's step a row for 1,500
    # intervals. {rows}: "({p})" (installs) or "({p}, {p}, {p}, {p}, {p})"
    # (packages: name, version, arch, key, source) a row, comma separated.
    INSERT_INSTALLS_VALUES = ("INSERT INTO installs (host_id, package_id, installed) "
                              "SELECT {p}, column1, {p} FROM (VALUES {rows})")
    INSERT_PACKAGES_VALUES = ("INSERT OR IGNORE INTO packages (packager, name, version, arch, "
                              "key_hash, source) SELECT {p}, column1, column2, column3, column4, "
                              "column5 FROM (VALUES {rows})")
    # package ids by key as one string: rows by newlines, fields by spaces
    # (a hex key and an id hold no white space)
    SELECT_PACKAGE_IDS = ("SELECT GROUP_CONCAT(HEX(key_hash) || ' ' || id, char(10)) "
                          "FROM packages WHERE key_hash IN ({marks})")
    # for each package row, "host installed" pairs of the intervals open
    # since before T
    SELECT_OPEN_INSTALLS_BEFORE = (
        "SELECT package_id, GROUP_CONCAT(host_id || ' ' || installed) FROM installs "
        "WHERE package_id IN ({marks}) AND removed IS NULL AND installed < {p} "
        "GROUP BY package_id")
    # every interval of a package row as one string of "host installed
    # removed" triples (removed empty while open)
    SELECT_PACKAGE_HISTORY_CONCAT = (
        "SELECT package_id, GROUP_CONCAT(host_id || ' ' || installed || ' ' || "
        "IFNULL(removed, '')) FROM installs WHERE package_id IN ({marks}) GROUP BY package_id")
    SELECT_PACKAGE_HISTORY_BETWEEN_CONCAT = (
        "SELECT package_id, GROUP_CONCAT(host_id || ' ' || installed || ' ' || "
        "IFNULL(removed, '')) FROM installs WHERE package_id IN ({marks}) AND installed <= {p} "
        "AND (removed IS NULL OR removed > {p}) GROUP BY package_id")
    SELECT_INSTALLS_INDEXES = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                               "AND tbl_name = 'installs' AND sql IS NOT NULL")
    SELECT_TABLES = "SELECT name, sql FROM sqlite_master WHERE type = 'table' " \
                    "AND name NOT LIKE 'sqlite_%'"
    SELECT_INDEXES = ("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' "
                      "AND name NOT LIKE 'sqlite_autoindex%'")


def create_private(path):
    """Make a missing database file, empty, mode DATABASE_MODE: SQLite
    would make it 0644 (less the umask), readable by every local user,
    and makes its -wal, -shm and -journal files with the mode the
    database file has."""
    if path == ":memory:":
        return  # SQLite's name for a database of no file
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         DATABASE_MODE))
    except FileExistsError:
        pass  # there already (or made by another process just now): left as it is


class SQLiteDialect(Dialect):
    """dialect.Dialect for SQLite: a file, one writer at a time."""

    name = "sqlite"
    placeholder = "?"
    integrity_errors = (sqlite3.IntegrityError,)
    value_errors = (sqlite3.DataError,)  # a string or blob beyond SQLite's limit
    errors = (sqlite3.Error,)  # whatever the database refuses
    compile = staticmethod(compile_sql)
    sql = compile_statements(SQLiteSQL, compile_sql)
    # a writer holds the whole database: a report's lines are read before
    # its transaction unless they are the host's stored block (a peek)
    lock_is_global = True

    def __init__(self, params):
        self.path = params["path"]

    def connect(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise StoreUnavailable("database directory %s does not exist" % directory)
        try:
            create_private(self.path)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: index pages of big queries
        except OSError as exc:  # (create_private's: as SQLite would have failed)
            raise StoreUnavailable("cannot create SQLite database %s: %s"
                                   % (self.path, exc.strerror or exc))
        except sqlite3.Error as exc:
            raise StoreUnavailable("cannot open SQLite database %s: %s" % (self.path, exc))
        return conn

    def release_memory(self, conn):
        """Give back the page cache a large write filled (it is sized for
        the officer's large reads: 64 MiB a connection)."""
        try:
            conn.execute("PRAGMA shrink_memory")
        except sqlite3.Error:  # the report is stored; its memory goes with the connection
            pass

    def begin(self, conn, write):
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def is_retryable(self, exc):
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def error_line(self, exc):
        # (SQLite quotes the statement near a syntax error: left out)
        return re.sub(r'"[^"]*"?', '"..."', first_line(exc))

    def is_unavailable(self, exc):
        # (a database this user may not write is 503 too: the operator's
        # chown brings it back, like a database server coming back)
        return isinstance(exc, sqlite3.OperationalError) and any(
            word in str(exc) for word in ("locked", "unable to open", "disk", "readonly"))

    # -- the database file

    def files(self):
        return [self.path + suffix for suffix in ("", "-wal", "-shm")]

    def exists(self):
        return os.path.exists(self.path)

    def check_writable(self):
        """StoreError unless this user may write the database and its
        directory (where SQLite keeps its -wal and -shm files)."""
        directory = os.path.dirname(os.path.abspath(self.path))
        for path, what in ((self.path, "database"), (directory, "database directory")):
            if os.path.exists(path) and not os.access(path, os.W_OK):
                raise StoreError("%s %s is not writable by this user (uid %d): chown it to the "
                                 "collector's user (was init-db run as root?)"
                                 % (what, path, os.geteuid()))

    def after_create(self):
        """A database made by root belongs to its directory's owner (the
        collector's user, for /var/lib/wlcg-collector): a line saying so,
        or None."""
        directory = os.path.dirname(os.path.abspath(self.path))
        owner = os.stat(directory)
        if os.geteuid() != 0 or owner.st_uid == 0:
            return None
        for path in self.files():
            if os.path.exists(path):
                os.chown(path, owner.st_uid, owner.st_gid)
        return "database %s handed to uid %d, the owner of its directory" % (self.path,
                                                                            owner.st_uid)

    def discard_new(self):
        """Remove what a failed creation left."""
        for path in self.files():
            if os.path.exists(path):
                os.unlink(path)

    def run_script(self, conn, text):
        conn.executescript(text)

    def table_exists(self, cursor, table):
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return cursor.fetchone() is not None

    def describe(self):
        return "sqlite:///%s" % self.path

    def answers(self, statement, timeout):
        # a connection a call: opening one costs little. mode=rw: a
        # database that is gone is not made again, empty
        uri = "file:%s?mode=rw" % urllib.parse.quote(os.path.abspath(self.path))
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=timeout)
            try:
                return len(conn.execute(statement).fetchall()) > 0
            finally:
                conn.close()
        except sqlite3.Error:
            return False

    # -- what is written differently

    def insert_packages(self, cursor, packager, rows):
        """Package rows (name, version, arch, key, source), unless there already."""
        for chunk in chunks(rows, MAX_VARIABLES // 5):
            cursor.execute(self.sql.INSERT_PACKAGES_VALUES.format(
                rows=", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))),
                [packager] + [value for row in chunk for value in row])

    def select_package_ids(self, cursor, keys):
        """{key: id} of the package rows there are of these keys (a
        report's in one statement)."""
        found = {}
        for chunk in chunks(keys, MAX_VARIABLES):
            cursor.execute(self.sql.SELECT_PACKAGE_IDS.format(marks=", ".join("?" * len(chunk))),
                           chunk)
            for key_hex, package_id in split_concatenated(cursor.fetchone()[0]):
                found[bytes.fromhex(key_hex)] = int(package_id)
        return found

    def insert_installs(self, cursor, host_id, package_ids, installed):
        for chunk in chunks(package_ids, MAX_VARIABLES):
            cursor.execute(self.sql.INSERT_INSTALLS_VALUES.format(
                rows=", ".join(["(?)"] * len(chunk))), [host_id, installed] + chunk)

    def hosts_at(self, cursor, at, site):
        """[HostAt] of the hosts known at `at` (of one site, if given)."""
        where, params = ("", (at,)) if site is None else (" AND site = ?", (at, site))
        cursor.execute(self.sql.SELECT_HOSTS_AT.format(where=where), params)
        return list(map(maker(HostAt), cursor.fetchall()))

    def set_reports(self, cursor):
        """{host id: set_report or 0} of the hosts known now."""
        cursor.execute(self.sql.SELECT_SET_REPORTS)
        return {host_id: set_report or 0 for host_id, set_report in cursor.fetchall()}

    def holder_bitmaps(self, cursor, package_ids, at):
        """{package id: bitmap of the ids of the hosts that held it at
        `at`}: SQLite has no bitwise aggregate, so the ids come as one
        string a package row and range."""
        found = {}
        for package_id, ids in holder_rows(cursor, self.sql.SELECT_OPEN_HOLDERS,
                                           self.sql.SELECT_PAST_HOLDERS, package_ids, at,
                                           self.placeholder):
            found.setdefault(package_id, []).append(ids)
        return {package_id: ids_to_bitmap(",".join(parts)) for package_id, parts in found.items()}

    # -- bulk loads

    def bulk_begin(self, cursor):
        """Ready a bulk load of installs: a bare table fills much faster;
        returns what bulk_end needs to put the indexes back."""
        cursor.execute("PRAGMA cache_size = -1000000")  # the index pages stay in memory
        cursor.execute(self.sql.SELECT_INSTALLS_INDEXES)
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute("DROP INDEX %s" % name)
        return indexes

    def bulk_end(self, cursor, indexes):
        for _, statement in indexes:
            cursor.execute(statement)
        cursor.execute("PRAGMA cache_size = -65536")

    # -- the schema as it is

    def storage_bytes(self, conn):
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        return pages * conn.execute("PRAGMA page_size").fetchone()[0]

    def schema_shape(self, cursor):
        """{table: indexes, table columns: ..., table foreign keys: ...}: two
        databases with the same shape have the same schema."""
        cursor.execute(self.sql.SELECT_INDEXES)
        shape = {}
        for table, index in cursor.fetchall():
            cursor.execute("PRAGMA index_info(%s)" % _identifier(index))
            shape.setdefault(table, []).append((index, tuple(r[2] for r in cursor.fetchall())))
        shape = {table: sorted(indexes) for table, indexes in shape.items()}
        cursor.execute(self.sql.SELECT_TABLES)
        for table, sql in cursor.fetchall():
            name = _identifier(table)
            # columns: name, type, not null, position in the primary key
            cursor.execute("PRAGMA table_info(%s)" % name)
            shape[table + " columns"] = [(r[1], r[2], r[3], r[5]) for r in cursor.fetchall()]
            cursor.execute("PRAGMA foreign_key_list(%s)" % name)
            shape[table + " foreign keys"] = sorted(r[2:5] for r in cursor.fetchall())
            shape[table + " without rowid"] = "WITHOUT ROWID" in sql
        return shape


def _identifier(name):
    """A table or index name read from sqlite_master, checked before it is
    put in a PRAGMA (which takes no parameters)."""
    if not name.replace("_", "").isalnum():
        raise ValueError("unexpected schema object name %r" % name)
    return name

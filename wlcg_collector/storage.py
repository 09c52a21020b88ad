"""Storage: hosts, shared package rows, install intervals and the report
audit trail, on SQLite (standard library) or MySQL/MariaDB (pymysql).

The store grows with changes, not with reports: an unchanged package set
costs one report row and one host update; a changed one closes and opens
only the intervals that differ. Each report is one transaction. Writers
serialise per host (SELECT ... FOR UPDATE on MySQL, the database write lock
on SQLite), never through a process-wide lock, so any number of collector
processes may ingest at once; deadlocks and lock timeouts are retried.
"""

import hashlib
import json
import os
import random
import re
import sqlite3
import sys
import threading
import time
import urllib.parse
from collections import defaultdict

SCHEMA_VERSION = 3
CHUNK = 500
TRANSACTION_ATTEMPTS = 5
# package ids a Store keeps in memory (about 300 bytes each)
PACKAGE_CACHE_LIMIT = 100000

# ---------------------------------------------------------------- SQL
# Written with '?' placeholders; the MySQL dialect turns them into '%s'.

SELECT_SCHEMA_VERSION = "SELECT MAX(version) FROM schema_version"
INSERT_HOST = ("INSERT INTO hosts (site, name, packager, facts, package_count, first_report, "
               "last_report, last_received) VALUES (?, ?, ?, '{}', 0, ?, -1, ?)")
SELECT_HOST_FOR_UPDATE = ("SELECT id, set_hash, last_report, first_report FROM hosts "
                          "WHERE site = ? AND name = ?")
# A host's open package ids, and package ids by key, come back as one string
# (ids joined by commas; rows joined by newlines, fields by spaces: names,
# versions and arches hold no white space): a driver builds one row instead
# of thousands.
SELECT_OPEN_PACKAGE_IDS = ("SELECT GROUP_CONCAT(package_id) FROM installs "
                           "WHERE host_id = ? AND removed IS NULL")
SELECT_PACKAGE_IDS = ("SELECT GROUP_CONCAT({fields} SEPARATOR '\n') FROM packages "
                      "WHERE key_hash IN ({marks})")
PACKAGE_ID_FIELDS = ("HEX(key_hash)", "id")
INSERT_PACKAGE = ("INSERT INTO packages (packager, name, version, arch, key_hash) "
                  "VALUES (?, ?, ?, ?, ?)")
INSERT_INSTALL = "INSERT INTO installs (host_id, package_id, installed) VALUES (?, ?, ?)"
# Where the server has JSON_TABLE (MariaDB 10.6, MySQL 8.0), many rows are
# one statement with one JSON parameter: a driver in Python escapes one
# string, not thousands of values. Keys travel as hex.
INSERT_INSTALLS_JSON = ("INSERT INTO installs (host_id, package_id, installed) SELECT ?, j.id, ? "
                        "FROM JSON_TABLE(?, '$[*]' COLUMNS (id INT UNSIGNED PATH '$')) AS j")
SELECT_PACKAGE_IDS_JSON = (
    "SELECT GROUP_CONCAT(CONCAT_WS(' ', j.k, p.id) SEPARATOR '\n') "
    "FROM JSON_TABLE(?, '$[*]' COLUMNS (k CHAR(64) PATH '$')) AS j "
    "JOIN packages p ON p.key_hash = UNHEX(j.k)")
INSERT_PACKAGES_JSON = (
    "INSERT INTO packages (packager, name, version, arch, key_hash) "
    "SELECT ?, j.name, j.version, j.arch, UNHEX(j.k) FROM JSON_TABLE(?, '$[*]' COLUMNS ("
    "name VARCHAR(200) PATH '$[0]', version VARCHAR(200) PATH '$[1]', "
    "arch VARCHAR(32) PATH '$[2]', k CHAR(64) PATH '$[3]')) AS j "
    "ON DUPLICATE KEY UPDATE id = id")
# a host has at most one open interval of a package row
CLOSE_INSTALLS = ("UPDATE installs SET removed = ? WHERE host_id = ? AND removed IS NULL "
                  "AND package_id IN ({marks})")
DELETE_OPENED_SINCE = ("DELETE FROM installs WHERE host_id = ? AND removed IS NULL "
                       "AND installed >= ? AND package_id IN ({marks})")
INSERT_REPORT = ("INSERT INTO reports (host_id, digest, received, collected, sender, packages, "
                 "changed, applied) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
UPDATE_HOST_STATE = ("UPDATE hosts SET packager = ?, system = ?, kernel = ?, arch = ?, facts = ?, "
                     "set_hash = ?, package_count = ?, last_report = ?, last_received = ? "
                     "WHERE id = ?")
UPDATE_HOST_FIRST_REPORT = "UPDATE hosts SET first_report = ? WHERE id = ? AND first_report > ?"

SELECT_SITES = ("SELECT site, COUNT(*), MAX(last_report) FROM hosts WHERE last_report >= 0 "
                "GROUP BY site ORDER BY site")
SELECT_HOSTS = ("SELECT site, name, system, packager, last_report, package_count FROM hosts "
                "WHERE last_report >= 0{where} ORDER BY site, name")
SELECT_HOSTS_NAMED = "SELECT id, site, name FROM hosts WHERE name = ?{where} ORDER BY site"
SELECT_SITE_EXISTS = "SELECT 1 FROM hosts WHERE site = ? LIMIT 1"
SELECT_STATE_NOW = ("SELECT p.name, p.version, p.arch FROM installs i "
                    "JOIN packages p ON p.id = i.package_id "
                    "WHERE i.host_id = ? AND i.removed IS NULL ORDER BY p.name, p.arch, p.version")
SELECT_STATE_AT = ("SELECT p.name, p.version, p.arch FROM installs i "
                   "JOIN packages p ON p.id = i.package_id "
                   "WHERE i.host_id = ? AND i.installed <= ? "
                   "AND (i.removed IS NULL OR i.removed > ?) ORDER BY p.name, p.arch, p.version")
SELECT_INTERVALS = ("SELECT p.name, p.version, p.arch, i.installed, i.removed FROM installs i "
                    "JOIN packages p ON p.id = i.package_id WHERE i.host_id = ? "
                    "AND (i.removed IS NULL OR i.removed >= ?)")
SELECT_HOST_PACKAGER = "SELECT packager FROM hosts WHERE id = ?"
SELECT_REPORTS = ("SELECT received, collected, sender, packages, changed FROM reports "
                  "WHERE host_id = ? ORDER BY received, id")
COUNT_ROWS = "SELECT COUNT(*) FROM {table}"

SELECT_BASELINE_REVISION = "SELECT MAX(revision) FROM baselines WHERE name = ?"
INSERT_BASELINE = "INSERT INTO baselines (name, revision, created, text) VALUES (?, ?, ?, ?)"
SELECT_BASELINES = ("SELECT b.name, b.revision, b.created, c.revisions FROM baselines b JOIN "
                    "(SELECT name, MAX(revision) AS latest, COUNT(*) AS revisions "
                    "FROM baselines GROUP BY name) c "
                    "ON c.name = b.name AND c.latest = b.revision ORDER BY b.name")
SELECT_BASELINE = ("SELECT revision, created, text FROM baselines WHERE name = ? "
                   "AND revision = ?")
SELECT_HOSTS_AT = ("SELECT id, site, name, packager, system FROM hosts "
                   "WHERE last_report >= 0 AND first_report <= ?{where} ORDER BY site, name")
# The same as one string for PyMySQL, which builds 10,000 rows slowly. Fields
# are split by US, rows by RS: header values hold no control character, and
# a system is written "=system" so that NULL stays apart from "".
SELECT_HOSTS_AT_CONCAT = (
    "SELECT GROUP_CONCAT(CONCAT_WS('\x1f', id, site, name, packager, "
    "IFNULL(CONCAT('=', system), '')) ORDER BY site, name SEPARATOR '\x1e') FROM hosts "
    "WHERE last_report >= 0 AND first_report <= ?{where}")
SELECT_PACKAGES_NAMED = "SELECT id, packager, name, version, arch FROM packages WHERE name IN ({marks})"
# The intervals of package rows at a time or over a span are two ranges of
# installs_package: the open ones, and the ones closed after the start.
# (SQLite does not make two ranges of "removed IS NULL OR removed > ?".)
# Who had which package at T: one string of host ids per package and range,
# far fewer rows for the driver to build.
SELECT_HOSTS_WITH_PACKAGES = (
    "SELECT package_id, GROUP_CONCAT(host_id) FROM installs WHERE package_id IN ({marks}) "
    "AND {removed} AND installed <= ? GROUP BY package_id")
OPEN = "removed IS NULL"
CLOSED_AFTER = "removed > ?"
# (no join: the package rows are known, and a planner with stale statistics
# would start from packages)
SELECT_PACKAGE_INTERVALS = (
    "SELECT host_id, package_id, installed, removed FROM installs "
    "WHERE package_id IN ({marks}) AND {removed} AND installed <= ?")
SELECT_HOST_SITES = "SELECT id, site, packager FROM hosts WHERE last_report >= 0{where}"
# Every change of a host's set came with a report marked changed.
SELECT_CHANGED_HOSTS = (
    "SELECT DISTINCT r.host_id FROM reports r JOIN hosts h ON h.id = r.host_id "
    "WHERE r.collected >= ? AND r.changed = 1{where}")
# a package changed on a host since T: an interval of it opened since T and
# still open, or one closed since T
SELECT_HOSTS_CHANGING_PACKAGE = (
    "SELECT i.host_id FROM installs i{join} WHERE i.package_id IN ({marks}) "
    "AND i.removed IS NULL AND i.installed >= ?{where} "
    "UNION SELECT i.host_id FROM installs i{join} WHERE i.package_id IN ({marks}) "
    "AND i.removed >= ?{where}")
# The intervals opened or closed since T (no join with packages: their rows
# are read once, apart), then, for the (host, name, arch) where one version
# replaced another, the intervals of other versions open since before T:
# they tell an upgrade from a second kernel installed beside the first.
SELECT_CHANGED_INSTALLS = (
    "SELECT host_id, package_id, installed, removed FROM installs WHERE host_id IN ({marks}) "
    "AND removed IS NULL AND installed >= ? "
    "UNION ALL SELECT host_id, package_id, installed, removed FROM installs "
    "WHERE host_id IN ({marks}) AND removed >= ?")
SELECT_KEPT_INSTALLS = (
    "SELECT package_id, GROUP_CONCAT({fields}) FROM installs WHERE package_id IN ({marks}) "
    "AND removed IS NULL AND installed < ? GROUP BY package_id")
SELECT_PACKAGES_BY_ID = "SELECT id, packager, name, version, arch FROM packages WHERE id IN ({marks})"
SELECT_HOST_NAMES = "SELECT id, site, name, packager FROM hosts WHERE id IN ({marks})"


class StoreError(Exception):
    """A storage problem that is not the database being away."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is overloaded: try again later."""


class UnknownHost(StoreError):
    pass


class UnknownBaseline(StoreError):
    pass


class IngestResult(object):
    """What storing one report did."""

    def __init__(self, outcome, changes=0):
        self.outcome = outcome  # "duplicate", "older", "unchanged" or "changed"
        self.changes = changes  # intervals opened + closed

    def __repr__(self):
        return "IngestResult(%r, %d)" % (self.outcome, self.changes)


# ---------------------------------------------------------------- URLs

def parse_database_url(url):
    """{'kind': 'sqlite', 'path': ...} or {'kind': 'mysql', host, port, ...}.

    sqlite:///rel.db is relative to the working directory, sqlite:////abs.db
    absolute; mysql://user:password@host:port/database."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise ValueError("sqlite URL %r names no file" % url)
        return {"kind": "sqlite", "path": path}
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("mysql", "mariadb", "mysql+pymysql"):
        database = parts.path.lstrip("/")
        if not parts.hostname or not database or "/" in database:
            raise ValueError("expected mysql://user:password@host:port/database, not %r"
                             % _redact(url))
        try:
            port = parts.port or 3306
        except ValueError:
            raise ValueError("bad port in %r" % _redact(url))
        return {"kind": "mysql", "host": parts.hostname, "port": port,
                "user": urllib.parse.unquote(parts.username or ""),
                "password": urllib.parse.unquote(parts.password or ""),
                "database": urllib.parse.unquote(database)}
    raise ValueError("unsupported database URL %r (sqlite:///PATH or "
                     "mysql://user:password@host:port/db)" % _redact(url))


def _redact(url):
    """The URL without its password, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def sql_dir():
    """Where the schema files are: a checkout, a pip install or the RPM."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("WLCG_COLLECTOR_SQL"),
                  os.path.join(os.path.dirname(here), "sql"),
                  os.path.join(sys.prefix, "share", "wlcg-collector", "sql"),
                  "/usr/share/wlcg-collector/sql"]
    for candidate in candidates:
        if candidate and os.path.isfile(os.path.join(candidate, "sqlite.sql")):
            return candidate
    raise StoreError("schema files not found (looked in %s)"
                     % ", ".join(c for c in candidates if c))


def package_key(packager, name, version, arch):
    return hashlib.sha256("\0".join((packager, name, version, arch)).encode("utf-8")).digest()


def server_has_json_table(version):
    """Whether a server of this version string (as the handshake gives it,
    e.g. '5.5.5-10.11.6-MariaDB-0+deb12u1' or '8.0.36') has JSON_TABLE:
    MariaDB from 10.6, MySQL from 8.0.4."""
    mariadb = re.search(r"(\d+)\.(\d+)\.(\d+)-MariaDB", version)
    if mariadb:
        return tuple(map(int, mariadb.groups())) >= (10, 6, 0)
    mysql = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return bool(mysql) and tuple(map(int, mysql.groups())) >= (8, 0, 4)


def _json(value):
    return json.dumps(value, separators=(",", ":"))


def _chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---------------------------------------------------------------- dialects

class SQLiteDialect(object):
    name = "sqlite"
    integrity_errors = (sqlite3.IntegrityError,)
    json_table = False  # its executemany costs little: no need

    def __init__(self, params):
        self.path = params["path"]

    def connect(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise StoreUnavailable("database directory %s does not exist" % directory)
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: index pages of big queries
        except sqlite3.Error as exc:
            raise StoreUnavailable("cannot open SQLite database %s: %s" % (self.path, exc))
        return conn

    def sql(self, text):
        return text

    def concat(self, fields):
        return " || ' ' || ".join(fields)

    def group_concat(self, text):
        # SQLite writes GROUP_CONCAT(x, separator)
        return text.replace(" SEPARATOR '\n')", ", char(10))")

    def insert_ignore(self, text):
        return text.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)

    def for_update(self, text):
        return text  # BEGIN IMMEDIATE already holds the database write lock

    def begin(self, conn, write):
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def is_retryable(self, exc):
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def is_unavailable(self, exc):
        return isinstance(exc, sqlite3.OperationalError) and (
            "locked" in str(exc) or "unable to open" in str(exc) or "disk" in str(exc))

    def run_script(self, conn, text):
        conn.executescript(text)

    def table_exists(self, cursor, table):
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return cursor.fetchone() is not None

    def describe(self):
        return "sqlite:///%s" % self.path


class MySQLDialect(object):
    name = "mysql"
    # server error codes: deadlock, lock wait timeout
    RETRYABLE = (1213, 1205)
    # client error codes: can't connect, gone away, lost connection, ... and
    # server ones meaning "not now": too many connections, read-only, shutdown
    UNAVAILABLE = (2002, 2003, 2005, 2006, 2013, 2055, 1040, 1053, 1290, 1836)

    def __init__(self, params):
        import pymysql  # only MySQL users need it
        self.pymysql = pymysql
        self.params = params
        self.integrity_errors = (pymysql.err.IntegrityError,)
        self.json_table = None  # known once connected

    def connect(self):
        p = self.params
        try:
            conn = self.pymysql.connect(
                host=p["host"], port=p["port"], user=p["user"], password=p["password"],
                database=p["database"], charset="utf8mb4", autocommit=True,
                connect_timeout=5, read_timeout=120, write_timeout=120)
            with conn.cursor() as cursor:
                # READ COMMITTED: after INSERT IGNORE a plain SELECT must see the
                # row another transaction committed meanwhile.
                cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cursor.execute("SET SESSION innodb_lock_wait_timeout = 20")
                cursor.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
                               "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'")
                cursor.execute("SET time_zone = '+00:00'")
                cursor.execute("SET SESSION group_concat_max_len = 1073741824")
            self.json_table = server_has_json_table(conn.get_server_info())
        except self.pymysql.err.MySQLError as exc:
            raise StoreUnavailable("cannot connect to MySQL %s:%s/%s: %s" % (
                p["host"], p["port"], p["database"], _mysql_message(exc)))
        return conn

    def sql(self, text):
        return text.replace("?", "%s")

    def concat(self, fields):
        return "CONCAT_WS(' ', %s)" % ", ".join(fields)

    def group_concat(self, text):
        return text

    def insert_ignore(self, text):
        return self.sql(text) + " ON DUPLICATE KEY UPDATE id = id"

    def for_update(self, text):
        return self.sql(text) + " FOR UPDATE"

    def begin(self, conn, write):
        conn.begin()

    def _code(self, exc):
        if isinstance(exc, self.pymysql.err.MySQLError) and exc.args:
            return exc.args[0]
        return None

    def is_retryable(self, exc):
        return self._code(exc) in self.RETRYABLE

    def is_unavailable(self, exc):
        if isinstance(exc, (self.pymysql.err.InterfaceError, ConnectionError, OSError)):
            return True
        return self._code(exc) in self.UNAVAILABLE

    def run_script(self, conn, text):
        statements = []
        for line in text.splitlines():
            if line.strip().startswith("--"):
                continue
            statements.append(line)
        with conn.cursor() as cursor:
            for statement in "\n".join(statements).split(";"):
                if statement.strip():
                    cursor.execute(statement)

    def table_exists(self, cursor, table):
        cursor.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() "
                       "AND table_name = %s", (table,))
        return cursor.fetchone() is not None

    def describe(self):
        p = self.params
        return "mysql://%s@%s:%s/%s" % (p["user"], p["host"], p["port"], p["database"])


def _mysql_message(exc):
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)


# ---------------------------------------------------------------- the store

def open_store(url, package_cache=PACKAGE_CACHE_LIMIT):
    """A Store for the database URL; package_cache: how many package ids
    it may keep in memory (0: none)."""
    params = parse_database_url(url)
    dialect = SQLiteDialect(params) if params["kind"] == "sqlite" else MySQLDialect(params)
    return Store(dialect, package_cache)


class PackageIds(object):
    """Package row ids by (name, version, arch), per packager, kept by one
    Store for all its threads. A package row never changes and is never
    deleted, so an id read from committed data stays right; ids found or
    made inside a transaction are added only once it has committed."""

    def __init__(self, limit=PACKAGE_CACHE_LIMIT):
        self.limit = limit
        self._tables = {}

    def table(self, packager):
        """{(name, version, arch): id}: a reader may keep it, it is replaced,
        never emptied, when full."""
        return self._tables.get(packager, {})

    def add(self, packager, ids):
        if len(ids) > self.limit:
            return
        table = self._tables.get(packager, {})
        if len(table) + len(ids) > self.limit:
            table = {}  # simplest bound: start again when full
        table.update(ids)
        self._tables[packager] = table

    def __len__(self):
        return sum(len(table) for table in self._tables.values())


class Store(object):
    """The storage interface the collector, the CLI and the tests use."""

    def __init__(self, dialect, package_cache=PACKAGE_CACHE_LIMIT):
        self.dialect = dialect
        self._local = threading.local()
        self.package_ids = PackageIds(package_cache)

    # -- connections and transactions

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.dialect.connect()
            self._local.conn = conn
        return conn

    def _drop_connection(self):
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing more to do with it
                pass

    def close(self):
        self._drop_connection()

    def transaction(self, work, write=True):
        """Run work(cursor) in one transaction; retry deadlocks and lock
        timeouts; StoreUnavailable when the database cannot be reached."""
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            conn = self._connection()
            try:
                self.dialect.begin(conn, write)
                cursor = conn.cursor()
                try:
                    result = work(cursor)
                finally:
                    cursor.close()
                conn.commit()
                return result
            except Exception as exc:
                try:
                    conn.rollback()
                except Exception:  # the connection is gone; it is dropped below
                    pass
                if self.dialect.is_retryable(exc) and attempt < TRANSACTION_ATTEMPTS:
                    time.sleep(random.uniform(0.01, 0.05) * attempt)
                    continue
                if self.dialect.is_unavailable(exc):
                    self._drop_connection()
                    raise StoreUnavailable("database %s: %s" % (self.dialect.describe(), exc))
                raise

    def _execute(self, cursor, sql, params=()):
        cursor.execute(self.dialect.sql(sql), params)
        return cursor

    # -- schema

    def schema_version(self):
        def work(cursor):
            if not self.dialect.table_exists(cursor, "schema_version"):
                return None
            self._execute(cursor, SELECT_SCHEMA_VERSION)
            return cursor.fetchone()[0]
        return self.transaction(work, write=False)

    def init_schema(self):
        """Create the schema, or upgrade it to SCHEMA_VERSION; returns
        (old version or None, new version)."""
        current = self.schema_version()
        directory = sql_dir()
        if current is not None and current > SCHEMA_VERSION:
            raise StoreError("database schema version %d is newer than this collector's (%d): "
                             "upgrade the collector" % (current, SCHEMA_VERSION))
        conn = self._connection()
        if current is None:
            with open(os.path.join(directory, "%s.sql" % self.dialect.name)) as handle:
                self.dialect.run_script(conn, handle.read())
        else:
            for version in range(current, SCHEMA_VERSION):
                name = os.path.join(directory, "upgrades", self.dialect.name,
                                    "%d-%d.sql" % (version, version + 1))
                with open(name) as handle:
                    self.dialect.run_script(conn, handle.read())
        return current, self.schema_version()

    def check_schema(self):
        version = self.schema_version()
        if version is None:
            raise StoreError("database has no schema: run wlcg-collector init-db")
        if version != SCHEMA_VERSION:
            raise StoreError("database schema version is %s, this collector needs %d: run "
                             "wlcg-collector init-db" % (version, SCHEMA_VERSION))

    # -- ingest

    def store_report(self, report, received, sender, clock_skew=300):
        """Store one validated report (see report.Report) in one transaction."""
        collected = report.ts
        if collected is None or collected > received + clock_skew:
            collected = received
        facts = json.dumps(report.headers, sort_keys=True)
        learned = {}

        def work(cursor):
            learned.clear()  # from an attempt rolled back
            return self._store(cursor, report, received, collected, sender, facts, learned)
        try:
            result = self.transaction(work)
        except _Duplicate:
            # the same report, committed by another process meanwhile
            return IngestResult("duplicate")
        if learned:
            self.package_ids.add(report.packager, learned)
        return result

    def _store(self, cursor, report, received, collected, sender, facts, learned):
        # A report already stored is caught by the unique digest when its row
        # is inserted (rolling back whatever was done): one query less for
        # every report that is not a retry.
        select_host = self.dialect.for_update(SELECT_HOST_FOR_UPDATE)
        cursor.execute(select_host, (report.site, report.host))
        row = cursor.fetchone()
        if row is None:
            cursor.execute(self.dialect.insert_ignore(INSERT_HOST),
                           (report.site, report.host, report.packager, collected, received))
            cursor.execute(select_host, (report.site, report.host))
            row = cursor.fetchone()
        host_id, set_hash, last_report, first_report = row
        if set_hash is not None:
            set_hash = bytes(set_hash)

        def add_report(changed, applied):
            try:
                self._execute(cursor, INSERT_REPORT, (
                    host_id, report.digest, received, collected, sender[:64],
                    len(report.packages), int(changed), int(applied)))
            except self.dialect.integrity_errors:
                raise _Duplicate()

        if collected < last_report:
            # older than what we know: on the record, but never rewrites
            add_report(False, False)
            self._execute(cursor, UPDATE_HOST_FIRST_REPORT, (collected, host_id, collected))
            return IngestResult("older")
        if set_hash == report.set_hash:
            add_report(False, True)
            self._update_host(cursor, host_id, report, facts, collected, received)
            return IngestResult("unchanged")
        changes = self._apply_changes(cursor, host_id, report, collected,
                                      set_hash is not None, last_report, learned)
        add_report(True, True)
        self._update_host(cursor, host_id, report, facts, collected, received)
        return IngestResult("changed", changes)

    def _update_host(self, cursor, host_id, report, facts, collected, received):
        headers = report.headers
        self._execute(cursor, UPDATE_HOST_STATE, (
            report.packager, headers.get("system"), headers.get("kernel"), headers.get("arch"),
            facts, report.set_hash, len(report.packages), collected, received, host_id))

    def _apply_changes(self, cursor, host_id, report, collected, has_set, last_report, learned):
        """Close the intervals of the packages gone, open those of the new
        ones; the sets compare as package ids."""
        wanted = set(self._package_ids(cursor, report.packager, report.packages, learned))
        # a host's first applied report finds nothing open
        current = self._id_set(cursor, SELECT_OPEN_PACKAGE_IDS, (host_id,)) if has_set else set()
        gone = sorted(current - wanted)
        new = sorted(wanted - current)  # in key order: the rows go in one after another
        for chunk in _chunks(gone):
            marks = ", ".join("?" * len(chunk))
            if collected <= last_report:
                # opened by a report of this same time: an interval that would
                # end where it began never existed
                self._execute(cursor, DELETE_OPENED_SINCE.format(marks=marks),
                              [host_id, collected] + chunk)
            self._execute(cursor, CLOSE_INSTALLS.format(marks=marks),
                          [collected, host_id] + chunk)
        if new:
            self._insert_installs(cursor, host_id, new, collected)
        return len(gone) + len(new)

    def _insert_installs(self, cursor, host_id, package_ids, installed):
        if self.dialect.json_table:
            self._execute(cursor, INSERT_INSTALLS_JSON, (host_id, installed, _json(package_ids)))
        else:
            cursor.executemany(self.dialect.sql(INSERT_INSTALL),
                               [(host_id, i, installed) for i in package_ids])

    def _package_ids(self, cursor, packager, packages, learned):
        """The package row ids of `packages`, from memory where known, else
        found or created (and put in `learned`)."""
        known = self.package_ids.table(packager)
        missing = [p for p in packages if p not in known]
        if missing:
            keys = {package_key(packager, *p): p for p in missing}
            ids = self._select_package_ids(cursor, keys)
            absent = [k for k in keys if k not in ids]
            if absent:
                self._insert_packages(cursor, packager, [keys[k] + (k,) for k in absent])
                ids.update(self._select_package_ids(cursor, absent))
            if len(ids) != len(keys):
                raise StoreError("package rows missing after insert")
            learned.update((keys[k], ids[k]) for k in keys)
            return [learned[p] if p in learned else known[p] for p in packages]
        return [known[p] for p in packages]

    def _insert_packages(self, cursor, packager, rows):
        """Package rows (name, version, arch, key), unless there already."""
        if self.dialect.json_table:
            self._execute(cursor, INSERT_PACKAGES_JSON, (packager, _json(
                [row[:3] + (row[3].hex(),) for row in rows])))
        else:
            cursor.executemany(self.dialect.insert_ignore(INSERT_PACKAGE),
                               [(packager,) + row for row in rows])

    def _select_package_ids(self, cursor, keys):
        """{key: id} of the package rows there are of these keys."""
        found = {}
        if self.dialect.json_table:
            for key_hex, package_id in self._concatenated(
                    cursor, SELECT_PACKAGE_IDS_JSON, (_json([k.hex() for k in keys]),)):
                found[bytes.fromhex(key_hex)] = int(package_id)
            return found
        fields = self.dialect.concat(PACKAGE_ID_FIELDS)
        for chunk in _chunks(keys):
            sql = SELECT_PACKAGE_IDS.format(fields=fields, marks=", ".join("?" * len(chunk)))
            for key_hex, package_id in self._concatenated(cursor, sql, chunk):
                found[bytes.fromhex(key_hex)] = int(package_id)
        return found

    def _concatenated(self, cursor, sql, params):
        """The rows of a GROUP_CONCAT query, as lists of fields."""
        self._execute(cursor, self.dialect.group_concat(sql), params)
        text = cursor.fetchone()[0]
        if not text:
            return []
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return [line.split(" ") for line in text.split("\n")]

    def _id_set(self, cursor, sql, params):
        """The ids a GROUP_CONCAT(id) query lists, as a set of ints."""
        self._execute(cursor, sql, params)
        text = cursor.fetchone()[0]
        if not text:
            return set()
        if isinstance(text, bytes):
            text = text.decode("ascii")
        return set(map(int, text.split(",")))

    # -- reads

    def _read(self, sql, params=()):
        def work(cursor):
            self._execute(cursor, sql, params)
            return [tuple(row) for row in cursor.fetchall()]
        return self.transaction(work, write=False)

    def sites(self):
        """[(site, hosts, last report)]"""
        return self._read(SELECT_SITES)

    def hosts(self, site=None, reported_before=None):
        """[(site, host, system, packager, last_report, packages)]"""
        where, params = "", []
        if site is not None:
            where += " AND site = ?"
            params.append(site)
        if reported_before is not None:
            where += " AND last_report < ?"
            params.append(reported_before)
        return self._read(SELECT_HOSTS.format(where=where), params)

    def find_host(self, name, site=None):
        """The host id; UnknownHost with a one-line reason if there is not
        exactly one such host."""
        where, params = "", [name.lower()]
        if site is not None:
            if not self._read(SELECT_SITE_EXISTS, (site,)):
                raise UnknownHost("unknown site %r" % site)
            where, params = " AND site = ?", params + [site]
        rows = self._read(SELECT_HOSTS_NAMED.format(where=where), params)
        if not rows:
            raise UnknownHost("unknown host %r%s" % (name, " at site %r" % site if site else ""))
        if len(rows) > 1:
            raise UnknownHost("host %r is known at several sites (%s): give --site"
                              % (name, ", ".join(r[1] for r in rows)))
        return rows[0][0]

    def state(self, host_id, at=None):
        """[(name, version, arch)] installed at time `at` (None: now)."""
        if at is None:
            return self._read(SELECT_STATE_NOW, (host_id,))
        return self._read(SELECT_STATE_AT, (host_id, at, at))

    def intervals(self, host_id, since=None):
        """(packager, [(name, version, arch, installed, removed)]) of a host,
        those still open or closed at or after `since`."""
        rows = self._read(SELECT_INTERVALS, (host_id, since if since is not None else -1))
        packager = self._read(SELECT_HOST_PACKAGER, (host_id,))[0][0]
        return packager, rows

    def reports(self, host_id):
        """[(received, collected, sender, packages, changed)]"""
        return self._read(SELECT_REPORTS, (host_id,))

    # -- baselines

    def add_baseline(self, name, text, created):
        """Store a new revision of baseline `name`; returns the revision."""
        def work(cursor):
            self._execute(cursor, SELECT_BASELINE_REVISION, (name,))
            revision = (cursor.fetchone()[0] or 0) + 1
            self._execute(cursor, INSERT_BASELINE, (name, revision, created, text))
            return revision
        try:
            return self.transaction(work)
        except self.dialect.integrity_errors:
            raise StoreError("baseline %r was changed at the same time: try again" % name)

    def baselines(self):
        """[(name, latest revision, its creation time, revisions)]"""
        return self._read(SELECT_BASELINES)

    def baseline(self, name, revision=None):
        """(revision, created, text) of a stored baseline (default: latest)."""
        if revision is None:
            revision = self._read(SELECT_BASELINE_REVISION, (name,))[0][0]
        rows = self._read(SELECT_BASELINE, (name, revision)) if revision else []
        if not rows:
            raise UnknownBaseline("unknown baseline %r%s" % (
                name, " revision %s" % revision if revision else ""))
        return rows[0]

    # -- fleet queries for the officer tools

    @staticmethod
    def _site_filter(site, column="h.site"):
        if site is None:
            return "", []
        return " AND %s = ?" % column, [site]

    def hosts_at(self, at, site=None):
        """[(id, site, name, packager, system)] of the hosts known at `at`."""
        where, params = self._site_filter(site, "site")
        if self.dialect.name == "sqlite":
            return self._read(SELECT_HOSTS_AT.format(where=where), [at] + params)
        text = self._read(SELECT_HOSTS_AT_CONCAT.format(where=where), [at] + params)[0][0]
        if not text:
            return []
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        hosts = []
        for row in text.split("\x1e"):
            host_id, site_name, name, packager, system = row.split("\x1f")
            hosts.append((int(host_id), site_name, name, packager, system[1:] if system else None))
        return hosts

    def packages_named(self, names):
        """{package id: (packager, name, version, arch)} of every package row
        called one of `names`."""
        found = {}
        for chunk in _chunks(sorted(names)):
            for row in self._read(SELECT_PACKAGES_NAMED.format(
                    marks=", ".join("?" * len(chunk))), chunk):
                found[row[0]] = row[1:]
        return found

    def hosts_with_packages(self, package_ids, at):
        """{package id: [host ids as decimal strings]}: who had each package
        installed at `at`, read in one transaction. (Half a million ids are
        left as the strings the database gave: a caller that only compares
        them need not convert each one.)"""
        def work(cursor):
            found = {}
            for chunk in _chunks(package_ids):
                marks = ", ".join("?" * len(chunk))
                for removed, extra in ((OPEN, []), (CLOSED_AFTER, [at])):
                    self._execute(cursor, SELECT_HOSTS_WITH_PACKAGES.format(
                        marks=marks, removed=removed), chunk + extra + [at])
                    for package_id, ids in cursor.fetchall():
                        if isinstance(ids, bytes):
                            ids = ids.decode("ascii")
                        found.setdefault(package_id, []).extend(ids.split(","))
            return found
        return self.transaction(work, write=False)

    def package_intervals(self, name, start, end, site=None):
        """[(host id, site, packager, version, arch, installed, removed)] of
        package `name` on any host at some time in [start, end]."""
        where, extra = self._site_filter(site, "site")
        hosts = {row[0]: row[1:] for row in self._read(SELECT_HOST_SITES.format(where=where),
                                                       extra)}
        packages = self.packages_named([name])
        rows = []
        for chunk in _chunks(sorted(packages)):
            marks = ", ".join("?" * len(chunk))
            for removed, since in ((OPEN, []), (CLOSED_AFTER, [start])):
                for host_id, package_id, installed, gone in self._read(
                        SELECT_PACKAGE_INTERVALS.format(marks=marks, removed=removed),
                        chunk + since + [end]):
                    if host_id in hosts:
                        _, _, version, arch = packages[package_id]
                        rows.append((host_id,) + hosts[host_id] + (version, arch, installed,
                                                                     gone))
        return rows

    def changed_host_intervals(self, since, site=None, package=None):
        """({host id: (site, name, packager)}, [(host id, name, version, arch,
        installed, removed)]) for the hosts with a change at or after `since`:
        their intervals still open or closed since then."""
        where, extra = self._site_filter(site)
        if package is None:
            host_ids = [row[0] for row in self._read(
                SELECT_CHANGED_HOSTS.format(where=where), [since] + extra)]
        else:
            host_ids = set()
            for chunk in _chunks(sorted(self.packages_named([package]))):
                sql = SELECT_HOSTS_CHANGING_PACKAGE.format(
                    marks=", ".join("?" * len(chunk)), where=where,
                    join=" JOIN hosts h ON h.id = i.host_id" if site is not None else "")
                host_ids.update(row[0] for row in self._read(
                    sql, chunk + [since] + extra + chunk + [since] + extra))
        hosts, intervals = {}, []
        rows = {}  # package id -> (packager, name, version, arch), read as needed
        swapped = defaultdict(set)  # (name, arch) -> hosts where a version replaced another
        for chunk in _chunks(sorted(host_ids)):
            marks = ", ".join("?" * len(chunk))
            for host_id, site_name, host_name, packager in self._read(
                    SELECT_HOST_NAMES.format(marks=marks), chunk):
                hosts[host_id] = (site_name, host_name, packager)
            changed = self._read(SELECT_CHANGED_INSTALLS.format(marks=marks),
                                 list(chunk) + [since] + list(chunk) + [since])
            self._read_packages(rows, {row[1] for row in changed})
            ends = defaultdict(set)  # (host, name, arch) -> {"opened", "closed"}
            for host_id, package_id, installed, removed in changed:
                _, name, version, arch = rows[package_id]
                if package is not None and name != package:
                    continue
                intervals.append((host_id, name, version, arch, installed, removed))
                key = (host_id, name, arch)
                if installed >= since:
                    ends[key].add("opened")
                if removed is not None and removed >= since:
                    ends[key].add("closed")
            for (host_id, name, arch), kinds in ends.items():
                if len(kinds) == 2:
                    swapped[(name, arch)].add(host_id)
        if swapped:
            # who holds each version of those names since before T: one
            # string of "host installed" pairs a package row
            packages = self.packages_named({name for name, _ in swapped})
            fields = self.dialect.concat(("host_id", "installed"))
            for chunk in _chunks(sorted(p for p, row in packages.items()
                                        if (row[1], row[3]) in swapped)):
                for package_id, pairs in self._read(SELECT_KEPT_INSTALLS.format(
                        fields=fields, marks=", ".join("?" * len(chunk))), chunk + [since]):
                    _, name, version, arch = packages[package_id]
                    if isinstance(pairs, bytes):
                        pairs = pairs.decode("ascii")
                    hosts_swapped = swapped[(name, arch)]
                    for pair in pairs.split(","):
                        host_id, installed = map(int, pair.split(" "))
                        if host_id in hosts_swapped:
                            intervals.append((host_id, name, version, arch, installed, None))
        return hosts, intervals

    def _read_packages(self, rows, package_ids):
        """Add the package rows of these ids that `rows` lacks."""
        for chunk in _chunks(sorted(set(package_ids) - set(rows))):
            for row in self._read(SELECT_PACKAGES_BY_ID.format(
                    marks=", ".join("?" * len(chunk))), chunk):
                rows[row[0]] = row[1:]

    def row_counts(self):
        return {table: self._read(COUNT_ROWS.format(table=table))[0][0]
                for table in ("hosts", "packages", "installs", "reports")}


class _Duplicate(Exception):
    pass

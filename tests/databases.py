"""The databases the tests are given: each one as init-db leaves a new
database, made once a test process and handed out again only when it is
exactly that again. Making the schema (twenty CREATE TABLEs) and dropping
it took most of a MariaDB test's time; a SQLite file costs little either
way, but is made the same way so that both back ends start alike.

Imported by conftest's fixtures only (the reporter's tests also run under
Python 3.6, without the collector's dependencies)."""

import os
import shutil
import uuid

from helpers import MYSQL

# how long emptying a database waits for a lock a test left before it
# gives the database up (seconds)
LOCK_WAIT = 10


class SchemaChanged(Exception):
    """A used database is no longer what init-db makes: it is dropped."""


def url_of(name):
    return "mysql://root@%s:%d/%s" % (MYSQL["host"], MYSQL["port"], name)


def init_schema(url):
    from wlcg_collector.db import open_store
    store = open_store(url)
    try:
        store.schema.init()
    finally:
        store.close()


def share_ssl_contexts():
    """PyMySQL makes an SSL context for each connection (it uses TLS when
    the server offers it), loading the system's CA bundle each time even
    when it verifies nothing: 20 ms of CPU a connection, a tenth of the
    suite. Here connections with the same TLS options share one context,
    as a context may serve any number of connections."""
    try:
        from pymysql.connections import Connection
    except ImportError:  # (the reporter's tests under Python 3.6)
        return
    made = {}
    make = Connection._create_ssl_ctx

    def made_once(connection, options):
        if not isinstance(options, dict):  # a context given: used as it is
            return make(connection, options)
        key = repr(sorted(options.items()))
        if key not in made:
            made[key] = make(connection, options)
        return made[key]
    Connection._create_ssl_ctx = made_once


class SQLiteTemplate(object):
    """A SQLite file init-db made, copied for each test that asks for one
    (the file's bytes are those of a new database; its mode too)."""

    def __init__(self, directory):
        self.path = os.path.join(str(directory), "template.db")
        init_schema("sqlite:///%s" % self.path)
        # closed: the WAL is checkpointed into the file and removed
        assert not os.path.exists(self.path + "-wal"), "template left a WAL behind"
        self.mode = os.stat(self.path).st_mode & 0o777

    def url(self, path):
        """The URL of a new copy at path (which must not exist yet)."""
        path = str(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.mode)
        with os.fdopen(fd, "wb") as out, open(self.path, "rb") as template:
            shutil.copyfileobj(template, out)
        return "sqlite:///%s" % path


class MySQLPool(object):
    """Databases on the MariaDB server with the schema init-db makes, one
    test at a time each. A database a test used is emptied (one
    transaction of DELETEs, the rows init-db writes put back, each
    AUTO_INCREMENT a test moved set back to 1) and handed out only when it
    is again indistinguishable from a new one: the same tables, views,
    triggers, routines, events, privileges and character set (SHOW CREATE
    of each, with its AUTO_INCREMENT) and the same rows as a new
    database. One that differs is dropped and a new one made. Names are
    random: two runs of the suite share the server. close() drops them
    all."""

    def __init__(self):
        self.free = []        # names of databases back from their tests
        self.made = []        # every name, for close()
        self.new_shape = None  # the shape and rows of a new database
        self.conn = None

    # -- handing out

    def acquire(self):
        """(name, URL) of a database like a new one."""
        while self.free:
            name = self.free.pop()
            try:
                self.empty(name)
                self.check(name)
            except SchemaChanged:
                self.drop(name)
                continue
            return name, url_of(name)
        name = self.make()
        return name, url_of(name)

    def release(self, name):
        """A database back from its test (it is emptied when next taken)."""
        self.free.append(name)

    def close(self):
        for name in list(self.made):
            self.drop(name)
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- the server

    def cursor(self):
        import pymysql
        if self.conn is not None:
            try:
                self.conn.ping()
            except pymysql.MySQLError:  # the server closed it (wait_timeout)
                self.conn = None
        if self.conn is None:
            self.conn = pymysql.connect(autocommit=True, **MYSQL)
            with self.conn.cursor() as cursor:
                cursor.execute("SET SESSION innodb_lock_wait_timeout = %d" % LOCK_WAIT)
                cursor.execute("SET SESSION lock_wait_timeout = %d" % LOCK_WAIT)
        return self.conn.cursor()

    def make(self):
        """A new database with the schema, as init-db makes it."""
        name = "wlcg_test_%s" % uuid.uuid4().hex[:12]
        with self.cursor() as cursor:
            cursor.execute("CREATE DATABASE %s CHARACTER SET utf8mb4" % name)
        self.made.append(name)
        init_schema(url_of(name))
        shape = self.shape(name, rows=True)
        if self.new_shape is None:
            self.new_shape = shape
        assert shape == self.new_shape, "two new databases differ"
        return name

    def drop(self, name):
        with self.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS %s" % name)
        if name in self.made:
            self.made.remove(name)

    def empty(self, name):
        """Delete every row in one transaction, put back the rows of a new
        database, and set back the AUTO_INCREMENT of the tables whose
        counter moved; SchemaChanged when the tables are not a new
        database's (or a lock a test left is held past LOCK_WAIT)."""
        import pymysql
        tables, rows = self.new_shape["tables"], self.new_shape["rows"]
        try:
            with self.cursor() as cursor:
                cursor.execute("SHOW FULL TABLES FROM %s" % name)
                if sorted(cursor.fetchall()) != sorted((t, "BASE TABLE") for t in tables):
                    raise SchemaChanged(name)
                cursor.execute("SET SESSION foreign_key_checks = 0")
                cursor.execute("BEGIN")
                for table in tables:
                    cursor.execute("DELETE FROM %s.%s" % (name, table))
                    for row in rows[table]:
                        cursor.execute("INSERT INTO %s.%s VALUES (%s)" % (
                            name, table, ", ".join(["%s"] * len(row))), row)
                cursor.execute("COMMIT")
                cursor.execute("SET SESSION foreign_key_checks = 1")
                cursor.execute("SELECT table_name, auto_increment FROM information_schema.tables "
                               "WHERE table_schema = %s", (name,))
                for table, counter in cursor.fetchall():
                    if counter is not None and counter != self.new_shape["counters"][table]:
                        cursor.execute("ALTER TABLE %s.%s AUTO_INCREMENT = %d"
                                       % (name, table, self.new_shape["counters"][table]))
        except pymysql.MySQLError as exc:  # a lock wait ran out, a table changed
            self.conn.close()
            self.conn = None
            raise SchemaChanged("%s: %s" % (name, exc))

    def check(self, name):
        """SchemaChanged unless the database is as a new one."""
        shape = self.shape(name)
        if shape != dict(self.new_shape, rows=shape["rows"]):
            raise SchemaChanged(name)

    def shape(self, name, rows=False):
        """What tells one database from another: everything in it that a
        statement can make, and a checksum of each table's rows (with
        `rows`, the rows too)."""
        shape = {}
        with self.cursor() as cursor:
            cursor.execute("SHOW CREATE DATABASE %s" % name)
            shape["database"] = cursor.fetchone()[1].replace(name, "?")
            cursor.execute("SHOW FULL TABLES FROM %s" % name)
            listed = sorted(cursor.fetchall())
            shape["listed"] = listed
            shape["tables"] = [t for t, kind in listed if kind == "BASE TABLE"]
            shape["create"], shape["rows"], shape["counters"] = {}, {}, {}
            for table, _ in listed:
                cursor.execute("SHOW CREATE TABLE %s.%s" % (name, table))
                shape["create"][table] = cursor.fetchone()[1]
            # the rows: one checksum a table, in one statement (a SELECT a
            # table cost a result set each, the most of this check's time);
            # the rows themselves only of a new database, to put them back
            cursor.execute("CHECKSUM TABLE %s" % ", ".join(
                "%s.%s" % (name, table) for table in shape["tables"]))
            shape["checksums"] = {table.split(".", 1)[1]: checksum
                                  for table, checksum in cursor.fetchall()}
            for table in shape["tables"] if rows else ():
                cursor.execute("SELECT * FROM %s.%s" % (name, table))
                shape["rows"][table] = sorted(cursor.fetchall(), key=repr)
            cursor.execute("SELECT table_name, auto_increment FROM information_schema.tables "
                           "WHERE table_schema = %s", (name,))
            shape["counters"] = dict(cursor.fetchall())
            # (routines and events from their own tables: information_schema
            # makes a temporary table on disk for them)
            for what, column in (("information_schema.triggers", "trigger_schema"),
                                 ("mysql.proc", "db"), ("mysql.event", "db"),
                                 ("information_schema.schema_privileges", "table_schema"),
                                 ("information_schema.table_privileges", "table_schema"),
                                 ("information_schema.column_privileges", "table_schema")):
                cursor.execute("SELECT * FROM %s WHERE %s = %%s" % (what, column), (name,))
                shape[what] = sorted(tuple(str(v).replace(name, "?") for v in row)
                                     for row in cursor.fetchall())
        return shape


def copy_database(source, target):
    """Make the database at URL `target` (one database_url gave: as a new
    one) hold what the database at URL `source` holds, rows and
    AUTO_INCREMENT counters alike; both of one back end, neither in use."""
    if source.startswith("sqlite:///"):
        import sqlite3
        src = sqlite3.connect(source[len("sqlite:///"):])
        dst = sqlite3.connect(target[len("sqlite:///"):])
        try:
            src.backup(dst)  # page by page: the file as the source's
        finally:
            dst.close()
            src.close()
        return
    import pymysql
    from_name, to_name = source.rsplit("/", 1)[1], target.rsplit("/", 1)[1]
    conn = pymysql.connect(autocommit=True, **MYSQL)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW FULL TABLES FROM %s WHERE Table_type = 'BASE TABLE'"
                           % from_name)
            tables = [row[0] for row in cursor.fetchall()]
            cursor.execute("SET SESSION foreign_key_checks = 0")
            cursor.execute("BEGIN")
            for table in tables:
                cursor.execute("DELETE FROM %s.%s" % (to_name, table))
                cursor.execute("INSERT INTO %s.%s SELECT * FROM %s.%s"
                               % (to_name, table, from_name, table))
            cursor.execute("COMMIT")
            cursor.execute("SET SESSION foreign_key_checks = 1")
            counters = {}
            for name in (from_name, to_name):
                cursor.execute("SELECT table_name, auto_increment FROM information_schema.tables "
                               "WHERE table_schema = %s", (name,))
                counters[name] = dict(cursor.fetchall())
            for table, counter in counters[from_name].items():
                if counter is not None and counters[to_name].get(table) != counter:
                    cursor.execute("ALTER TABLE %s.%s AUTO_INCREMENT = %d"
                                   % (to_name, table, counter))
    finally:
        conn.close()


class BuiltDatabases(object):
    """Databases a test module's fixture built once (a fleet), kept for
    the process and copied into each test's own database: the tests write
    to their copy, never to what was built."""

    def __init__(self, directory, sqlite_template, mysql_pool):
        self.directory = str(directory)
        self.sqlite_template = sqlite_template
        self.mysql_pool = mysql_pool
        self.built = {}  # (builder, back end) -> (URL, what the builder answered)

    def copy(self, build, target):
        """What build(url) answered when it filled a database of target's
        back end (once a process); target now holds a copy of it."""
        backend = target.split(":", 1)[0]
        key = (build, backend)
        if key not in self.built:
            if backend == "sqlite":
                url = self.sqlite_template.url(os.path.join(
                    self.directory, "built-%d.db" % len(self.built)))
            else:
                url = self.mysql_pool.acquire()[1]  # kept until the pool closes
            self.built[key] = (url, build(url))
        url, answer = self.built[key]
        copy_database(url, target)
        return answer

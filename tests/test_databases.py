"""The databases conftest hands the tests (tests/databases.py): each one is
as a new database after init-db, whatever the test before it did."""

import os

import pytest

from helpers import FIXTURES, ScratchMySQL, make_report, run_cli
from wlcg_collector.db import SCHEMA_VERSION, open_store
from wlcg_collector.report import parse_report

T0 = 1767225600
ADVISORIES = os.path.join(FIXTURES, "advisories")


def use(url, tmp_path):
    """What tests do to their databases: rows in most tables, counters moved."""
    store = open_store(url)
    try:
        for index in range(3):
            store.writer.store_report(parse_report(make_report(
                "T2_USED", "wn%d.example.org" % index, [("bash", "0:5.1-%d" % index, "x86_64")],
                ts=T0 + index)), T0 + index, "192.0.2.1")
        store.baselines.add("osg", "bash >= 0:5.1-1\n", T0)
    finally:
        store.close()
    listed = tmp_path / "sites.list"
    listed.write_text("T2_USED\nT2_OTHER\n")
    assert run_cli(["--db", url, "sites", "import", str(listed)])[0] == 0
    assert run_cli(["--db", url, "advisories", "import", ADVISORIES])[0] == 0


def mysql_contents(url):
    """Every table's definition (AUTO_INCREMENT included) and rows."""
    import pymysql
    from helpers import MYSQL
    name = url.rsplit("/", 1)[1]
    conn = pymysql.connect(database=name, **MYSQL)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW FULL TABLES")
            tables = sorted(cursor.fetchall())
            contents = {}
            for table, _ in tables:
                cursor.execute("SHOW CREATE TABLE %s" % table)
                definition = cursor.fetchone()[1]
                cursor.execute("SELECT * FROM %s" % table)
                contents[table] = (definition, sorted(cursor.fetchall(), key=repr))
            return contents
    finally:
        conn.close()


def first_host_id(url):
    store = open_store(url)
    try:
        store.writer.store_report(parse_report(make_report(
            packages=[("bash", "0:5.1-1", "x86_64")], ts=T0)), T0, "192.0.2.1")
        return store.hosts.find("wn01.example.org").id
    finally:
        store.close()


@pytest.fixture
def pool(mysql_pool, mysql_url):
    """The pool, once it has handed out a database (MariaDB is there)."""
    return mysql_pool


def test_a_used_mariadb_database_comes_back_as_a_new_one(pool, tmp_path):
    scratch = ScratchMySQL()
    try:
        store = open_store(scratch.url)
        store.schema.init()
        store.close()
        new = mysql_contents(scratch.url)
    finally:
        scratch.close()
    name, url = pool.acquire()
    use(url, tmp_path)
    assert mysql_contents(url) != new
    pool.release(name)
    again, url = pool.acquire()
    try:
        assert again == name  # emptied, not made again
        assert mysql_contents(url) == new
        assert first_host_id(url) == 1
    finally:
        pool.release(again)


@pytest.mark.parametrize("change", [
    "ALTER TABLE hosts ADD COLUMN extra INT",
    "ALTER TABLE hosts DROP INDEX hosts_name",
    "CREATE TABLE extra (id INT PRIMARY KEY)",
    "CREATE VIEW extra AS SELECT 1 AS one",
    "CREATE TRIGGER extra BEFORE INSERT ON hosts FOR EACH ROW SET NEW.arch = 'x'",
    "CREATE PROCEDURE extra() SELECT 1",
    "ALTER DATABASE CHARACTER SET latin1",
    "DROP TABLE site_aliases",
])
def test_a_mariadb_database_whose_schema_changed_is_dropped(pool, change):
    import pymysql
    from helpers import MYSQL
    name, url = pool.acquire()
    conn = pymysql.connect(database=name, autocommit=True, **MYSQL)
    try:
        with conn.cursor() as cursor:
            cursor.execute(change)
    finally:
        conn.close()
    pool.release(name)
    other, url = pool.acquire()
    try:
        assert other != name
        conn = pymysql.connect(**MYSQL)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SHOW DATABASES LIKE %s", (name,))
                assert cursor.fetchall() == ()
        finally:
            conn.close()
    finally:
        pool.release(other)


def test_a_sqlite_database_is_a_copy_of_a_new_one(sqlite_template, tmp_path):
    fresh = tmp_path / "fresh.db"
    store = open_store("sqlite:///%s" % fresh)
    store.schema.init()
    store.close()
    url = sqlite_template.url(tmp_path / "copy.db")
    path = url[len("sqlite:///"):]
    assert os.stat(path).st_mode == os.stat(str(fresh)).st_mode
    copy, new = open_store(url), open_store("sqlite:///%s" % fresh)
    try:
        assert copy.testing.schema_shape() == new.testing.schema_shape()
        assert copy.db.read("SELECT * FROM schema_version") == [(SCHEMA_VERSION,)]
        assert copy.testing.row_counts() == new.testing.row_counts()
    finally:
        copy.close()
        new.close()
    use(url, tmp_path)
    # the next copy is new again
    assert first_host_id(sqlite_template.url(tmp_path / "next.db")) == 1


def test_mariadb_connections_share_one_ssl_context(mysql_url):
    """(Made for each connection, it cost 20 ms of CPU: share_ssl_contexts.)"""
    import pymysql
    from helpers import MYSQL
    first, second = pymysql.connect(**MYSQL), pymysql.connect(**MYSQL)
    try:
        assert first.ctx is second.ctx
    finally:
        first.close()
        second.close()


def test_a_mariadb_database_whose_rows_differ_is_not_handed_out_as_new(pool):
    """The check after emptying compares each table's rows (by checksum)
    with a new database's: a row changed, or one more, is seen."""
    import pymysql
    from databases import SchemaChanged
    from helpers import MYSQL
    name, url = pool.acquire()
    try:
        pool.check(name)  # as new
        table = next(t for t in pool.new_shape["tables"] if pool.new_shape["rows"][t])
        conn = pymysql.connect(database=name, autocommit=True, **MYSQL)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT * FROM %s" % table)
                columns = [d[0] for d in cursor.description]
                cursor.execute("UPDATE %s SET %s = %s + 1" % (table, columns[-1], columns[-1]))
        finally:
            conn.close()
        with pytest.raises(SchemaChanged):
            pool.check(name)
    finally:
        pool.release(name)


def built(url):
    """A built database for the copy test: rows in most tables, and the
    hosts' counter moved past its rows (to 100, as rows deleted leave it)."""
    use(url, built.tmp_path)
    if url.startswith("mysql"):
        import pymysql
        from helpers import MYSQL
        conn = pymysql.connect(database=url.rsplit("/", 1)[1], autocommit=True, **MYSQL)
        with conn.cursor() as cursor:
            cursor.execute("ALTER TABLE hosts AUTO_INCREMENT = 100")
    else:
        import sqlite3
        conn = sqlite3.connect(url[len("sqlite:///"):])
        with conn:
            conn.execute("UPDATE sqlite_sequence SET seq = 99 WHERE name = 'hosts'")
    conn.close()
    return "built"


def contents(url):
    if url.startswith("mysql"):
        return mysql_contents(url)
    import sqlite3
    conn = sqlite3.connect(url[len("sqlite:///"):])
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute("SELECT * FROM %s" % t).fetchall(), key=repr)
                for t in tables}
    finally:
        conn.close()


def test_a_built_database_is_copied_whole_into_a_tests_database(database_url, built_databases,
                                                                tmp_path):
    """built_databases.copy builds once and copies rows and counters: the
    copy is the built database, and the next host gets the id it would
    have got there."""
    built.tmp_path = tmp_path
    assert built_databases.copy(built, database_url) == "built"
    source = built_databases.built[(built, database_url.split(":", 1)[0])][0]
    assert contents(database_url) == contents(source)
    assert contents(database_url) != contents(built_databases.sqlite_template.url(
        tmp_path / "new.db"))
    assert first_host_id(database_url) == 100

"""What the database driver raises never leaves storage: a real driver
error (a table dropped, a value too long for its column, a lock held too
long) comes out as storage's own error, in one line that holds neither
the statement nor the value; the officer's command prints that line, and
the WSGI application answers 500 with nothing of it."""

import sqlite3

import pytest

from helpers import make_report, run_cli, wsgi_call, write_config
from wlcg_collector import create_app
from wlcg_collector.db import StoreError, StoreFault, StoreUnavailable, ValueRefused, open_store

# a value nobody may read back from an error message
SECRET = "s3cr3t-"
PACKAGES = [("bash", "0:5.1.8-9.el9", "x86_64")]


def drop(store, table):
    store.db.transaction(lambda cursor: cursor.execute("DROP TABLE %s" % table))


def one_line(text):
    return text.count("\n") == 1 and text.endswith("\n") and "Traceback" not in text


def test_a_dropped_table_is_a_fault_of_storage(store):
    store.baselines.add("osg", "bash >= 0:5\n", 1)
    drop(store, "baselines")
    with pytest.raises(StoreFault) as raised:
        store.baselines.latest()
    message = str(raised.value)
    assert message.startswith("database %s failed: " % store.db.dialect.describe())
    assert "baselines" in message and "\n" not in message and "SELECT" not in message
    # the driver's exception is its cause (in the server log's traceback)
    assert raised.value.__cause__ is not None
    assert type(raised.value.__cause__).__module__.split(".")[0] in ("sqlite3", "pymysql")
    # a fault is no known condition that a front end answers (404, "no host")
    assert not isinstance(raised.value, StoreError)


def test_a_value_too_long_for_its_column_names_the_column_not_the_value(mysql_store):
    store = mysql_store
    with pytest.raises(ValueRefused) as raised:
        store.baselines.add(SECRET * 20, "bash >= 0:5\n", 1)  # name: VARCHAR(100)
    message = str(raised.value)
    assert isinstance(raised.value, StoreError)
    assert "refused a value" in message and "'name'" in message
    assert SECRET not in message and "\n" not in message
    # a string the column's character set cannot hold: the server quotes
    # it in its message, storage names the column only
    with pytest.raises(ValueRefused) as raised:
        store.db.transaction(lambda cursor: cursor.execute(
            store.db.sql.INSERT_PACKAGE, ("rpm", SECRET + "\u00e9", "1", "x86_64", b"k" * 32,
                                          None)))
    message = str(raised.value)
    assert "1366" in message and "`packages`.`name`" in message
    assert SECRET not in message and "\\x" not in message
    assert store.baselines.latest() == []  # nothing half-written


def test_a_string_beyond_sqlite_s_limit_is_a_value_refused(tmp_path):
    store = open_store("sqlite:///%s" % (tmp_path / "collector.db"))
    try:
        store.schema.init()
        store.db.connection().setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
        with pytest.raises(ValueRefused) as raised:
            store.baselines.add("osg", SECRET * 200, 1)
        assert "refused a value" in str(raised.value) and SECRET not in str(raised.value)
    finally:
        store.close()


def test_memory_given_back_after_a_stored_report_never_fails_it(tmp_path):
    """(after the commit: the report is stored whatever happens there)"""
    store = open_store("sqlite:///%s" % (tmp_path / "collector.db"))
    try:
        store.schema.init()
        connection = store.db.connection()
        connection.close()
        store.db.dialect.release_memory(connection)
    finally:
        store.close()


def test_a_row_a_unique_key_holds_is_told_without_its_values(mysql_store):
    """(MySQL quotes the entry a unique key holds; SQLite names the key's
    columns only)"""
    store = mysql_store

    def work(cursor):
        for _ in range(2):
            store.db.execute_unique(cursor, store.db.sql.INSERT_BASELINE,
                                    (SECRET + "b", 1, 0, "t"))
    with pytest.raises(StoreError) as raised:
        store.db.transaction(work)
    assert "baselines_name_revision" in str(raised.value) and SECRET not in str(raised.value)


def test_a_lock_held_too_long_is_the_database_busy(mysql_store, mysql_url):
    """A lock wait timeout every time (MySQL): the database is busy (503),
    not a fault."""
    import pymysql
    from urllib.parse import urlsplit
    store = mysql_store
    url = urlsplit(mysql_url)
    store.baselines.add("osg", "bash >= 0:5\n", 1)
    holder = pymysql.connect(host=url.hostname, port=url.port, user=url.username,
                             password=url.password or "", database=url.path.lstrip("/"),
                             autocommit=False)
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM baselines FOR UPDATE")
        store.db.transaction(lambda cursor: cursor.execute(
            "SET SESSION innodb_lock_wait_timeout = 1"))
        with pytest.raises(StoreUnavailable) as raised:
            store.db.transaction(lambda cursor: cursor.execute(
                "UPDATE baselines SET text = %s", (SECRET,)))
        assert "is busy: MySQL error 1205" in str(raised.value)
        assert SECRET not in str(raised.value)
    finally:
        holder.rollback()
        holder.close()


def test_the_command_prints_one_line_when_a_table_is_gone(store, database_url):
    drop(store, "baselines")
    code, out, err = run_cli(["--db", database_url, "baseline", "list"])
    assert code == 1 and out == ""
    assert one_line(err) and err.startswith("wlcg-collector: database ") and " failed: " in err


def test_the_command_prints_one_line_for_a_value_too_long(tmp_path, mysql_store, mysql_url):
    store = mysql_store
    # (a column narrower than the parser's limit: what a schema change that
    # the limits missed would do)
    store.db.transaction(lambda cursor: cursor.execute(
        "ALTER TABLE hosts MODIFY kernel VARCHAR(5)"))
    report = tmp_path / "report.txt"
    report.write_bytes(make_report(packages=PACKAGES, kernel=SECRET * 5))
    code, out, err = run_cli(["--db", mysql_url, "ingest", str(report)])
    assert code == 1 and one_line(err), err
    assert "refused a value" in err and "'kernel'" in err and SECRET not in err
    assert store.testing.row_counts()["reports"] == 0


@pytest.fixture
def plaintext_app(tmp_path, database_url, collector_keys):
    """(the WSGI application taking plaintext reports, with the officer's
    pages behind a token; its store)."""
    store = open_store(database_url)
    store.schema.init()
    app = create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys],
                                  allow_plaintext="yes"), officer_token="tok")
    yield app, store
    store.close()


def test_the_application_answers_500_and_logs_a_fault(plaintext_app):
    app, store = plaintext_app
    store.baselines.add("osg", "bash >= 0:5\n", 1)
    drop(store, "baselines")
    status, _, body, log = wsgi_call(app, method="GET", path="/officer/baseline/osg", query="",
                                     content_length=False,
                                     environ_extra={"HTTP_COOKIE": "wlcg_officer=tok"})
    assert (status, body) == (500, b"internal error\n")
    assert "Traceback" in log and "StoreFault" in log
    drop(store, "reports")
    status, _, body, log = wsgi_call(app, make_report(packages=PACKAGES))
    assert (status, body) == (500, b"internal error\n")
    assert "Traceback" in log and "StoreFault" in log


def test_the_application_answers_500_for_a_value_refused(plaintext_app, database_url):
    app, store = plaintext_app
    if database_url.startswith("sqlite"):
        app.store.db.connection().setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100)
    else:
        store.db.transaction(lambda cursor: cursor.execute(
            "ALTER TABLE hosts MODIFY kernel VARCHAR(5)"))
    status, _, body, log = wsgi_call(app, make_report(packages=PACKAGES, kernel=SECRET * 5))
    assert (status, body) == (500, b"internal error\n")
    assert one_line(log) and "not stored: database " in log and "refused a value" in log
    assert SECRET not in log
    assert store.testing.row_counts()["reports"] == 0


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_inside_a_transaction_rolls_it_back(store, interrupt):
    """An interrupt raised by the work (Ctrl-C in a command, a server's
    thread told to exit) is no Exception: the transaction is rolled back
    all the same before it goes on, so that the connection's next
    transaction neither fails inside the old one (SQLite) nor commits its
    half-done work when it begins (MariaDB's START TRANSACTION commits an
    open one)."""
    def half_done(cursor):
        cursor.execute("INSERT INTO site_aliases (alias, site, rename_id) "
                       "VALUES ('T2_HALF', 'T2_DONE', 1)")
        raise interrupt()
    with pytest.raises(interrupt):
        store.db.transaction(half_done)
    store.db.transaction(lambda cursor: cursor.execute("SELECT 1"))
    assert store.db.read("SELECT alias FROM site_aliases") == []

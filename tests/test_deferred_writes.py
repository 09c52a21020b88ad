"""On MariaDB a report's writes nobody waits for (its intervals, its row,
its host's row) go with the next statement whose answer is needed, as one
compound statement, and missing package rows are made and found in one:
a report costs a few round trips, not one a statement (db/deferred.py).
What is stored is the same; a duplicate digest is still "stored already",
and only that key's duplicate is."""

import pymysql
import pytest

from helpers import make_report
from wlcg_collector.db import open_store
from wlcg_collector.db.deferred import DeferringCursor
from wlcg_collector.db.errors import DuplicateRow
from wlcg_collector.db.mysql import server_has_compound
from wlcg_collector.db.records import PendingReport
from wlcg_collector.report import parse_report
from wlcg_collector.statuses import CHANGED, DUPLICATE

T0 = 1767225600
HOSTS = 10


def packages(changed=(), count=300):
    return [("pkg-%03d" % i, "0:1.%d-%d.el9" % (i, 2 if i in changed else 1), "x86_64")
            for i in range(count)]


def pending(host, day, changed=(), count=300):
    text = make_report("T2_TEST", "wn%02d.example.org" % host, packages(changed, count),
                       ts=T0 + day * 86400)
    return PendingReport(parse_report(text, lazy=True), T0 + day * 86400 + 60, "192.0.2.1")


def count_round_trips(monkeypatch):
    """The statements PyMySQL sends from now on (each a round trip)."""
    sent = []
    execute = pymysql.cursors.Cursor.execute

    def counting(cursor, query, args=None):
        sent.append(query)
        return execute(cursor, query, args)
    monkeypatch.setattr(pymysql.cursors.Cursor, "execute", counting)
    return sent


def test_a_batch_of_changed_reports_costs_two_round_trips_a_report(mysql_store, monkeypatch):
    assert [r.outcome for r in mysql_store.writer.store_reports(
        [pending(h, 0) for h in range(HOSTS)])] == [CHANGED] * HOSTS
    sent = count_round_trips(monkeypatch)
    # each host 3 packages at a new build, one of them new to the store
    day = [pending(h, 1, changed=(h, h + 1, h + 2)) for h in range(HOSTS)]
    assert [r.outcome for r in mysql_store.writer.store_reports(day)] == [CHANGED] * HOSTS
    # the resends looked for, the site's name, then a report: the host's
    # locking read (with the report before's writes and the day's counts it
    # added to, checked then), its package rows found and made; the last
    # report's before the commit. One a statement was 8 a report
    assert len(sent) <= 2 * HOSTS + 3, sent
    assert sum(s.startswith("BEGIN NOT ATOMIC") for s in sent) >= 2 * HOSTS
    # and what they wrote is what one statement at a time writes
    for h in range(HOSTS):
        host = "wn%02d.example.org" % h
        row = mysql_store.db.read_one(
            "SELECT h.package_count, r.digest = %s, h.last_report FROM hosts h "
            "JOIN reports r ON r.id = h.set_report WHERE h.name = %s",
            (day[h].report.digest, host))
        assert row == (300, 1, T0 + 86400)
        versions = mysql_store.db.read(
            "SELECT p.version FROM installs i JOIN hosts h ON h.id = i.host_id "
            "JOIN packages p ON p.id = i.package_id WHERE h.name = %s AND i.removed IS NULL "
            "AND p.name IN ('pkg-%03d', 'pkg-%03d')" % ("%s", h, h + 3), (host,))
        assert {v for v, in versions} == {"0:1.%d-2.el9" % h, "0:1.%d-1.el9" % (h + 3)}
    assert mysql_store.db.read_one(
        "SELECT COUNT(*) FROM installs WHERE removed IS NOT NULL")[0] == 3 * HOSTS


def test_a_new_host_in_a_batch_is_four_round_trips(mysql_store, monkeypatch):
    mysql_store.writer.store_reports([pending(0, 0)])
    sent = count_round_trips(monkeypatch)
    # the fleet's packages, one of them at a build of its own
    batch = [pending(h, 0, changed=(h,)) for h in range(1, HOSTS + 1)]
    assert [r.outcome for r in mysql_store.writer.store_reports(batch)] == [CHANGED] * HOSTS
    # the resends, the site's name, then a host: its locking read (with the
    # host before's writes, its intervals first), the day's new hosts, its
    # row with its site's alias, its package rows found and made; the last
    # host's writes. One a statement was 11 a host
    assert len(sent) <= 4 * HOSTS + 3, sent
    assert mysql_store.db.read_one("SELECT COUNT(*) FROM installs")[0] == 300 * (HOSTS + 1)


def test_an_unchanged_report_in_a_batch_is_one_round_trip(mysql_store, monkeypatch):
    mysql_store.writer.store_reports([pending(h, 0) for h in range(HOSTS)])
    sent = count_round_trips(monkeypatch)
    day = [pending(h, 1) for h in range(HOSTS)]
    # (the same packages, a new ts: the same block, a new body)
    assert all(r.outcome != DUPLICATE for r in mysql_store.writer.store_reports(day))
    # the resends looked for, the site's name, a locking read a report
    # (with the report before's two writes), the last writes
    assert len(sent) <= HOSTS + 3, sent
    assert mysql_store.db.read_one("SELECT COUNT(*) FROM reports")[0] == 2 * HOSTS


def test_a_report_stored_already_is_a_duplicate_when_its_row_was_deferred(mysql_store):
    report = pending(0, 0)
    assert mysql_store.writer.store_report(*report).outcome == CHANGED
    again = pending(0, 0)
    assert mysql_store.writer.store_report(*again).outcome == DUPLICATE
    # nothing of the second stored: one report row, counted once more
    assert mysql_store.db.read("SELECT duplicates FROM reports") == [(1,)]


def test_only_the_named_keys_duplicate_is_stored_already(mysql_url):
    conn = pymysql.connect(**_params(mysql_url))
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE deferred_keys (id INT AUTO_INCREMENT PRIMARY KEY, "
                           "a INT NOT NULL, b INT NOT NULL, UNIQUE KEY deferred_a (a), "
                           "UNIQUE KEY deferred_b (b))")
            cursor.execute("INSERT INTO deferred_keys (a, b) VALUES (1, 1)")
        conn.commit()
        store = open_store(mysql_url)
        dialect = store.db.dialect
        store.db.connection()
        try:
            cursor = DeferringCursor(conn.cursor(), dialect)
            insert = "INSERT INTO deferred_keys (a, b) VALUES (%s, %s)"
            # a duplicate of the named key, found when the writes go
            cursor.defer(insert, (1, 2), unique_key="deferred_a")
            cursor.defer("UPDATE deferred_keys SET b = b + 10 WHERE a = %s", (1,))
            with pytest.raises(DuplicateRow):
                cursor.execute("SELECT COUNT(*) FROM deferred_keys")
            conn.rollback()
            # another key's duplicate is the database's error, not "stored already"
            cursor.defer(insert, (2, 1), unique_key="deferred_a")
            with pytest.raises(pymysql.err.IntegrityError) as raised:
                cursor.flush()
            assert not isinstance(raised.value, DuplicateRow)
            conn.rollback()
            # writes wait, in order, and a statement with an answer sees them
            cursor.defer(insert, (3, 3), unique_key="deferred_a")
            cursor.defer("UPDATE deferred_keys SET b = 30 WHERE a = %s", (3,))
            assert cursor.pending
            cursor.execute("SELECT b FROM deferred_keys WHERE a = %s", (3,))
            assert cursor.fetchall() == ((30,),) and not cursor.pending
            # a write that is not deferred goes after those waiting
            cursor.defer("UPDATE deferred_keys SET b = 31 WHERE a = %s", (3,))
            cursor.execute("UPDATE deferred_keys SET b = b + 1 WHERE a = %s", (3,))
            assert cursor.rowcount == 1
            cursor.execute("SELECT b FROM deferred_keys WHERE a = %s", (3,))
            assert cursor.fetchone() == (32,)
            conn.rollback()
        finally:
            store.close()
    finally:
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS deferred_keys")
        conn.close()


def _params(url):
    from wlcg_collector.db.url import parse_database_url
    p = parse_database_url(url)
    return dict(host=p["host"], port=p["port"], user=p["user"], password=p["password"],
                database=p["database"], autocommit=False)


NEXT_PACKAGE_ID = ("SELECT AUTO_INCREMENT FROM information_schema.tables "
                   "WHERE table_schema = DATABASE() AND table_name = 'packages'")


def test_package_rows_there_already_take_no_id(mysql_store):
    # (150 lines: found and made in one block; InnoDB takes ids for a
    # multi-row insert in growing batches, so the next id is read, not
    # assumed)
    assert mysql_store.writer.store_report(*pending(0, 0, count=150)).outcome == CHANGED
    before = mysql_store.db.read_one(NEXT_PACKAGE_ID)[0]
    # as a new process meets them (none known in memory), with one new build
    mysql_store.writer.package_ids._tables.clear()
    report = pending(0, 1, changed=(7,), count=150)
    assert mysql_store.writer.store_report(*report).outcome == CHANGED
    assert mysql_store.db.read_one(NEXT_PACKAGE_ID)[0] == before + 1
    assert mysql_store.db.read_one("SELECT COUNT(*) FROM packages")[0] == 151


@pytest.mark.parametrize("version, compound", [
    ("5.5.5-10.11.6-MariaDB-0+deb12u1", True), ("10.1.1-MariaDB", True),
    ("10.0.38-MariaDB", False), ("8.0.36", False), ("5.7.44-log", False)])
def test_compound_statements_are_mariadbs(version, compound):
    assert server_has_compound(version) is compound


def test_a_refused_check_comes_before_a_later_writes_error(mysql_store):
    """A checked answer that refuses fails the block, though a write after
    it failed too; the connection is in step for the next transaction."""
    from wlcg_collector.db import QuotaExceeded
    refused = QuotaExceeded("refused", 1, None)

    def refuse(rows):
        assert [tuple(row) for row in rows] == [(1,)]
        raise refused

    def work(cursor):
        cursor.execute("CREATE TEMPORARY TABLE probe_keys (k INT PRIMARY KEY)")
        cursor.defer("INSERT INTO probe_keys VALUES (1)")
        cursor.defer_checked("SELECT 1", None, refuse)
        cursor.defer("INSERT INTO probe_keys VALUES (1)")
        cursor.execute("SELECT 2")
    with pytest.raises(QuotaExceeded) as caught:
        mysql_store.db.transaction(work)
    assert caught.value is refused
    assert mysql_store.db.read("SELECT 3") == [(3,)]


def test_compound_no_in_the_url_sends_one_statement_at_a_time(mysql_url, monkeypatch):
    """For a proxy in front of MariaDB that does not pass compound
    statements: ?compound=no, and the same rows are stored."""
    store = open_store(mysql_url + "?compound=no")
    try:
        store.schema.init()
        sent = count_round_trips(monkeypatch)
        assert [r.outcome for r in store.writer.store_reports(
            [pending(h, 0) for h in range(3)])] == [CHANGED] * 3
        assert sent and not any(s.startswith("BEGIN NOT ATOMIC") for s in sent)
        assert store.db.read_one("SELECT COUNT(*) FROM installs")[0] == 900
    finally:
        store.close()


@pytest.mark.parametrize("query, compound", [("", True), ("?compound=yes", True),
                                             ("?compound=no", False)])
def test_the_urls_compound_option(query, compound):
    from wlcg_collector.db.url import parse_database_url
    url = "mysql://wlcg:secret@db.example.org/wlcg" + query
    assert parse_database_url(url)["compound"] is compound


@pytest.mark.parametrize("query", ["?compound=off", "?ssl=1", "?compound=no&x=1", "?compound"])
def test_anything_else_in_the_urls_query_is_refused_not_ignored(query):
    from wlcg_collector.db.url import parse_database_url
    with pytest.raises(ValueError) as refused:
        parse_database_url("mysql://wlcg:secret@db.example.org/wlcg" + query)
    assert "compound=yes|no" in str(refused.value) and "secret" not in str(refused.value)

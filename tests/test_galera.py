"""Collectors on a Galera cluster: two MariaDB nodes of the test's own
(galera-4 on loopback ports, the second joining by rsync as a new node of
a real cluster does), written through at once as collectors behind a load
balancer would write. A certification conflict comes back as a deadlock
(1213) and is retried; afterwards both nodes give the answers of one
database that took the same reports."""

import json
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import GALERA, INSTALL_DB, MARIADBD, GaleraNode, make_report, run_cli
from test_officer import BASELINE, DAY, FLEET, T0, X_NEW, date, xrootd_advisory
from wlcg_collector.db import open_store
from wlcg_collector.report import parse_report

QUESTIONS = [["compare", "osg"], ["hosts"], ["sites"], ["vulnerable"], ["reports", "b2.example.org"],
             ["state", "a1.example.org", "--at", date(1)], ["history", "b1.example.org"],
             ["adoption", "xrootd >= 1:5.7.1", "--from", date(0), "--to", date(4)]]


@pytest.fixture(scope="module")
def cluster():
    if not (MARIADBD and INSTALL_DB and GALERA):
        if os.environ.get("CI"):
            pytest.fail("mariadbd or galera-4 is not installed: in CI the Galera test must run")
        pytest.skip("mariadbd or galera-4 is not installed")
    directory = tempfile.mkdtemp(prefix="wlcg-galera-")
    os.chmod(directory, 0o755)  # the nodes may run as user mysql
    nodes = []
    try:
        nodes.append(GaleraNode(os.path.join(directory, "n1")))
        nodes[0].start()
        nodes.append(GaleraNode(os.path.join(directory, "n2"), join=nodes[0]))
        nodes[1].start()
        assert nodes[1].status("wsrep_cluster_size") == "2"
        yield nodes
    finally:
        for node in reversed(nodes):
            node.stop()
        shutil.rmtree(directory, ignore_errors=True)


def counting_conflicts(store, conflicts):
    """Record each retried error of the store's transactions."""
    retryable = store.db.dialect.is_retryable

    def counted(exc):
        if retryable(exc):
            conflicts.append(exc.args[0])
            return True
        return False
    store.db.dialect.is_retryable = counted


def committing_together(store, barrier):
    """The store's first commit waits for the other store's: two
    transactions that did their work on two nodes certify at once."""
    connect = store.db.dialect.connect
    waited = []

    def connected():
        conn = connect()
        commit = conn.commit

        def together():
            if not waited:
                waited.append(True)
                barrier.wait(timeout=30)
            commit()
        conn.commit = together
        return conn
    store.db.dialect.connect = connected


def reports_of(site, host, system, packager, days):
    """[(day, report text)] of one fleet host."""
    return [(day, make_report(site, host, days[day], ts=T0 + day * DAY + 3600,
                              packager=packager, system=system)) for day in sorted(days)]


def store_text(store, text, day):
    return store.writer.store_report(parse_report(text), T0 + day * DAY + 3700, "192.0.2.1").outcome


def synced(nodes):
    """Until every node has applied what any committed (a causal read)."""
    for node in nodes:
        node.execute("SET SESSION wsrep_sync_wait = 1", "SELECT COUNT(*) FROM wlcg.reports")


def test_every_mysql_table_has_a_primary_key(mysql_url):
    """Galera replicates a DELETE safely only through a primary key."""
    store = open_store(mysql_url)
    try:
        store.schema.init()
        missing = store.db.read(
            "SELECT t.table_name FROM information_schema.tables t "
            "WHERE t.table_schema = DATABASE() AND NOT EXISTS (SELECT 1 FROM "
            "information_schema.table_constraints c WHERE c.table_schema = t.table_schema "
            "AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY')")
    finally:
        store.close()
    assert missing == []


def test_collectors_write_through_both_nodes(cluster, tmp_path):
    first, second = cluster
    url = first.create_database("wlcg")
    assert run_cli(["--db", url, "init-db"])[0] == 0
    urls = [url, second.url("wlcg")]
    control_url = "sqlite:///%s" % (tmp_path / "control.db")
    assert run_cli(["--db", control_url, "init-db"])[0] == 0
    stores = [open_store(u) for u in urls]
    control = open_store(control_url)
    conflicts = []
    try:
        for store in stores:
            counting_conflicts(store, conflicts)
        # every host's reports in order, each day through the other node;
        # the hosts side by side, as many collectors take them
        hosts = [reports_of(*entry) for entry in FLEET]

        def send(index):
            return [store_text(stores[(index + day) % 2], text, day)
                    for day, text in hosts[index]]
        with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
            outcomes = list(pool.map(send, range(len(hosts))))
        for index, entry in enumerate(hosts):
            assert [store_text(control, text, day) for day, text in entry] == outcomes[index]

        synced(cluster)
        # one report at both nodes at once (a relay sending it twice): one
        # node's commit wins, the other's fails certification, is retried
        # and finds the report stored
        text = make_report("T2_B", "b2.example.org", FLEET[3][4][4] + [X_NEW],
                           ts=T0 + 4 * DAY + 7200, system="Rocky Linux 9.3")
        barrier = threading.Barrier(2)
        pair = [open_store(u) for u in urls]
        try:
            for store in pair:
                counting_conflicts(store, conflicts)
                committing_together(store, barrier)
            before = len(conflicts)
            with ThreadPoolExecutor(max_workers=2) as pool:
                both = list(pool.map(lambda store: store_text(store, text, 4), pair))
        finally:
            for store in pair:
                store.close()
        assert sorted(both) == ["changed", "duplicate"]
        assert len(conflicts) > before and set(conflicts) == {1213}
        assert [store_text(control, text, 4), store_text(control, text, 4)] == \
            ["changed", "duplicate"]

        # an advisory, then its update (which deletes its package rows)
        from wlcg_collector.advisories.formats import parse
        record = json.loads(xrootd_advisory())
        for store in (stores[0], control):
            store.advisories.import_records(parse(json.dumps(record).encode()), T0)
        synced(cluster)
        record["modified"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + 120))
        record["affected"][0]["ranges"][0]["events"][1]["fixed"] = "1:5.7.2-1.el9"
        for store in (stores[1], control):
            store.advisories.import_records(parse(json.dumps(record).encode()), T0 + DAY)
    finally:
        for store in stores + [control]:
            store.close()
    (tmp_path / "osg.txt").write_text(BASELINE)
    assert run_cli(["--db", url, "baseline", "add", "osg", str(tmp_path / "osg.txt")])[0] == 0
    assert run_cli(["--db", control_url, "baseline", "add", "osg",
                    str(tmp_path / "osg.txt")])[0] == 0
    synced(cluster)
    for node in cluster:
        assert node.execute("SELECT COUNT(*) FROM wlcg.advisory_packages")[0][0] == 1
        assert node.execute("SELECT fixed FROM wlcg.advisory_packages")[0][0] == "1:5.7.2-1.el9"
    for question in QUESTIONS:
        answers = []
        for database in urls + [control_url]:
            code, out, err = run_cli(["--db", database] + question + ["--format", "json"])
            assert code == 0, (question, database, err)
            answers.append(json.loads(out))
        assert answers[0] == answers[1] == answers[2], question
        assert answers[0], question

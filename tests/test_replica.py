"""The officer's reads from a replica (`[collector] read_database`): two
mariadbd of the test's own on loopback ports, the second replicating the
first (GTID, as a production primary and read replica would); reports are
ingested into the primary, and the officer's commands and pages read the
same answers from the replica. With replication stopped, a change written
to the primary does not show, which proves where they read."""

import json
import os
import shutil
import tempfile
import time

import pytest

from helpers import INSTALL_DB, MARIADBD, OwnMariaDB, run_cli, wsgi_call, write_config
from test_officer import BASELINE, date, ingest_fleet, store_advisory
from wlcg_collector import create_app
from wlcg_collector.db import open_store


def wait_for_replica(primary, replica, seconds=60):
    """Until the replica has applied everything the primary has logged."""
    position = primary.execute("SELECT @@gtid_binlog_pos")[0][0]
    applied = replica.execute("SELECT MASTER_GTID_WAIT('%s', %d)" % (position, seconds))[0][0]
    assert applied == 0, "the replica did not catch up with %s" % position


@pytest.fixture(scope="module")
def pair():
    if not (MARIADBD and INSTALL_DB):
        if os.environ.get("CI"):
            pytest.fail("mariadbd is not installed: in CI the replica test must run")
        pytest.skip("mariadbd is not installed")
    directory = tempfile.mkdtemp(prefix="wlcg-replica-")
    primary = OwnMariaDB(os.path.join(directory, "primary"), server_id=1, log_bin=True)
    replica = OwnMariaDB(os.path.join(directory, "replica"), server_id=2)
    try:
        primary.start()
        replica.start()
        primary.execute("CREATE USER 'repl'@'%' IDENTIFIED BY 'repl-secret'",
                        "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'")
        replica.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "
                        "MASTER_USER='repl', MASTER_PASSWORD='repl-secret', "
                        "MASTER_USE_GTID=slave_pos" % primary.port, "START SLAVE")
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_the_officer_reads_from_the_replica(pair, collector_keys, tmp_path):
    primary, replica = pair
    url = primary.create_database("wlcg")
    config = write_config(tmp_path / "c.conf", url, [collector_keys],
                          read_database=replica.url("wlcg"))
    assert run_cli(["--config", config, "init-db"])[0] == 0
    store = open_store(url)
    try:
        ingest_fleet(store, collector_keys)
        store_advisory(store)
    finally:
        store.close()
    (tmp_path / "osg.txt").write_text(BASELINE)
    code, out, err = run_cli(["--config", config, "baseline", "add", "osg",
                              str(tmp_path / "osg.txt")])
    assert code == 0, err  # a write: to the primary
    wait_for_replica(primary, replica)

    questions = [["compare", "osg"], ["hosts"], ["state", "a1.example.org", "--at", date(1)],
                 ["adoption", "xrootd >= 1:5.7.1", "--from", date(0), "--to", date(4)],
                 ["vulnerable"], ["exposure", "ALSA-2026:0001"], ["baseline", "list"],
                 ["changes", "--since", date(1)]]
    answers = {}
    for question in questions:
        code, out, err = run_cli(["--config", config] + question + ["--format", "json"])
        assert code == 0, (question, err)
        answers[question[0]] = json.loads(out)
        # the same as the primary's (--db names the one database to use)
        code, direct, err = run_cli(["--db", url] + question + ["--format", "json"])
        assert json.loads(direct) == answers[question[0]], question
    assert len(answers["hosts"]) == 7
    # compare read the replica and kept its holders in the primary
    store = open_store(url)
    try:
        assert store.db.read("SELECT COUNT(*) FROM holders_cache")[0][0] == 1
    finally:
        store.close()
    assert {r["host"] for r in answers["vulnerable"]} == {"d1.example.org"}
    # the timer's keep reads the replica too: the row `baseline add` kept holds
    code, out, err = run_cli(["--config", config, "baseline", "keep"])
    assert (code, err) == (0, "") and out.startswith("osg: nothing changed, "), out

    # replication stopped: a new report reaches the primary only, and the
    # officer's reads (commands and pages) do not see it
    replica.execute("STOP SLAVE")
    store = open_store(url)
    try:
        from helpers import make_report
        from wlcg_collector.report import parse_report
        store.writer.store_report(parse_report(make_report(
            "T2_NEW", "new.example.org", [("bash", "0:5.1.8-9.el9", "x86_64")],
            ts=int(time.time()))), int(time.time()), "192.0.2.1")
    finally:
        store.close()
    code, out, err = run_cli(["--config", config, "sites", "--format", "json"])
    assert "T2_NEW" not in {r["site"] for r in json.loads(out)}
    code, out, err = run_cli(["--db", url, "sites", "--format", "json"])
    assert "T2_NEW" in {r["site"] for r in json.loads(out)}
    app = create_app(config, officer_token="t0ken")
    status, _, body, _ = wsgi_call(app, method="GET", path="/officer/", query="",
                                   content_length=False,
                                   environ_extra={"HTTP_COOKIE": "wlcg_officer=t0ken"})
    assert status == 200 and b"T2_A" in body and b"T2_NEW" not in body
    replica.execute("START SLAVE")
    wait_for_replica(primary, replica)
    code, out, err = run_cli(["--config", config, "sites", "--format", "json"])
    assert "T2_NEW" in {r["site"] for r in json.loads(out)}
    status, _, body, _ = wsgi_call(app, method="GET", path="/officer/", query="",
                                   content_length=False,
                                   environ_extra={"HTTP_COOKIE": "wlcg_officer=t0ken"})
    assert status == 200 and b"T2_NEW" in body


def test_the_servers_keep_their_temporary_files_to_themselves(pair):
    """A starting mariadbd deletes the #sql files in its tmpdir: in /tmp,
    the temporary tables of the shared MariaDB and of other runs'."""
    for server in pair:
        assert os.path.realpath(server.execute("SELECT @@tmpdir")[0][0]) == \
            os.path.realpath(server.tmpdir)

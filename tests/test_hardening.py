"""Hardening: fuzzing the ingest endpoint, concurrent collectors on MariaDB,
a database outage in the middle of a run. Each test is bounded in time."""

import hashlib
import itertools
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from helpers import (INSTALL_DB, MARIADBD, ROOT, OwnMariaDB, ScratchMySQL, collector_command,
                     decrypt, make_key_pair, make_report, mysql_available, run_reporter,
                     write_config, wsgi_call)
from test_open_sets import assert_open_sets_exact
from wlcg_collector import create_app
from wlcg_collector.crypto import encrypt
from wlcg_collector.history import changes
from wlcg_collector.report import parse_report
from wlcg_collector.config import load_config
from wlcg_collector.db import open_store

PACKAGES = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.6.9-1.el9", "x86_64"),
            ("glibc", "0:2.34-100.el9", "i686"), ("glibc", "0:2.34-100.el9", "x86_64")]
# these tests change a few hosts' sets many times a day, as no real host
# does: the day's bounds on changes (test_quotas.py) are lifted
NO_DAY_BOUNDS = {"max_%s_per_%s" % (what, scope): "1000000000"
                 for what in ("changed_reports", "new_rows")
                 for scope in ("host", "sender", "site")}


def post(app, body):
    status, _, out, _ = wsgi_call(app, body)
    return status, out


# ---------------------------------------------------------------- fuzzing

STORED, REJECTED, EITHER = "stored", "rejected", "either"
# odd rpm versions and what the wire format says of them (docs/site-admins.md)
ODD_VERSIONS = [("(none):1-1", STORED), ("1-1", STORED), ("0:1~rc^git-1", STORED),
                ("99999999999:1-1", STORED), (":1-1", REJECTED), ("0:-1", REJECTED),
                ("0:1-", REJECTED), ("a:1-1", REJECTED), ("0:1-1-1", REJECTED),
                ("0:1.\x01-1", REJECTED), ("0:1.\u0663-1", REJECTED), ("\u0661:1-1", REJECTED)]
QUOTED_NAMES = ["x';DROP_TABLE_hosts;--", 'q"uote', "back\\slash", "semi;colon", "pct%s",
                "1=1--", "`tick`", "q?mark"]


def mutations(rng, valid_plain, valid_der, other_der):
    """(body, what must become of it, the (host, package name) it stores
    or None): random and mutated bodies, plaintext and DER. The verdicts
    come from how each body was made, not from the parser under test;
    EITHER where a random change may or may not leave a valid report."""
    text = valid_plain.decode()
    serial = itertools.count()

    def bit_flips(data, count):
        data = bytearray(data)
        for _ in range(count):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)

    def plain_variant():
        choice = rng.randrange(14)
        lines = text.split("\n")
        if choice == 0:
            return bit_flips(valid_plain, rng.randint(1, 8)), EITHER, None
        if choice == 1:
            return valid_plain[:rng.randrange(len(valid_plain))], EITHER, None
        if choice == 2:  # a huge header
            return text.replace("site: ", "site: " + "S" * rng.choice([300, 5000, 100000]),
                                1).encode(), REJECTED, None
        if choice == 3:  # a huge package line
            return text.replace("bash\t", "b" * rng.choice([201, 5000, 200000]) + "\t",
                                1).encode(), REJECTED, None
        if choice == 4:  # NUL bytes
            at = rng.randrange(len(valid_plain))
            return valid_plain[:at] + b"\x00" + valid_plain[at:], REJECTED, None
        if choice == 5:  # invalid UTF-8
            at = rng.randrange(len(valid_plain))
            return valid_plain[:at] + rng.choice([b"\xff", b"\xc3(", b"\xed\xa0\x80"]) + \
                valid_plain[at:], REJECTED, None
        if choice == 6:  # SQL metacharacters and quotes in names (valid: stored as text)
            name = rng.choice(QUOTED_NAMES)
            host = "h%d.example.org" % next(serial)  # a host of its own
            return make_report(host=host, packages=[(name, "0:1-1", "x86_64")] + PACKAGES,
                               ts=rng.randrange(10 ** 9)), STORED, (host, name)
        if choice == 7:  # thousands of duplicate packages (valid: one each)
            host = "dup%d.example.org" % rng.randrange(10 ** 6)
            return make_report(host=host, packages=PACKAGES * rng.choice([500, 3000]),
                               ts=rng.randrange(10 ** 9)), STORED, None
        if choice == 8:  # a line removed, duplicated or swapped
            index = rng.randrange(len(lines))
            operation = rng.randrange(3)
            if operation == 0:
                del lines[index]
            elif operation == 1:
                lines.insert(index, lines[index])
            else:
                other = rng.randrange(len(lines))
                lines[index], lines[other] = lines[other], lines[index]
            return "\n".join(lines).encode(), EITHER, None
        if choice == 9:  # separators and control characters
            return text.replace("\t", rng.choice([" ", "  ", "\t\t", "\r", "\x0b", ""]),
                                rng.randint(1, 3)).encode(), EITHER, None
        if choice == 10:  # random garbage that looks like a report
            return b"#\n" + os.urandom(rng.randrange(1, 3000)), EITHER, None
        if choice == 11:  # a valid report of a new host (must be stored)
            return make_report(host="ok%d.example.org" % rng.randrange(10 ** 6),
                               packages=rng.sample(PACKAGES, rng.randint(1, 4)),
                               ts=rng.randrange(10 ** 9)), STORED, None
        if choice == 12:  # odd versions
            version, verdict = rng.choice(ODD_VERSIONS)
            return make_report(host="v%d.example.org" % rng.randrange(10 ** 6),
                               packages=[("p", version, "noarch")],
                               ts=rng.randrange(10 ** 9)), verdict, None
        # random bytes: neither a report nor PKCS#7 (a body of '#\n...' is
        # rare enough to be told apart)
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 500)))
        return body, EITHER if body.startswith(b"#") else REJECTED, None

    while True:
        roll = rng.random()
        if roll < 0.97:
            yield plain_variant()
            continue
        choice = rng.randrange(4)
        if choice == 0:
            yield valid_der[:rng.randrange(1, len(valid_der))], REJECTED, None  # truncated
        elif choice == 1:
            yield bit_flips(valid_der, rng.randint(1, 4)), EITHER, None
        elif choice == 2:
            yield other_der, REJECTED, None  # encrypted to another key
        else:
            yield os.urandom(rng.randrange(1, 4000)), EITHER, None


@pytest.mark.parametrize("backend,count", [("sqlite", 10000), ("mysql", 1500)])
def test_fuzz_ingest(tmp_path, collector_keys, backend, count):
    if backend == "mysql":
        if not mysql_available():
            if os.environ.get("CI"):
                pytest.fail("MariaDB is not reachable: in CI the MySQL tests must run")
            pytest.skip("MariaDB is not reachable")
        scratch = ScratchMySQL()
        url = scratch.url
    else:
        scratch, url = None, "sqlite:///%s" % (tmp_path / "fuzz.db")
    try:
        store = open_store(url)
        store.schema.init()
        store.close()
        app = create_app(write_config(tmp_path / "c.conf", url, [collector_keys],
                                      allow_plaintext="yes", max_body=1024 * 1024,
                                      **NO_DAY_BOUNDS))
        rng = random.Random(20261122)
        valid_plain = make_report(packages=PACKAGES, ts=1767225600)
        other_key, other_cert = make_key_pair(tmp_path / "other")
        bodies = mutations(rng, valid_plain, encrypt(valid_plain, collector_keys[1]),
                           encrypt(valid_plain, other_cert))
        accepted, quoted, statuses, verdicts = set(), [], {}, {}
        for _ in range(count):
            body, expected, stored = next(bodies)
            status, out = post(app, body)
            statuses[status] = statuses.get(status, 0) + 1
            verdicts[expected] = verdicts.get(expected, 0) + 1
            assert status in (200, 400, 413), (status, out, body[:200])
            assert b"Traceback" not in out and out.count(b"\n") <= 1
            if expected == STORED:
                assert status == 200, (out, body[:300])
            elif expected == REJECTED:
                assert status in (400, 413), (status, out, body[:300])
            if status == 200:
                # a report is stored once per plaintext: a DER body that
                # still decrypts may carry one stored already
                plain = body if body.startswith(b"#\n") else decrypt(body, *collector_keys)
                accepted.add(hashlib.sha256(plain).digest())
                if stored:
                    quoted.append(stored)
        # every kind of answer and of body was exercised
        assert statuses.get(200, 0) > 50 and statuses.get(400, 0) > 1000
        assert min(verdicts.values()) > 20 and len(verdicts) == 3
        check = open_store(url)
        try:
            # one report row for each distinct body answered 200, and no other
            assert check.testing.row_counts()["reports"] == len(accepted)
            assert check.testing.orphan_intervals() == 0
            # names with SQL metacharacters are stored as text, exactly
            assert len(quoted) > 10
            for host, name in quoted:
                found = check.hosts.find(host)
                assert name in {p.name for p in check.hosts.state(found.id)}
        finally:
            check.close()
    finally:
        if scratch:
            scratch.close()


# ---------------------------------------------------------------- concurrency

HOSTS = ["c%02d.example.org" % i for i in range(12)]


def report_sequence(host_index, step):
    """The package set of a host at a step: upgrades, removals, reinstalls."""
    rng = random.Random(host_index * 1000 + step)
    packages = [("bash", "0:5.1.8-%d.el9" % (1 + step // 3), "x86_64"),
                ("kernel", "0:5.14.0-%d.el9" % (400 + step), "x86_64"),
                ("kernel", "0:5.14.0-%d.el9" % (399 + step), "x86_64")]
    if rng.random() < 0.7:
        packages.append(("xrootd", "1:5.%d.0-1.el9" % rng.randrange(3), "x86_64"))
    return packages


def concurrency_worker(args):
    config, jobs = args
    app = create_app(config)
    answers = []
    for host_index, step in jobs:
        body = make_report(site="T2_CONC", host=HOSTS[host_index],
                           packages=report_sequence(host_index, step),
                           ts=1767225600 + step * 600)
        answers.append(post(app, body)[0])
    app.store.close()
    return answers


def test_eight_collectors_at_once_on_mariadb(tmp_path):
    if not mysql_available():
        if os.environ.get("CI"):
            pytest.fail("MariaDB is not reachable: in CI the MySQL tests must run")
        pytest.skip("MariaDB is not reachable")
    scratch = ScratchMySQL()
    try:
        key, cert = make_key_pair(tmp_path / "keys")
        config = write_config(tmp_path / "c.conf", scratch.url, [(key, cert)],
                              allow_plaintext="yes", **NO_DAY_BOUNDS)
        store = open_store(scratch.url)
        store.schema.init()
        # 1,600 reports: 12 hosts x ~133 steps, dealt out so that every
        # process sends reports of every host, many of the same host at once
        jobs = [(h, s) for s in range(134) for h in range(len(HOSTS))][:1600]
        per_process = [(config, jobs[i::8]) for i in range(8)]
        began = time.monotonic()
        with multiprocessing.get_context("fork").Pool(8) as pool:
            answers = pool.map(concurrency_worker, per_process)
        assert time.monotonic() - began < 300
        assert all(status == 200 for process in answers for status in process)
        assert sum(len(process) for process in answers) == 1600
        assert store.testing.row_counts()["reports"] == 1600  # each stored exactly once
        replay_url = "sqlite:///%s" % (tmp_path / "replay.db")
        replay = open_store(replay_url)
        replay.schema.init()
        unbounded = load_config(config).limits
        for host_index, host in enumerate(HOSTS):
            host_id = store.hosts.find(host).id
            # the latest report always wins, whatever the arrival order
            last = max(step for h, step in jobs if h == host_index)
            assert store.hosts.state(host_id) == sorted(
                report_sequence(host_index, last), key=lambda p: (p[0], p[2], p[1]))
            # the history equals a replay, one by one, of the reports the
            # collector applied, in the order it applied them
            # (in the order they were applied: their row order)
            applied = [r.collected for r in sorted(store.hosts.reports(host_id)) if r.applied]
            for collected in applied:
                step = (collected - 1767225600) // 600
                replay.writer.store_report(parse_report(make_report(
                    site="T2_CONC", host=host, packages=report_sequence(host_index, step),
                    ts=collected)), collected, "replay", limits=unbounded)
            mine = store.hosts.intervals(host_id)
            theirs = replay.hosts.intervals(replay.hosts.find(host).id)
            assert sorted(mine) == sorted(theirs)
            assert changes("rpm", mine) == changes("rpm", theirs)
        assert store.testing.orphan_intervals() == 0
        assert_open_sets_exact(store)  # each host's open set written by whichever won
        replay.close()
        store.close()
    finally:
        scratch.close()


# ---------------------------------------------------------------- database outage

def test_database_outage(home, collector_keys):
    if not (MARIADBD and INSTALL_DB):
        if os.environ.get("CI"):
            pytest.fail("mariadbd is not installed: in CI the outage test must run")
        pytest.skip("mariadbd is not installed")
    directory = tempfile.mkdtemp(prefix="wlcg-outage-")
    database = OwnMariaDB(directory)
    server = None
    try:
        database.start()
        url = database.create_database("wlcg_outage")
        config = write_config(os.path.join(directory, "c.conf"), url, [collector_keys])
        assert collector_command(["--config", config, "init-db"]).returncode == 0
        server = subprocess.Popen([sys.executable, "-m", "wlcg_collector", "--config", config,
                                   "serve", "--port", "0"], stderr=subprocess.PIPE,
                                  env=dict(os.environ, PYTHONPATH=ROOT))
        line = server.stderr.readline().decode()
        collector_url = line.split("serving ")[1].split()[0]
        spool = os.path.join(directory, "spool")

        def report(host, expect, retries="0"):
            # (a retry would honour the collector's Retry-After: 60 s)
            proc = run_reporter(["--site", "T2_OUT", "--host", host, "--cert", collector_keys[1],
                                 "--url", collector_url, "--spool", spool, "--retries", retries,
                                 "--timeout", "10", "--packager", "dpkg"], home)
            assert proc.returncode == expect, proc.stderr.decode()
            return proc

        report("a.example.org", 0)
        database.stop()
        proc = report("b.example.org", 1)          # 503, then spooled
        assert "HTTP 503" in proc.stderr.decode()
        report("c.example.org", 1)
        assert len(os.listdir(spool)) >= 2
        database.start()
        report("d.example.org", 0, retries="2")     # sends b and c first
        assert [n for n in os.listdir(spool) if n.endswith(".p7m")] == []
        listed = collector_command(["--config", config, "hosts", "--format", "json"])
        hosts = sorted(h["host"] for h in json.loads(listed.stdout))
        assert hosts == ["a.example.org", "b.example.org", "c.example.org", "d.example.org"]
        store = open_store(url)
        assert store.testing.row_counts()["reports"] == 4  # each stored once
        store.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        database.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_healthz_with_the_database_stopped_or_hung(collector_keys):
    """/healthz on a mariadbd of the test's own: ok; 503 soon after the
    server stops answering (SIGSTOP: it still accepts connections, and
    never greets them), and when it is stopped; ok again when it is back."""
    if not (MARIADBD and INSTALL_DB):
        if os.environ.get("CI"):
            pytest.fail("mariadbd is not installed: in CI the health test must run")
        pytest.skip("mariadbd is not installed")
    import signal
    directory = tempfile.mkdtemp(prefix="wlcg-health-")
    database = OwnMariaDB(directory)
    try:
        database.start()
        url = database.create_database("wlcg_health")
        config = write_config(os.path.join(directory, "c.conf"), url, [collector_keys])
        assert collector_command(["--config", config, "init-db"]).returncode == 0
        app = create_app(config)
        app.monitoring.health.reuse = 0  # each request asks the database

        def healthz():
            started = time.monotonic()
            status, _, out, _ = wsgi_call(app, method="GET", path="/healthz", query="",
                                          content_length=False)
            return status, out, time.monotonic() - started
        assert healthz()[:2] == (200, b"ok\n")
        database.proc.send_signal(signal.SIGSTOP)
        try:
            wait_until_stopped(database.proc.pid)
            status, out, took = healthz()
        finally:
            database.proc.send_signal(signal.SIGCONT)
        # (a second's timeout: the store's own connections would wait minutes)
        assert (status, out) == (503, b"database unavailable\n") and took < 5, took
        assert healthz()[:2] == (200, b"ok\n")
        database.stop()
        assert healthz()[:2] == (503, b"database unavailable\n")
        database.start()
        assert healthz()[:2] == (200, b"ok\n")
    finally:
        database.stop()
        shutil.rmtree(directory, ignore_errors=True)


def wait_until_stopped(pid):
    """Until every thread of the process is stopped (a signal takes effect
    when each is next scheduled: one may answer a query first)."""
    for _ in range(500):
        states = []
        for thread in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, thread)) as handle:
                    states.append(handle.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:  # (a thread that ended meanwhile)
                pass
        if all(state in ("T", "t") for state in states):
            return
        time.sleep(0.01)
    raise AssertionError("process %d did not stop" % pid)

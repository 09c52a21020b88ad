"""The operators' endpoints: /metrics read with prometheus_client's own
parser, its counters moving as reports of each outcome arrive (signed and
unsigned, through the WSGI application with real openssl), its gauges, who
may read it, the collector without prometheus_client, [metrics] allow
refused at start-up when it does not parse; /healthz. On SQLite and
MariaDB. (A mariadbd stopped and hung under /healthz: test_hardening.py.)"""

import os
import subprocess
import sys
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import (ROOT, bytecode_env, make_host_key, make_report, run_cli, wsgi_call,
                     write_config)
from wlcg_collector import __version__, create_app
from wlcg_collector.config import ConfigError
from wlcg_collector.crypto import encrypt, sign
from wlcg_collector.db import SCHEMA_VERSION
from wlcg_collector.statuses import REJECTION_REASONS

NOW = int(time.time())
DAY = 86400
OLD = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.6.9-1.el9", "x86_64")]
NEW = [("bash", "0:5.2.0-1.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")]
OUTCOMES = ("applied", "unchanged", "older", "replayed", "duplicate", "quarantined", "rejected",
            "failed")
HOST = "wn01.example.org"


def scrape(app, address="127.0.0.1"):
    """{(name, ((label, value), ...)): value} of /metrics as Prometheus
    reads it, and the page's text."""
    status, headers, out, log = wsgi_call(app, method="GET", path="/metrics", query="",
                                          content_length=False,
                                          environ_extra={"REMOTE_ADDR": address})
    assert status == 200, (out, log)
    assert headers["Content-Type"].startswith("text/plain; version=")
    text = out.decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples, text


def outcomes(samples):
    return {outcome: samples["wlcg_collector_reports_total", (("outcome", outcome),)]
            for outcome in OUTCOMES}


def reasons(samples):
    return {reason: samples["wlcg_collector_reports_rejected_total", (("reason", reason),)]
            for reason in REJECTION_REASONS}


def timed(samples):
    return samples["wlcg_collector_ingest_duration_seconds_count", ()]


@pytest.fixture
def signers(tmp_path):
    directory = tmp_path / "signers"
    directory.mkdir()
    return {name: make_host_key(directory, name, "/CN=" + HOST) for name in ("host", "other")}


def body(collector_keys, packages, ts, signer=None, host=HOST, site="T2_TEST"):
    plaintext = make_report(site, host, packages, ts=ts)
    if signer is not None:
        plaintext = sign(plaintext, *signer)
    return encrypt(plaintext, collector_keys[1])


def test_the_counters_move_with_each_outcome(wsgi_collector, collector_keys, signers):
    make_app, store, post, _ = wsgi_collector
    app = make_app()
    before, _ = scrape(app)
    assert set(outcomes(before).values()) == set(reasons(before).values()) == {0}
    assert timed(before) == 0
    seen = {"outcomes": dict.fromkeys(OUTCOMES, 0), "reasons": dict.fromkeys(REJECTION_REASONS, 0),
            "timed": 0}

    def expect(sent, status, outcome, reason=None, is_timed=True, sender="192.0.2.7",
               on=None):
        answer = post(on or app, sent, sender=sender) if isinstance(sent, bytes) else sent()
        assert answer[0] == status, answer
        seen["outcomes"][outcome] += 1
        if reason:
            seen["reasons"][reason] += 1
        seen["timed"] += int(is_timed)
        samples, _ = scrape(app)
        assert outcomes(samples) == seen["outcomes"]
        assert reasons(samples) == seen["reasons"]
        assert timed(samples) == seen["timed"]
        return samples

    first = body(collector_keys, OLD, NOW - 60, signers["host"])
    expect(first, 200, "applied")
    expect(first, 200, "duplicate")
    expect(body(collector_keys, OLD, NOW - 50, signers["host"]), 200, "unchanged")
    expect(body(collector_keys, NEW, NOW - 40, signers["host"]), 200, "applied")
    # signed, and not newer than the latest signed ts: a replay
    expect(body(collector_keys, OLD, NOW - 55, signers["host"]), 200, "replayed")
    expect(body(collector_keys, OLD, NOW - 30, signers["other"]), 202, "quarantined")
    # an unsigned host's report older than its latest
    expect(body(collector_keys, OLD, NOW - 20, host="b.example.org"), 200, "applied")
    expect(body(collector_keys, NEW, NOW - 90, host="b.example.org"), 200, "older")
    # rejected, each for its reason
    expect(b"garbage", 400, "rejected", "not_decryptable")
    expect(make_report(packages=OLD, ts=NOW), 403, "rejected", "plaintext_refused")
    expect(encrypt(b"#\nhost: x\n#\n#\n", collector_keys[1]), 400, "rejected", "malformed")
    expect(body(collector_keys, OLD, NOW + 3600, signers["host"]), 400, "rejected", "future_ts")
    expect(lambda: wsgi_call(app, b"", environ_extra={"CONTENT_LENGTH": "x"}, validate=False),
           400, "rejected", "bad_request", is_timed=False)
    expect(lambda: wsgi_call(make_app(max_body=4096), b"y" * 5000), 413, "rejected",
           "too_large", is_timed=False)
    refusing = make_app(unsigned="reject")
    expect(body(collector_keys, OLD, NOW - 10, host="c.example.org"), 403, "rejected",
           "unsigned_refused", on=refusing)
    bounded = make_app(max_new_hosts_per_sender="1")
    expect(body(collector_keys, OLD, NOW - 10, host="d.example.org"), 200, "applied",
           sender="198.51.100.9", on=bounded)
    expect(body(collector_keys, OLD, NOW - 10, host="e.example.org"), 429, "rejected", "quota",
           sender="198.51.100.9", on=bounded)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
    failing = make_app()
    failing.store.writer.store_report = broken
    expect(body(collector_keys, OLD, NOW - 10, host="f.example.org"), 500, "failed",
           on=failing)
    samples, _ = scrape(app)
    # the durations' sum grows with what was timed, and the buckets add up
    assert samples["wlcg_collector_ingest_duration_seconds_sum", ()] > 0
    assert samples["wlcg_collector_ingest_duration_seconds_bucket", (("le", "+Inf"),)] == \
        seen["timed"]


def test_the_gauges(wsgi_collector, collector_keys, database_url, tmp_path):
    make_app, store, post, cli = wsgi_collector
    app = make_app(allow_plaintext="yes")
    samples, _ = scrape(app)
    assert samples["wlcg_collector_schema_version", ()] == SCHEMA_VERSION
    assert samples["wlcg_collector_build_info", (("schema", str(SCHEMA_VERSION)),
                                                 ("version", __version__))] == 1
    for name in ("hosts", "sites", "hosts_silent", "quarantine_reports", "quarantine_bytes"):
        assert samples["wlcg_collector_" + name, ()] == 0, name
    # no report yet, no import yet: no sample (an alert on absent() sees it)
    assert ("wlcg_collector_newest_report_age_seconds", ()) not in samples
    assert ("wlcg_collector_advisories_last_import_timestamp_seconds", ()) not in samples
    for site, host, ts in (("T2_A", "a1.example.org", NOW - 60), ("T2_A", "a2.example.org",
                                                                  NOW - 8 * DAY),
                           ("t2_a", "a3.example.org", NOW - 60),
                           ("T2_B", "b1.example.org", NOW - 30 * DAY)):
        assert post(app, make_report(site, host, OLD, ts=ts))[0] == 200
    assert post(make_app(unsigned="quarantine"),
                body(collector_keys, OLD, NOW - 60, host="q.example.org", site="T2_Q"))[0] == 202
    held = store.review.quarantined()
    samples, _ = scrape(app)
    assert samples["wlcg_collector_hosts", ()] == 4
    assert samples["wlcg_collector_sites", ()] == 2  # (T2_A and t2_a are one site)
    assert samples["wlcg_collector_hosts_silent", ()] == 2  # over stale_days, 7 by default
    assert samples["wlcg_collector_quarantine_reports", ()] == 1
    assert samples["wlcg_collector_quarantine_bytes", ()] == held[0].bytes > 0
    assert 0 <= samples["wlcg_collector_newest_report_age_seconds", ()] < 60
    officer = write_config(tmp_path / "officer.conf", database_url, [collector_keys])
    with open(officer, "a") as handle:
        handle.write("[officer]\nstale_days = 10\n")
    samples, _ = scrape(create_app(officer))
    assert samples["wlcg_collector_hosts_silent", ()] == 1
    feed = os.path.join(ROOT, "tests", "fixtures", "advisories", "osv-almalinux",
                        "almalinux8-ALBA-2021_4378.json")
    started = int(time.time())
    assert cli("advisories", "import", "-q", feed)[0] == 0
    samples, _ = scrape(app)
    assert started <= samples["wlcg_collector_advisories_last_import_timestamp_seconds", ()] \
        <= time.time()


def test_no_site_or_host_name_is_shown(wsgi_collector, collector_keys):
    """Counts only: every label value is one of a fixed set."""
    make_app, _, post, _ = wsgi_collector
    app = make_app(allow_plaintext="yes")
    assert post(app, make_report("T2_SECRETSITE", "secrethost.example.org", OLD,
                                 ts=NOW - 60))[0] == 200
    assert post(app, make_report("T2_SECRETSITE", "secrethost.example.org",
                                 [("secret\x01", "0:1-1", "x86_64")], ts=NOW))[0] == 400
    samples, text = scrape(app)
    assert "secret" not in text.lower()
    allowed = {"outcome": set(OUTCOMES), "reason": set(REJECTION_REASONS),
               "version": {__version__}, "schema": {str(SCHEMA_VERSION)}}
    for (name, labels), _ in samples.items():
        for label, value in labels:
            if label == "le":
                float(value)
            else:
                assert value in allowed[label], (name, label, value)


@pytest.mark.parametrize("allow,networks,readable,refused", [
    (None, ["127.0.0.1/32", "::1/128"], ["127.0.0.1", "::1", "::ffff:127.0.0.1"],
     ["192.0.2.7", "", "localhost", "127.0.0.2", "::2", "::ffff:192.0.2.7",
      "127.0.0.1, 127.0.0.1"]),
    ("192.0.2.0/24 2001:db8::/32,\n    198.51.100.4",
     ["192.0.2.0/24", "2001:db8::/32", "198.51.100.4/32"],
     ["192.0.2.7", "2001:db8::5", "198.51.100.4", "::ffff:192.0.2.7"],
     ["127.0.0.1", "::1", "192.0.3.1", "198.51.100.5"]),
    ("", [], [], ["127.0.0.1", "::1", "192.0.2.7"]),
])
def test_who_may_read_metrics(tmp_path, database_url, collector_keys, allow, networks, readable,
                              refused):
    """[metrics] allow (default: loopback); the others get the 404 of a
    path that is not there."""
    path = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    if allow is not None:
        with open(path, "a") as handle:
            handle.write("[metrics]\nallow = %s\n" % allow)
    app = create_app(path)
    assert [str(network) for network in app.config.metrics_allow] == networks

    def get(path, address):
        return wsgi_call(app, method="GET", path=path, query="", content_length=False,
                         environ_extra={"REMOTE_ADDR": address}, validate=False)
    for address in readable:
        status, _, out, _ = get("/metrics", address)
        assert status == 200 and out.startswith(b"# HELP"), address
    for address in refused:
        assert get("/metrics", address)[::2] == get("/elsewhere", address)[::2] == \
            (404, b"not found\n"), address


def test_a_forwarded_address_never_opens_metrics(tmp_path, database_url, collector_keys):
    """Behind Apache, REMOTE_ADDR is the client's; what a client (or a
    trusted proxy passing it on) writes in X-Forwarded-For is not read."""
    app = create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys],
                                  trusted_proxies="192.0.2.7, 127.0.0.1"))

    def get(address, forwarded):
        return wsgi_call(app, method="GET", path="/metrics", query="", content_length=False,
                         environ_extra={"REMOTE_ADDR": address,
                                        "HTTP_X_FORWARDED_FOR": forwarded})[::2]
    for forwarded in ("127.0.0.1", "::1", "192.0.2.1, 127.0.0.1"):
        assert get("192.0.2.7", forwarded) == (404, b"not found\n")
    # and from this host, whatever it forwards
    assert get("127.0.0.1", "203.0.113.9")[0] == 200


def test_metrics_and_healthz_only_read(app_and_store):
    app, _ = app_and_store
    for path in ("/metrics", "/healthz"):
        status, headers, _, _ = wsgi_call(app, b"x", path=path,
                                          environ_extra={"REMOTE_ADDR": "127.0.0.1"})
        assert (status, headers["Allow"]) == (405, "GET, HEAD")
    # from elsewhere, /metrics is not there whatever the method
    assert wsgi_call(app, b"x", path="/metrics")[0] == 404


@pytest.mark.parametrize("allow,message", [
    ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or network (CIDR, such as "
                    "192.0.2.0/24)"),
    ("127.0.0.1 localhost", "'localhost' is not an IP address or network"),
    ("::1/129", "'::1/129' is not an IP address or network"),
    ("10.0.0.1/24", "'10.0.0.1/24' has host bits set: write the network, 10.0.0.0/24"),
    ("192.0.2.0/24;10.0.0.0/8", "'192.0.2.0/24;10.0.0.0/8' is not an IP address"),
])
def test_a_bad_network_stops_the_collector_at_start_up(tmp_path, database_url, collector_keys,
                                                        allow, message):
    path = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    with open(path, "a") as handle:
        handle.write("[metrics]\nallow = 127.0.0.1\n    %s\n" % allow)
    with pytest.raises(ConfigError) as err:
        create_app(path)
    line = str(err.value)
    assert line.startswith("config file %s: [metrics] allow: %s" % (path, message))
    assert "\n" not in line
    # the commands read the same file: one line, exit 2
    code, out, err = run_cli(["--config", path, "stale", "--days", "1"])
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_an_unknown_option_in_metrics_is_refused(tmp_path, database_url, collector_keys):
    path = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    with open(path, "a") as handle:
        handle.write("[metrics]\nalow = 127.0.0.1\n")
    with pytest.raises(ConfigError) as err:
        create_app(path)
    assert str(err.value) == "config file %s: unknown option 'alow' in [metrics]" % path


def test_the_collector_runs_without_prometheus_client(monkeypatch, tmp_path, database_url,
                                                      collector_keys):
    """It starts and takes reports; /metrics says in one line what is
    missing (to those who may read it: the others still get 404)."""
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import fails
    app = create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys]))
    assert wsgi_call(app, encrypt(make_report(packages=OLD, ts=NOW), collector_keys[1]))[0] \
        == 200
    status, _, out, _ = wsgi_call(app, method="GET", path="/metrics", query="",
                                  content_length=False, environ_extra={"REMOTE_ADDR": "::1"})
    assert (status, out) == (503, b"/metrics needs the Python package prometheus_client "
                                  b"(python3-prometheus_client; pip install prometheus_client)\n")
    assert wsgi_call(app, method="GET", path="/metrics", query="", content_length=False)[0] \
        == 404
    assert wsgi_call(app, method="GET", path="/healthz", query="", content_length=False)[:3:2] \
        == (200, b"ok\n")


def test_the_counts_are_the_collector_s_not_a_process_s(tmp_path, database_url,
                                                        collector_keys):
    """Each request in a process of its own (collector.cgi): /metrics,
    answered by yet another, counts what every one of them received."""
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    env = {**bytecode_env(), "PATH": "/usr/bin:/bin", "PYTHONPATH": ROOT,
           "WLCG_COLLECTOR_CONFIG": config,
           "GATEWAY_INTERFACE": "CGI/1.1", "QUERY_STRING": "protocol=5",
           "REMOTE_ADDR": "192.0.2.9", "SERVER_NAME": "collector", "SERVER_PORT": "80",
           "SERVER_PROTOCOL": "HTTP/1.1", "SCRIPT_NAME": "/collector.cgi"}

    def cgi(method, data=b"", **extra):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "collector.cgi")], input=data,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                              env=dict(env, REQUEST_METHOD=method,
                                       CONTENT_LENGTH=str(len(data)), **extra))
        assert proc.returncode == 0, proc.stderr.decode()
        head, _, page = proc.stdout.partition(b"\r\n\r\n")
        return head.split(b"\r\n")[0], page
    for host in ("a.example.org", "b.example.org"):
        sent = encrypt(make_report(host=host, packages=OLD, ts=NOW), collector_keys[1])
        assert cgi("POST", sent)[0] == b"Status: 200 OK"
    assert cgi("POST", sent)[0] == b"Status: 200 OK"  # a duplicate
    assert cgi("POST", b"garbage")[0].startswith(b"Status: 400")
    status, page = cgi("GET", PATH_INFO="/metrics", REMOTE_ADDR="127.0.0.1", QUERY_STRING="")
    assert status == b"Status: 200 OK"
    samples = {(s.name, tuple(s.labels.items())): s.value
               for family in text_string_to_metric_families(page.decode())
               for s in family.samples}
    assert {o: samples["wlcg_collector_reports_total", (("outcome", o),)]
            for o in ("applied", "duplicate", "rejected")} == {
        "applied": 2, "duplicate": 1, "rejected": 1}
    assert samples["wlcg_collector_hosts", ()] == 2


# ---------------------------------------------------------------- what counting costs

def write_transactions(store, monkeypatch):
    """The write transactions the store's Database runs from now on (a
    list that grows: each a commit)."""
    began = []
    transaction = store.db.transaction

    def spy(work, write=True, refused=None):
        if write:
            began.append(refused)
        return transaction(work, write, refused)
    monkeypatch.setattr(store.db, "transaction", spy)
    return began


def junk(app):
    """A body refused before anything is read of it: no Content-Length that
    is a number (bad_request)."""
    return wsgi_call(app, b"", environ_extra={"CONTENT_LENGTH": "x"}, validate=False)[0]


def test_a_report_stored_is_counted_in_its_own_transaction(wsgi_collector, collector_keys,
                                                           signers, monkeypatch):
    """No commit more a report: its count is the last statement of the
    transaction that stores it (or counts it, a duplicate)."""
    make_app, _, post, _ = wsgi_collector
    app = make_app()
    began = write_transactions(app.store, monkeypatch)
    assert post(app, body(collector_keys, OLD, NOW - 100, signers["host"]))[0] == 200
    assert len(began) == 1
    for step in range(1, 6):
        assert post(app, body(collector_keys, OLD, NOW - 100 + step, signers["host"]))[0] == 200
    assert len(began) == 6
    again = body(collector_keys, OLD, NOW - 50, signers["host"])
    assert post(app, again)[0] == 200
    assert post(app, again)[0] == 200  # a resend: known by its digest, counted on its row
    assert post(app, body(collector_keys, OLD, NOW - 40, signers["other"]))[0] == 202
    assert len(began) == 9
    samples, _ = scrape(make_app())
    assert {o: n for o, n in outcomes(samples).items() if n} == {
        "applied": 1, "unchanged": 6, "duplicate": 1, "quarantined": 1}
    assert timed(samples) == 9


def test_a_flood_of_junk_writes_a_row_a_second(wsgi_collector, monkeypatch):
    """Bodies refused before any transaction are counted in the process and
    written once a second at most (the first at once): a stranger's flood
    costs the database one write a second, not one a body."""
    make_app, _, _, _ = wsgi_collector
    app = make_app()
    began = write_transactions(app.store, monkeypatch)
    sent, started = 0, time.monotonic()
    while time.monotonic() - started < 1.5 or sent < 100:
        assert junk(app) == 400
        sent += 1
    took = time.monotonic() - started
    assert 1 <= len(began) <= took / 1.0 + 1, (len(began), sent, took)
    assert set(began) == {"ingest_counts"}
    # what was kept is written before this process answers a scrape
    samples, _ = scrape(app)
    assert reasons(samples)["bad_request"] == outcomes(samples)["rejected"] == sent


def test_kept_counts_go_with_the_next_report(wsgi_collector, monkeypatch):
    """A second after the last write, the counts the process kept are
    written by the next report's transaction: still no commit more."""
    from wlcg_collector.db import metrics_store
    monkeypatch.setattr(metrics_store, "WRITE_EVERY", 0.2)
    make_app, _, post, _ = wsgi_collector
    app = make_app(allow_plaintext="yes")
    began = write_transactions(app.store, monkeypatch)
    for _ in range(3):
        assert junk(app) == 400
    assert len(began) == 1  # the first at once, two kept
    reader = make_app()  # (another process: it writes nothing of this one's)
    assert outcomes(scrape(reader)[0])["rejected"] == 1
    time.sleep(0.3)
    assert post(app, make_report(packages=OLD, ts=NOW - 60))[0] == 200
    assert len(began) == 2
    assert {o: n for o, n in outcomes(scrape(reader)[0]).items() if n} == {
        "applied": 1, "rejected": 3}
    # and not once more after it
    app.store.close()
    assert {o: n for o, n in outcomes(scrape(reader)[0]).items() if n} == {
        "applied": 1, "rejected": 3}


def test_kept_counts_outlive_a_rolled_back_transaction(wsgi_collector, monkeypatch):
    """Counts carried by a report's transaction that rolls back are kept
    again, and written once."""
    from wlcg_collector.db import metrics_store
    monkeypatch.setattr(metrics_store, "WRITE_EVERY", 0.0)
    make_app, store, _, _ = wsgi_collector
    app = make_app()
    assert junk(app) == 400
    metrics = app.store.metrics
    metrics._written = None  # (due: they go with the next transaction)
    metrics._kept = {("rejected", "bad_request", -1): [2, 0]}

    def stored_then_refused(cursor):
        metrics.count_in(cursor, "unchanged", 0.001)
        raise RuntimeError("the commit failed")
    with pytest.raises(RuntimeError):
        app.store.db.transaction(stored_then_refused)
    assert metrics._kept == {("rejected", "bad_request", -1): [2, 0]}
    samples, _ = scrape(app)
    assert {o: n for o, n in outcomes(samples).items() if n} == {"rejected": 3}


def counters(samples):
    """The samples of the counts (the reports and their durations)."""
    return {key: value for key, value in samples.items()
            if key[0].startswith(("wlcg_collector_reports", "wlcg_collector_ingest"))}


def count_rows(store):
    """{writer: {(outcome, reason, bucket): reports}} of ingest_counts."""
    rows = {}
    for writer, outcome, reason, bucket, reports in store.db.read(
            "SELECT writer, outcome, reason, bucket, reports FROM ingest_counts"):
        rows.setdefault(writer, {})[outcome, reason, int(bucket)] = int(reports)
    return rows


WORKER = """
import sys
from helpers import make_report, wsgi_call
from wlcg_collector import create_app
config, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app(config)
for i in range(count):
    report = make_report(host="%s-%d.example.org" % (name, i), packages=[("bash", "0:5.1-1", "x86_64")])
    assert wsgi_call(app, report)[0] == 200
for _ in range(3):  # the first written at once, the others kept until the process exits
    assert wsgi_call(app, b"", environ_extra={"CONTENT_LENGTH": "x"}, validate=False)[0] == 400
"""


def test_the_counts_of_several_processes_are_summed(tmp_path, database_url, collector_keys):
    """Processes at once, each on rows of its own; a scrape sums them, and
    what a process kept is written when it exits."""
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys],
                          allow_plaintext="yes")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "tests")]))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, config, "p%d" % i, "20"], env=env,
                              stderr=subprocess.PIPE) for i in range(3)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
        proc.stderr.close()
    app = create_app(config)
    samples, _ = scrape(app)
    assert {o: n for o, n in outcomes(samples).items() if n} == {"applied": 60, "rejected": 9}
    assert reasons(samples)["bad_request"] == 9
    rows = count_rows(app.store)
    assert len(rows) == 3  # a writer each, and no base yet
    for counts in rows.values():
        assert sum(n for (outcome, _, _), n in counts.items() if outcome == "changed") == 20
        assert sum(n for (outcome, _, _), n in counts.items() if outcome == "rejected") == 3


def test_each_thread_counts_on_rows_of_its_own(wsgi_collector):
    """Two threads of one process never write one row (nor wait for it)."""
    import threading
    make_app, store, post, _ = wsgi_collector
    app = make_app(allow_plaintext="yes")

    def send(host):
        assert post(app, make_report(host=host, packages=OLD, ts=NOW - 60))[0] == 200
    for host in ("a.example.org", "b.example.org"):
        thread = threading.Thread(target=send, args=(host,))
        thread.start()
        thread.join()
    rows = count_rows(store)
    assert len(rows) == 2 and [sum(counts.values()) for counts in rows.values()] == [1, 1]


def test_the_rows_of_writers_gone_are_folded(wsgi_collector, monkeypatch):
    """Rows not written for FOLD_AGE go into the base rows at a scrape
    (and, at most once a FOLD_EVERY, after a report): the table does not
    grow with restarts, and no count changes."""
    from wlcg_collector.db import metrics_store
    make_app, store, post, _ = wsgi_collector
    apps = [make_app(allow_plaintext="yes") for _ in range(4)]  # four processes' worth
    for index, app in enumerate(apps):
        for step in range(index + 1):
            assert post(app, make_report(host="h%d.example.org" % index, packages=OLD,
                                         ts=NOW - 100 + step))[0] == 200
        assert junk(app) == 400
    writers = [app.store.metrics.writer() for app in apps]
    rows = count_rows(store)
    assert set(rows) == set(writers)
    before = counters(scrape(apps[0])[0])
    assert {o: n for o, n in outcomes(before).items() if n} == {
        "applied": 4, "unchanged": 6, "rejected": 4}
    gone = writers[1:3]
    store.db.transaction(lambda cursor: cursor.execute(
        "UPDATE ingest_counts SET updated = updated - %d WHERE writer IN ('%s', '%s')"
        % ((metrics_store.FOLD_AGE + 5,) + tuple(gone))))
    assert counters(scrape(apps[0])[0]) == before
    folded = count_rows(store)
    assert set(folded) == {"", writers[0], writers[3]}
    assert sum(folded[""].values()) == sum(sum(rows[w].values()) for w in gone)
    assert counters(scrape(apps[0])[0]) == before  # (nothing more to fold)
    # a writer folded writes again: a row of its own again, nothing lost
    assert post(apps[1], make_report(host="h1.example.org", packages=NEW, ts=NOW))[0] == 200
    assert outcomes(scrape(apps[0])[0])["applied"] == 5
    # a process folds after a report too, at most once a FOLD_EVERY
    store.db.transaction(lambda cursor: cursor.execute(
        "UPDATE ingest_counts SET updated = updated - %d WHERE writer <> ''"
        % (metrics_store.FOLD_AGE + 5)))
    began = write_transactions(apps[3].store, monkeypatch)
    assert post(apps[3], make_report(host="h3.example.org", packages=OLD, ts=NOW))[0] == 200
    assert len(began) == 1  # not yet
    assert set(count_rows(store)) == {"", writers[0], writers[1], writers[3]}
    monkeypatch.setattr(metrics_store, "FOLD_EVERY", 0.0)
    assert post(apps[3], make_report(host="h3.example.org", packages=OLD, ts=NOW + 1))[0] \
        == 200
    assert len(began) == 3 and set(count_rows(store)) == {"", writers[3]}
    samples, _ = scrape(apps[0])
    assert {o: n for o, n in outcomes(samples).items() if n} == {
        "applied": 5, "unchanged": 8, "rejected": 4}


# ---------------------------------------------------------------- /healthz

def test_healthz_says_ok_and_nothing_else(app_and_store):
    app, _ = app_and_store
    for address in ("203.0.113.5", "127.0.0.1"):  # anybody: it holds no data
        status, headers, out, _ = wsgi_call(app, method="GET", path="/healthz", query="",
                                            content_length=False,
                                            environ_extra={"REMOTE_ADDR": address})
        assert (status, out) == (200, b"ok\n")


def test_healthz_asks_the_database_once_a_second_at_most(app_and_store, monkeypatch):
    """However often a balancer (or anybody) asks, a process costs the
    database one trivial query a second."""
    app, _ = app_and_store
    app.monitoring.health.reuse = 60  # (however slow this machine is today)
    asked = []
    answers = app.store.schema.answers
    monkeypatch.setattr(app.store.schema, "answers",
                        lambda timeout: asked.append(timeout) or answers(timeout))
    for _ in range(50):
        assert wsgi_call(app, method="GET", path="/healthz", query="",
                         content_length=False)[0] == 200
    assert asked == [1.0]


def test_healthz_is_503_when_the_sqlite_database_is_gone(tmp_path, sqlite_template,
                                                        collector_keys):
    url = sqlite_template.url(tmp_path / "collector.db")
    app = create_app(write_config(tmp_path / "c.conf", url, [collector_keys]))
    app.monitoring.health.reuse = 0
    assert wsgi_call(app, method="GET", path="/healthz", query="",
                     content_length=False)[:3:2] == (200, b"ok\n")
    os.rename(str(tmp_path / "collector.db"), str(tmp_path / "moved.db"))
    assert wsgi_call(app, method="GET", path="/healthz", query="",
                     content_length=False)[:3:2] == (503, b"database unavailable\n")
    assert not os.path.exists(str(tmp_path / "collector.db"))  # not made again, empty


def test_healthz_keeps_one_connection_and_replaces_it(tmp_path, mysql_url, collector_keys):
    """On MariaDB the check keeps its connection (a new one costs PyMySQL
    50 ms of CPU); one the server closed since is replaced at once, not
    answered 503."""
    import pymysql
    from helpers import MYSQL
    app = create_app(write_config(tmp_path / "c.conf", mysql_url, [collector_keys]))
    app.monitoring.health.reuse = 0
    dialect = app.store.db.dialect

    def healthz():
        return wsgi_call(app, method="GET", path="/healthz", query="",
                         content_length=False)[:3:2]
    assert healthz() == (200, b"ok\n")
    kept = dialect._checking
    assert healthz() == (200, b"ok\n") and dialect._checking is kept
    admin = pymysql.connect(**MYSQL)
    try:
        with admin.cursor() as cursor:
            cursor.execute("KILL %d" % kept.thread_id())
    finally:
        admin.close()
    assert healthz() == (200, b"ok\n") and dialect._checking is not kept
    app.store.close()
    assert dialect._checking is None

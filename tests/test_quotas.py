"""Bounds that junk cannot use against genuine reports (db/quotas.py),
tried as a stranger holding the public collector certificate would: a flood
of the quarantine, of a site's new hosts, of one host's changes. On SQLite
and MariaDB, through the WSGI application, with real openssl and small
limits."""

import json
import subprocess
import time

import pytest

from helpers import OPENSSL, make_host_key, make_report, make_tls_server_files, write_config
from wlcg_collector import certs, trust
from wlcg_collector.crypto import encrypt, sign
from wlcg_collector.db import Limits, PendingReport, QuotaExceeded
from wlcg_collector.db import quotas
from wlcg_collector.report import parse_report

NOW = int(time.time())
DAY = 86400
SITE = "T2_TEST"
HOST = "wn01.example.org"
OLD = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")]
NEW = [("bash", "0:5.2.0-1.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")]


def packages(count, tag="p"):
    return [("%s%03d" % (tag, index), "0:1.0-1.el9", "noarch") for index in range(count)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """The hosts' keys, made once for the module's tests (no test changes them)."""
    directory = tmp_path_factory.mktemp("signers")
    return {name: make_host_key(directory, name, "/CN=" + cn) for name, cn in (
        ("host", HOST), ("new", HOST), ("junk1", HOST), ("junk2", HOST), ("junk3", HOST),
        ("own", "wn-own.example.org"), ("site", "wlcg-site:" + SITE))}


def body(collector_keys, listed, ts, signer=None, host=HOST, site=SITE):
    """An encrypted report, signed by `signer` ((cert, key)) or unsigned."""
    plaintext = make_report(site, host, listed, ts=ts)
    if signer is not None:
        plaintext = sign(plaintext, *signer)
    return encrypt(plaintext, collector_keys[1])


def fingerprint(signer):
    with open(signer[0], "rb") as handle:
        return certs.from_pem(handle.read()).fingerprint


def state(store, host=HOST):
    return [tuple(p) for p in store.hosts.state(store.hosts.find(host).id)]


def refused(answer, setting):
    """A 429 naming `setting`, with a Retry-After no later than the next UTC day."""
    status, headers, out = answer
    assert status == 429 and "(%s)" % setting in out and out.count("\n") == 1, answer
    assert 0 < int(headers["Retry-After"]) <= DAY
    return True


def events(cli, site=SITE):
    code, out, err = cli("sites", "show", site, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# ------------------------------------------------------------ the quarantine

def test_a_flood_never_evicts_a_genuine_key_change(wsgi_collector, collector_keys, keys):
    """Issue 23, 3: unsigned forgeries from rotating addresses, then keys of
    the stranger's own, for a pinned host whose genuine new key waits in the
    quarantine: junk replaces junk, a new signer past the host's bound is
    refused, and the genuine entry stays for the officer to accept."""
    make_app, store, post, cli = wsgi_collector
    app = make_app(quarantine_max_reports="8", quarantine_max_per_host="3")
    assert post(app, body(collector_keys, OLD, NOW - 600, keys["host"]))[0] == 200
    # reinstalled: the host's new key waits for the officer
    assert post(app, body(collector_keys, NEW, NOW - 500, keys["new"]))[0] == 202
    for index in range(12):  # more than the whole quarantine holds
        forged = packages(3, "junk%d-" % index)
        assert post(app, body(collector_keys, forged, NOW - 400 + index),
                    sender="203.0.113.%d" % index)[0] == 202
    assert post(app, body(collector_keys, OLD, NOW - 300, keys["junk1"]),
                sender="203.0.113.50")[0] == 202
    assert refused(post(app, body(collector_keys, OLD, NOW - 290, keys["junk2"]),
                        sender="203.0.113.51"), "quarantine_max_per_host")
    entries = store.review.quarantined()
    assert sorted((e.kind, e.sender) for e in entries) == [
        ("key change", "192.0.2.7"), ("key change", "203.0.113.50"),
        ("unsigned", "203.0.113.11")]
    [genuine] = [e for e in entries if e.fingerprint is not None
                 and bytes(e.fingerprint) == fingerprint(keys["new"])]
    assert b"bash\t0:5.2.0-1.el9\tx86_64" in store.review.quarantined_one(genuine.id).report
    assert state(store) == OLD
    code, out, _ = cli("quarantine", "accept", str(genuine.id))
    assert code == 0 and state(store) == NEW
    # the refusal is shown to the officer, with its sender
    [event] = events(cli)["quota_events"]
    assert (event["setting"], event["host"], event["sender"], event["refused"]) == (
        "quarantine_max_per_host", HOST, "203.0.113.51", 1)


def test_the_quarantine_is_bounded_per_sender_and_per_site(wsgi_collector, collector_keys):
    """One sender, or one site, cannot take the whole quarantine: past their
    bounds their next entry is refused and others' still get in."""
    make_app, store, post, cli = wsgi_collector
    app = make_app(unsigned="quarantine", quarantine_max_per_sender="2",
                   quarantine_max_per_site="3")

    def send(host, sender, site=SITE):
        return post(app, body(collector_keys, OLD, NOW - 60, host=host, site=site), sender)
    assert send("a1.example.org", "203.0.113.1")[0] == 202
    assert send("a2.example.org", "203.0.113.1")[0] == 202
    assert refused(send("a3.example.org", "203.0.113.1"), "quarantine_max_per_sender")
    assert send("b1.example.org", "203.0.113.2")[0] == 202
    assert refused(send("b2.example.org", "203.0.113.2"), "quarantine_max_per_site")
    assert send("c1.example.org", "203.0.113.2", site="T2_OTHER")[0] == 202
    assert len(store.review.quarantined()) == 4
    # and in bytes
    size = store.review.quarantined()[0].bytes  # (a host name of that length, at T2_TEST)
    app = make_app(unsigned="quarantine", quarantine_max_bytes_per_sender=str(size * 5 // 2),
                   quarantine_max_bytes_per_site=str(size * 4 - 1))
    assert refused(send("a4.example.org", "203.0.113.1", site="T2_OTHER"),
                   "quarantine_max_bytes_per_sender")
    assert send("b3.example.org", "203.0.113.3", site="T2_OTHER")[0] == 202
    assert refused(send("b4.example.org", "203.0.113.4"), "quarantine_max_bytes_per_site")
    assert len(store.review.quarantined()) == 5
    shown = {(e["setting"], e["sender"]) for e in events(cli)["quota_events"]}
    assert shown == {("quarantine_max_per_sender", "203.0.113.1"),
                     ("quarantine_max_per_site", "203.0.113.2"),
                     ("quarantine_max_bytes_per_site", "203.0.113.4")}
    assert [(e["setting"], e["sender"]) for e in events(cli, "T2_OTHER")["quota_events"]] == [
        ("quarantine_max_bytes_per_sender", "203.0.113.1")]


# ------------------------------------------------------------ new hosts

def test_junk_new_hosts_do_not_block_reports_that_prove_their_sender(wsgi_collector, collector_keys,
                                                                     keys, tmp_path):
    """Issue 23, 5: tiny unsigned reports for invented hosts from three
    addresses use up the site's new-host quota; a new host signed with the
    site's pinned key or a verified host certificate, and a host already
    pinned, still get through; `sites show` names the senders."""
    make_app, store, post, cli = wsgi_collector
    _, _, capath = make_tls_server_files(tmp_path / "ca")
    app = make_app(max_new_hosts_per_site="3", max_new_proven_hosts_per_site="3",
                   capath=capath)
    # the site's key, pinned on first use, and a host pinned to its own key
    assert post(app, body(collector_keys, OLD, NOW - 600, keys["site"],
                          host="wn-site0.example.org"))[0] == 200
    assert post(app, body(collector_keys, OLD, NOW - 600, keys["own"],
                          host="wn-own.example.org"))[0] == 200
    answers = [post(app, body(collector_keys, OLD[:1], NOW - 500, host="junk%02d.example.org"
                              % index), sender="203.0.113.%d" % (index % 3 + 1))
               for index in range(9)]
    assert [a[0] for a in answers] == [200] * 2 + [429] * 7
    assert all(refused(a, "max_new_hosts_per_site") for a in answers[2:])
    # what proves its sender is not blocked
    assert post(app, body(collector_keys, NEW, NOW - 400, keys["site"],
                          host="wn-site1.example.org"))[0] == 200
    assert post(app, body(collector_keys, NEW, NOW - 400, keys["own"],
                          host="wn-own.example.org"))[0] == 200
    assert state(store, "wn-own.example.org") == NEW
    assert post(app, body(collector_keys, NEW, NOW - 400,
                          host_certificate(tmp_path, "wn-grid.example.org"),
                          host="wn-grid.example.org"))[0] == 200
    assert store.hosts.find("wn-grid.example.org").trust == "verified"
    # what does not is still refused: a key of one's own, unsigned
    assert refused(post(app, body(collector_keys, OLD, NOW - 300, keys["junk1"],
                                  host="junk99.example.org")), "max_new_hosts_per_site")
    # the proving reports have a quota of their own (the first site key host
    # counts there too, once its key is the site's)
    assert refused(post(app, body(collector_keys, NEW, NOW - 400, keys["site"],
                                  host="wn-site2.example.org")), "max_new_proven_hosts_per_site")
    shown = events(cli)
    assert shown["hosts"] == 6 and shown["site"] == SITE
    junk = [e for e in shown["quota_events"] if e["setting"] == "max_new_hosts_per_site"]
    assert sorted((e["sender"], e["refused"]) for e in junk) == [
        ("192.0.2.7", 1), ("203.0.113.1", 2), ("203.0.113.2", 2), ("203.0.113.3", 3)]
    assert all(e["host"] is None for e in junk)
    code, out, _ = cli("sites", "show", SITE)
    assert code == 0 and "max_new_hosts_per_site" in out and "203.0.113.3" in out
    assert "hosts: 6\n" in out


def host_certificate(tmp_path, name):
    """A grid host certificate for `name` from the test CA of
    make_tls_server_files (tmp_path / "ca"): (cert, key)."""
    ca = tmp_path / "ca"
    key, csr, cert = (str(tmp_path / (name + suffix)) for suffix in (".key", ".csr", ".pem"))
    subprocess.run([OPENSSL, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", csr, "-subj",
                    "/DC=org/DC=example/CN=" + name], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    subprocess.run([OPENSSL, "x509", "-req", "-in", csr, "-CA", str(ca / "ca.pem"), "-CAkey",
                    str(ca / "ca.key"), "-CAcreateserial", "-out", cert, "-days", "2"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


# ------------------------------------------------------------ changes a day

def test_a_hosts_changes_are_bounded_a_day(wsgi_collector, collector_keys, keys):
    """Issue 23, 7: a host the sender holds (its own pinned key) changes
    its set again and again: past the day's changed reports, or new
    intervals, 429 with Retry-After and nothing stored; its first set is
    not counted, an unchanged report still gets through."""
    make_app, store, post, cli = wsgi_collector
    app = make_app(max_changed_reports_per_host="2", max_new_rows_per_host="5")
    first = packages(8)  # more new intervals than a day's bound: a first set
    assert post(app, body(collector_keys, first, NOW - 600, keys["host"]))[0] == 200
    for step in (1, 2):
        assert post(app, body(collector_keys, first + packages(step, "q"), NOW - 600 + step,
                              keys["host"]))[0] == 200
    now = state(store)
    counts = store.testing.row_counts()
    assert refused(post(app, body(collector_keys, first + packages(3, "q"), NOW - 500,
                                  keys["host"])), "max_changed_reports_per_host")
    assert state(store) == now and store.testing.row_counts() == counts
    assert post(app, body(collector_keys, first + packages(2, "q"), NOW - 400,
                          keys["host"]))[0] == 200  # unchanged
    # new intervals: five fit a day, six do not
    other = "wn02.example.org"
    assert post(app, body(collector_keys, OLD, NOW - 600, host=other))[0] == 200
    counts = store.testing.row_counts()
    assert refused(post(app, body(collector_keys, OLD + packages(6), NOW - 500, host=other)),
                   "max_new_rows_per_host")
    assert store.testing.row_counts()["installs"] == counts["installs"]
    assert store.testing.row_counts()["packages"] == counts["packages"]
    assert post(app, body(collector_keys, OLD + packages(5), NOW - 400, host=other))[0] == 200
    assert refused(post(app, body(collector_keys, OLD + packages(6), NOW - 300, host=other)),
                   "max_new_rows_per_host")
    shown = {(e["setting"], e["host"], e["refused"]) for e in events(cli)["quota_events"]}
    assert shown == {("max_changed_reports_per_host", HOST, 1),
                     ("max_new_rows_per_host", other, 2)}


def test_many_new_package_rows_past_the_bound_make_none(wsgi_collector, collector_keys):
    """A changed report with many package rows to make does that first, in a
    transaction of its own: not when the day's bound would refuse it."""
    make_app, store, post, cli = wsgi_collector
    app = make_app(max_new_rows_per_host="120")
    assert post(app, body(collector_keys, OLD, NOW - 600))[0] == 200
    counts = store.testing.row_counts()
    assert refused(post(app, body(collector_keys, OLD + packages(150, "many"), NOW - 500)),
                   "max_new_rows_per_host")
    assert store.testing.row_counts()["packages"] == counts["packages"]
    assert post(app, body(collector_keys, OLD + packages(110, "many"), NOW - 400))[0] == 200


def test_changes_are_bounded_per_sender_and_per_site(wsgi_collector, collector_keys, keys):
    """A sender's changed reports are bounded whatever they prove; a site's
    only those that prove nothing, so that a stranger writing to the site's
    unsigned hosts does not block its pinned ones."""
    make_app, store, post, cli = wsgi_collector
    app = make_app(max_changed_reports_per_sender="2", max_changed_reports_per_site="2")
    unsigned = ["u%d.example.org" % index for index in range(4)]
    for index, host in enumerate(unsigned):  # first sets: not counted
        assert post(app, body(collector_keys, OLD, NOW - 600, host=host),
                    sender="192.0.2.%d" % index)[0] == 200
    assert post(app, body(collector_keys, OLD, NOW - 600, keys["host"]),
                sender="192.0.2.50")[0] == 200
    # a stranger changes the site's unsigned hosts from two addresses
    assert post(app, body(collector_keys, NEW, NOW - 500, host=unsigned[0]),
                sender="203.0.113.1")[0] == 200
    assert post(app, body(collector_keys, NEW, NOW - 500, host=unsigned[1]),
                sender="203.0.113.2")[0] == 200
    assert refused(post(app, body(collector_keys, NEW, NOW - 500, host=unsigned[2]),
                        sender="203.0.113.2"), "max_changed_reports_per_site")
    # the pinned host is not blocked by them
    assert post(app, body(collector_keys, NEW, NOW - 400, keys["host"]),
                sender="192.0.2.50")[0] == 200
    assert state(store) == NEW
    # one sender's changes, of any host
    assert post(app, body(collector_keys, OLD, NOW - 300, keys["host"]),
                sender="192.0.2.50")[0] == 200
    assert refused(post(app, body(collector_keys, NEW, NOW - 200, keys["host"]),
                        sender="192.0.2.50"), "max_changed_reports_per_sender")
    assert state(store) == OLD
    shown = {(e["setting"], e["sender"]) for e in events(cli)["quota_events"]}
    assert shown == {("max_changed_reports_per_site", "203.0.113.2"),
                     ("max_changed_reports_per_sender", "192.0.2.50")}


def test_a_batch_applies_the_same_bounds(store):
    """`wlcg-collector ingest`'s batches (store_reports): a report past a
    bound fails alone, and is counted as the officer sees it."""
    limits = Limits(changed_reports_per_host=1)
    day = NOW - NOW % DAY

    def item(host, listed, at):
        return PendingReport(parse_report(make_report(SITE, host, listed, ts=at)), at,
                             "192.0.2.9", 300, None, trust.Rules())
    first = [item("a.example.org", OLD, day + 10), item("b.example.org", OLD, day + 10)]
    assert [r.outcome for r in store.writer.store_reports(first, limits)] == ["changed", "changed"]
    batch = [item("a.example.org", NEW, day + 20), item("a.example.org", OLD, day + 30),
             item("b.example.org", NEW, day + 20)]
    results = store.writer.store_reports(batch, limits)
    assert [r.outcome for r in results[::2]] == ["changed", "changed"]
    assert isinstance(results[1], QuotaExceeded) and results[1].retry_after == DAY - 30
    assert "(max_changed_reports_per_host)" in str(results[1])
    assert [(e.setting, e.host, e.refused) for e in store.quotas.events(SITE)] == [
        ("max_changed_reports_per_host", "a.example.org", 1)]
    # the next UTC day starts again
    assert store.writer.store_reports([item("a.example.org", OLD, day + DAY + 5)],
                                      limits)[0].outcome == "changed"


def test_the_events_table_is_bounded(store, monkeypatch):
    """Refusals from rotating addresses keep a few rows a site and day
    apart; the rest count on one row of the site, with no host or sender."""
    monkeypatch.setattr(quotas, "EVENT_ROWS_PER_SITE", 2)
    monkeypatch.setattr(quotas, "EVENT_ROWS_PER_DAY", 5)
    at = NOW - NOW % DAY + 100
    for index in range(5):
        store.quotas.record_event(quotas.QuotaEvent("max_new_hosts_per_site", SITE, "",
                                                    "203.0.113.%d" % index), at + index)
    for site, index in (("T2_B", 9), ("T2_C", 0), ("T2_C", 1), ("T2_C", 2)):
        store.quotas.record_event(quotas.QuotaEvent("max_new_hosts_per_site", site, "",
                                                    "203.0.113.%d" % index), at + 10)
    found = [(e.site, e.sender, e.refused, e.first_at, e.last_at) for e in store.quotas.events()]
    assert found == [(SITE, "", 3, at + 2, at + 4),    # past the site's rows
                     ("", "", 2, at + 10, at + 10),    # past the day's
                     ("T2_B", "203.0.113.9", 1, at + 10, at + 10),
                     ("T2_C", "203.0.113.0", 1, at + 10, at + 10),
                     (SITE, "203.0.113.0", 1, at, at),
                     (SITE, "203.0.113.1", 1, at + 1, at + 1)]
    assert store.quotas.events(SITE, since=at + DAY) == []


def test_the_limits_are_settings(tmp_path):
    from wlcg_collector.config import ConfigError, load_config
    config = load_config(write_config(tmp_path / "c.conf", "sqlite:///x.db", [],
                                      max_new_rows_per_host="7", quarantine_max_per_host="2"))
    assert (config.limits.new_rows_per_host, config.limits.quarantine_per_host) == (7, 2)
    assert config.limits.changed_reports_per_host == 4  # the default
    with pytest.raises(ConfigError, match="max_changed_reports_per_site = 0: at least 1"):
        load_config(write_config(tmp_path / "d.conf", "sqlite:///x.db", [],
                                 max_changed_reports_per_site="0"))


def test_a_resent_report_past_a_bound_is_refused(store):
    """A report stored already, sent again once its host's set has moved
    on (same ts), that would pass the day's new intervals: refused, as the
    bound is checked before its row is written (on MariaDB the row's
    duplicate comes back in the same block, after the day's counts)."""
    limits = Limits(new_rows_per_host=2)
    day = NOW - NOW % DAY

    def item(listed, at):
        return PendingReport(parse_report(make_report(SITE, HOST, listed, ts=at)), at,
                             "192.0.2.9", 300, None, trust.Rules())
    again = item(NEW, day + 20)
    for pending in (item(OLD, day + 10), again, item(OLD, day + 20)):
        assert store.writer.store_report(*pending, limits=limits).outcome == "changed"
    with pytest.raises(QuotaExceeded) as refusal:
        store.writer.store_report(*again, limits=limits)
    assert "(max_new_rows_per_host)" in str(refusal.value)
    assert [(e.setting, e.host, e.refused) for e in store.quotas.events(SITE)] == [
        ("max_new_rows_per_host", HOST, 1)]
    assert sorted(p[:2] for p in state(store)) == sorted(p[:2] for p in OLD)

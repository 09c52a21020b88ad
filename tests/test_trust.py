"""Who may write a host's rows, tried as an attacker holding the public
collector certificate would: forged, replayed, modified and truncated
reports, keys that change, floods; and the officer's repairs. On SQLite and
MariaDB, through the WSGI application, with real openssl."""

import json
import subprocess
import time

import pytest

from helpers import OPENSSL, make_host_key, make_report, wsgi_call
from wlcg_collector.crypto import encrypt, sign

NOW = int(time.time())
DAY = 86400
OLD = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")]
ROLLED_BACK = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.6.9-1.el9", "x86_64")]
NEW = [("bash", "0:5.2.0-1.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")]
HOST = "wn01.example.org"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """The hosts' keys, made once for the module's tests (no test changes them)."""
    directory = tmp_path_factory.mktemp("signers")
    return {name: make_host_key(directory, name, "/CN=" + cn) for name, cn in (
        ("host", HOST), ("other", HOST), ("site", "wlcg-site:T2_TEST"),
        ("other_site", "wlcg-site:T2_TEST"))}


def body(collector_keys, packages, ts, signer=None, host=HOST, site="T2_TEST", **headers):
    """An encrypted report as the reporter sends it: signed by signer (a
    (cert, key) pair), or unsigned as pakiti-client sends it."""
    plaintext = make_report(site, host, packages, ts=ts, **headers)
    if signer is not None:
        plaintext = sign(plaintext, *signer)
    return encrypt(plaintext, collector_keys[1])


def state(store, host=HOST):
    return [tuple(p) for p in store.hosts.state(store.hosts.find(host).id)]


def test_first_signed_report_pins_the_key(wsgi_collector, collector_keys, keys):
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    assert post(app, body(collector_keys, OLD, NOW - 60, keys["host"]))[0] == 200
    host = store.hosts.find(HOST)
    assert host.trust == "pinned" and host.pinned_by == "192.0.2.7"
    fingerprint = subprocess.run(
        "%s x509 -in %s -noout -pubkey | %s pkey -pubin -outform DER | sha256sum"
        % (OPENSSL, keys["host"][0], OPENSSL), shell=True, stdout=subprocess.PIPE,
        check=True).stdout.split()[0].decode()
    assert bytes(host.key_fingerprint).hex() == fingerprint
    # the same key again: applied
    assert post(app, body(collector_keys, NEW, NOW - 30, keys["host"]))[0] == 200
    assert state(store) == NEW
    code, out, _ = cli("keys", "--format", "json")
    assert json.loads(out) == [{"site": "T2_TEST", "host": HOST, "trust": "pinned",
                                "fingerprint": fingerprint[:16],
                                "pinned_since": json.loads(out)[0]["pinned_since"],
                                "pinned_by": "192.0.2.7"}]
    code, out, _ = cli("reports", HOST, "--format", "json")
    assert [(r["signer"], r["outcome"]) for r in json.loads(out)] == [
        (fingerprint[:16], "applied"), (fingerprint[:16], "applied")]


def test_forgeries_for_a_pinned_host_are_quarantined(wsgi_collector, collector_keys, keys):
    """Unsigned, signed by another key, and unsigned with ts just under the
    skew ahead: none changes what the officer sees; the genuine host's next
    report is applied."""
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    assert post(app, body(collector_keys, OLD, NOW - 60, keys["host"]))[0] == 200
    forgeries = [body(collector_keys, ROLLED_BACK, NOW - 50),
                 body(collector_keys, ROLLED_BACK, NOW - 40, keys["other"]),
                 body(collector_keys, ROLLED_BACK, NOW + 290)]
    for forged in forgeries:
        status, _, out = post(app, forged, sender="203.0.113.66")
        assert status == 202 and out.startswith("quarantined: ") and out.count("\n") == 1
        assert state(store) == OLD
    # one entry a signer: the second unsigned one replaced the first
    entries = store.review.quarantined()
    assert [(e.kind, e.sender) for e in entries] == [
        ("key change", "203.0.113.66"), ("unsigned", "203.0.113.66")]
    assert post(app, body(collector_keys, NEW, NOW - 10, keys["host"]))[0] == 200
    assert state(store) == NEW
    # the same forgery again is one entry
    assert post(app, forgeries[2])[0] == 200
    assert len(store.review.quarantined()) == 2


def test_storage_answers_a_quarantine_with_data(store):
    """The writer says why a report is held (trust's kind and reason, the
    key that signed it); the answer the reporter reads is ingest's."""
    from wlcg_collector import trust
    from wlcg_collector.db.records import Held
    from wlcg_collector.ingest import quarantine_answer
    from wlcg_collector.report import parse_report

    def put(packages, ts, key):
        return store.writer.store_report(
            parse_report(make_report("T2_TEST", HOST, packages, ts=ts)), ts + 1, "192.0.2.7",
            signer=trust.Signer(trust.HOST_KEY, key, None), rules=trust.Rules())
    assert put(OLD, NOW - 60, b"a" * 32).outcome == "changed"
    result = put(NEW, NOW - 30, b"b" * 32)
    assert (result.outcome, result.held) == ("quarantined", Held(
        trust.KEY_CHANGE, "signed by another key than the one pinned for this host",
        b"b" * 32))
    assert quarantine_answer(result) == (
        "quarantined: signed by another key than the one pinned for this host (SHA256 %s): "
        "the officer must accept the new key (wlcg-collector quarantine accept)" % ("62" * 8))


def test_replays_and_modified_bodies(wsgi_collector, collector_keys, keys, tmp_path):
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    first = body(collector_keys, OLD, NOW - 60, keys["host"])
    second = body(collector_keys, NEW, NOW - 30, keys["host"])
    assert post(app, first)[0] == post(app, second)[0] == 200
    before = store.testing.row_counts()
    # the same body again: a harmless duplicate
    assert post(app, first)[0] == 200 and store.testing.row_counts() == before
    # a signed report captured on its way and kept from the collector, sent
    # after a newer one: a replay, recorded and not applied
    captured = body(collector_keys, ROLLED_BACK, NOW - 45, keys["host"])
    assert post(app, captured)[0] == 200 and state(store) == NEW
    assert [r.outcome for r in store.hosts.reports(store.hosts.find(HOST).id)] == [
        "applied", "applied", "replayed"]
    # a bit of the AES-CBC IV flipped changes the same bit of the first
    # block of the signed data: in its header, or past it, never accepted
    oid = bytes.fromhex("060960864801650304012a0410")  # aes-256-cbc, then the 16-byte IV
    iv = second.index(oid) + len(oid)
    for at, reason in ((iv, "not UTF-8"), (iv + 15, "signature does not verify")):
        flipped = second[:at] + bytes([second[at] ^ 1]) + second[at + 1:]
        status, _, out = post(app, flipped)
        assert status == 400 and reason in out, out
    # a corrupted signature, and a truncated signed body
    signed = sign(make_report("T2_TEST", HOST, ROLLED_BACK, ts=NOW - 5), *keys["host"])
    for broken in (signed[:-3] + bytes([signed[-3] ^ 0x40]) + signed[-2:],
                   signed[:len(signed) // 2]):
        status, _, out = post(app, encrypt(broken, collector_keys[1]))
        assert status == 400 and "signature does not verify" in out, out
    assert state(store) == NEW and store.review.quarantined() == []


def test_signed_reports_need_a_ts_not_in_the_future(wsgi_collector, collector_keys, keys):
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    plaintext = make_report("T2_TEST", HOST, OLD)  # no ts
    status, _, out = post(app, encrypt(sign(plaintext, *keys["host"]), collector_keys[1]))
    assert status == 400 and "must carry ts" in out
    status, _, out = post(app, body(collector_keys, OLD, NOW + 3600, keys["host"]))
    assert status == 400 and "in the future" in out
    assert store.testing.row_counts()["hosts"] == 0


def test_unsigned_reports_of_new_hosts(wsgi_collector, collector_keys, keys):
    """pakiti-client's unsigned reports: accepted and marked unsigned by
    default; quarantined or refused when the operator says so."""
    make_app, store, post, cli = wsgi_collector
    assert post(make_app(), body(collector_keys, OLD, NOW - 60))[0] == 200
    assert store.hosts.find(HOST).trust == "unsigned"
    status, _, out = post(make_app(unsigned="quarantine"),
                          body(collector_keys, OLD, NOW - 60, host="wn02.example.org"))
    assert status == 202 and "unsigned = quarantine" in out
    status, _, out = post(make_app(unsigned="reject"),
                          body(collector_keys, OLD, NOW - 60, host="wn03.example.org"))
    assert status == 403 and "unsigned reports are not accepted" in out
    assert [h.name for h in store.hosts.listed()] == [HOST]
    # a signed one from a host that reported unsigned so far is a key change
    # (anyone can sign): held until the officer accepts it, which pins it
    status, _, out = post(make_app(), body(collector_keys, NEW, NOW - 30, keys["host"]))
    assert status == 202 and "first signed report" in out
    assert store.hosts.find(HOST).trust == "unsigned" and state(store) == OLD
    [entry] = [e for e in store.review.quarantined() if e.host == HOST]
    code, out, _ = cli("quarantine", "accept", str(entry.id))
    assert code == 0 and "now pinned to key SHA256" in out and "(was unsigned)" in out, out
    assert store.hosts.find(HOST).trust == "pinned" and state(store) == NEW


def test_the_officer_accepts_or_drops(wsgi_collector, collector_keys, keys):
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    assert post(app, body(collector_keys, OLD, NOW - 60, keys["host"]))[0] == 200
    # the host was reinstalled: a new key
    assert post(app, body(collector_keys, NEW, NOW - 30, keys["other"]))[0] == 202
    assert post(app, body(collector_keys, ROLLED_BACK, NOW - 20), sender="203.0.113.9")[0] == 202
    code, out, _ = cli("quarantine", "--format", "json")
    listed = json.loads(out)
    assert [(e["kind"], e["host"]) for e in listed] == [("key change", HOST), ("unsigned", HOST)]
    code, out, _ = cli("quarantine", "show", str(listed[0]["id"]))
    assert code == 0 and "kind: key change" in out and "\nxrootd\t1:5.7.1-1.el9\tx86_64\n" in out
    code, out, _ = cli("quarantine", "accept", str(listed[0]["id"]))
    assert code == 0 and "changed, key pinned" in out, out
    assert state(store) == NEW
    assert post(app, body(collector_keys, NEW, NOW - 10, keys["other"]))[0] == 200
    assert post(app, body(collector_keys, OLD, NOW - 5, keys["host"]))[0] == 202  # the old key
    code, out, _ = cli("quarantine", "drop", str(listed[1]["id"]))
    assert code == 0 and state(store) == NEW
    assert [e.kind for e in store.review.quarantined()] == ["key change"]
    code, _, err = cli("quarantine", "drop", "999999")
    assert code == 1 and err == "wlcg-collector: no quarantined report 999999\n"
    code, _, err = cli("quarantine", "show")
    assert code == 2 and "needs the ID" in err


def test_site_keys(wsgi_collector, collector_keys, keys):
    """Hosts signed with their site's key: the first pins the site key, new
    hosts of the site are applied without review, another site key is
    quarantined, and the officer accepts the site's key changes at once."""
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    for index in range(3):
        assert post(app, body(collector_keys, OLD, NOW - 60 + index, keys["site"],
                              host="wn%02d.example.org" % index))[0] == 200
    assert {h.trust for h in store.hosts.listed()} == {"site"}
    [site_key] = store.review.site_keys()
    assert site_key.site == "T2_TEST"
    # reinstalled with a new host key of its own, not the site's: reviewed
    assert post(app, body(collector_keys, NEW, NOW - 30, keys["host"],
                          host="wn00.example.org"))[0] == 202
    # a new site key for two hosts
    for index in (1, 2):
        assert post(app, body(collector_keys, NEW, NOW - 20, keys["other_site"],
                              host="wn%02d.example.org" % index))[0] == 202
    # the bulk accept never re-pins the site's key: that is one entry, by ID
    code, out, _ = cli("quarantine", "accept", "--site", "T2_TEST", "--key-changes")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "accepted 1 key change(s) of site T2_TEST"
    assert [line.split(" at ")[0] for line in lines[1:]] == [
        "skipped wn01.example.org", "skipped wn02.example.org"]
    assert "signed by a new site key" in lines[1] and "accept it by ID" in lines[1]
    first = min(e.id for e in store.review.quarantined())
    code, out, _ = cli("quarantine", "accept", str(first))
    assert code == 0 and "key pinned" in out
    # the other host's entry carries the key now pinned: the bulk takes it
    code, out, _ = cli("quarantine", "accept", "--site", "T2_TEST", "--key-changes")
    assert code == 0 and out == "accepted 1 key change(s) of site T2_TEST\n"
    assert store.review.quarantined() == []
    assert all(state(store, "wn%02d.example.org" % i) == NEW for i in range(3))
    # the site now answers to its new key
    assert post(app, body(collector_keys, OLD, NOW - 10, keys["other_site"],
                          host="wn05.example.org"))[0] == 200


def test_a_host_silent_long_enough_may_come_back_with_a_new_key(wsgi_collector, collector_keys,
                                                                keys):
    from wlcg_collector.ingest import ingest
    make_app, store, post, cli = wsgi_collector
    # its last report arrived 40 days ago
    ingest(store, body(collector_keys, OLD, NOW - 40 * DAY, keys["host"]), [collector_keys],
           "192.0.2.7", received=NOW - 40 * DAY)
    assert store.hosts.find(HOST).trust == "pinned"
    back = body(collector_keys, NEW, NOW - 60, keys["other"])
    assert post(make_app(rekey_after_silence="60"), back)[0] == 202  # not silent 60 days
    status, _, _, log = wsgi_call(make_app(rekey_after_silence="30"),
                                  body(collector_keys, NEW, NOW - 50, keys["other"]))
    assert status == 200 and "new key accepted after" in log and state(store) == NEW


def test_rollback(wsgi_collector, collector_keys, keys):
    """A forged report got through (an unsigned host): rolling back to
    before it gives the state and history of then, marks the forged report,
    and the host's next genuine report is applied."""
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    assert post(app, body(collector_keys, OLD, NOW - 3 * DAY))[0] == 200
    assert post(app, body(collector_keys, NEW, NOW - 2 * DAY))[0] == 200
    before = cli("state", HOST, "--format", "json")[1]
    history_before = cli("history", HOST, "--format", "json")[1]
    forged = body(collector_keys, ROLLED_BACK, NOW - DAY, sender="203.0.113.66")
    assert post(app, forged)[0] == 200 and state(store) == ROLLED_BACK
    to = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - DAY - 60))
    code, out, _ = cli("rollback", HOST, "--site", "T2_TEST", "--to", to, "--dry-run")
    assert code == 0 and out.startswith("would roll back") and state(store) == ROLLED_BACK
    assert "1 report(s) marked rolled back" in out
    code, out, _ = cli("rollback", HOST, "--site", "T2_TEST", "--to", to)
    assert code == 0 and out.startswith("rolled back")
    assert cli("state", HOST, "--format", "json")[1] == before
    assert cli("history", HOST, "--format", "json")[1] == history_before
    assert [r.outcome for r in store.hosts.reports(store.hosts.find(HOST).id)] == [
        "applied", "applied", "rolled back"]
    assert store.testing.orphan_intervals() == 0
    # an unchanged genuine report is seen as unchanged, a changed one applies
    assert post(app, body(collector_keys, NEW, NOW - 60))[0] == 200
    assert [r.changed for r in store.hosts.reports(store.hosts.find(HOST).id)][-1] == 0
    assert post(app, body(collector_keys, OLD, NOW - 30))[0] == 200 and state(store) == OLD
    code, _, err = cli("rollback", HOST, "--to", to)
    assert code == 2  # --site is required


def test_limits(wsgi_collector, collector_keys, keys):
    make_app, store, post, cli = wsgi_collector
    app = make_app(max_new_hosts_per_site="2", max_new_hosts_per_sender="3",
                   max_packages="3")
    for index in range(2):
        assert post(app, body(collector_keys, OLD, NOW - 60,
                              host="a%d.example.org" % index))[0] == 200
    status, headers, out = post(app, body(collector_keys, OLD, NOW - 60, host="a2.example.org"))
    assert status == 429 and "site T2_TEST has made 2 new hosts today" in out
    assert 0 < int(headers["Retry-After"]) <= DAY
    # known hosts still report; another site from the same sender, up to its limit
    assert post(app, body(collector_keys, NEW, NOW - 30, host="a0.example.org"))[0] == 200
    assert post(app, body(collector_keys, OLD, NOW - 60, host="b0.example.org",
                          site="T2_OTHER"))[0] == 200
    status, _, out = post(app, body(collector_keys, OLD, NOW - 60, host="b1.example.org",
                                    site="T2_OTHER"))
    assert status == 429 and "sender 192.0.2.7 has made 3 new hosts today" in out
    assert post(app, body(collector_keys, OLD, NOW - 60, host="b1.example.org",
                          site="T2_OTHER"), sender="192.0.2.8")[0] == 200
    big = [("p%d" % i, "0:1-1", "noarch") for i in range(4)]
    status, _, out = post(app, body(collector_keys, big, NOW - 20, host="a0.example.org"))
    assert status == 413 and out == "report lists more than 3 packages: this collector " \
        "takes 3 at most\n"
    assert store.testing.row_counts()["hosts"] == 4


def test_the_quarantine_is_bounded(wsgi_collector, collector_keys, keys):
    """Full, the quarantine refuses new entries (429) and keeps the ones it
    holds; within a host, a signer's newer entry replaces its older one.
    (tests/test_quotas.py: the bounds of a host, site and sender.)"""
    make_app, store, post, cli = wsgi_collector
    app = make_app(quarantine_max_reports="3")
    for index in range(3):
        host = "wn%02d.example.org" % index
        assert post(app, body(collector_keys, OLD, NOW - 60, keys["host"], host=host))[0] == 200
        assert post(app, body(collector_keys, OLD, NOW - 50 + index, host=host))[0] == 202
    quarantined = store.review.quarantined()
    assert len(quarantined) == 3
    status, headers, out = post(app, body(collector_keys, OLD, NOW - 40, keys["other"],
                                          host="wn00.example.org"))
    assert status == 429 and "(quarantine_max_reports)" in out
    assert 0 < int(headers["Retry-After"]) <= DAY and store.review.quarantined() == quarantined
    # the same host and signer: replaced, not added
    assert post(app, body(collector_keys, NEW, NOW - 30, host="wn00.example.org"))[0] == 202
    assert len(store.review.quarantined()) == 3
    size = sum(e.bytes for e in store.review.quarantined())
    app = make_app(quarantine_max_bytes=str(size + 10))
    status, _, out = post(app, body(collector_keys, NEW, NOW - 20, keys["other"],
                                    host="wn01.example.org"))
    assert status == 429 and "(quarantine_max_bytes)" in out
    assert sum(e.bytes for e in store.review.quarantined()) == size


def test_grid_host_certificates(wsgi_collector, collector_keys, tmp_path):
    """A host certificate of a CA in capath that names the host makes it
    verified, pinned by subject: a renewed certificate (a new key) is no
    key change; one that names another host is only a key."""
    from helpers import make_tls_server_files
    make_app, store, post, cli = wsgi_collector
    _, _, capath = make_tls_server_files(tmp_path / "ca")
    ca_key, ca_cert = str(tmp_path / "ca" / "ca.key"), str(tmp_path / "ca" / "ca.pem")

    def host_certificate(name, common_name):
        key, csr, cert = (str(tmp_path / (name + suffix)) for suffix in (".key", ".csr", ".pem"))
        subprocess.run([OPENSSL, "req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
                        "-subj", "/DC=org/DC=example/CN=" + common_name], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                        "-CAcreateserial", "-out", cert, "-days", "2"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return cert, key
    app = make_app(capath=capath)
    assert post(app, body(collector_keys, OLD, NOW - 60, host_certificate("one", HOST)))[0] == 200
    host = store.hosts.find(HOST)
    assert host.trust == "verified" and host.key_subject == "CN=%s,DC=example,DC=org" % HOST
    assert post(app, body(collector_keys, NEW, NOW - 30, host_certificate("renewed", HOST)))[0] \
        == 200
    assert state(store) == NEW
    status = post(app, body(collector_keys, OLD, NOW - 20,
                            host_certificate("elsewhere", "wn99.example.org")))[0]
    assert status == 202 and state(store) == NEW


def test_reports_shows_what_became_of_each(wsgi_collector, collector_keys, keys):
    """Applied, a duplicate (counted on its row), older, replayed,
    quarantined and rolled back, with sender and signer."""
    make_app, store, post, cli = wsgi_collector
    app = make_app()
    first = body(collector_keys, OLD, NOW - 60, keys["host"])
    captured = body(collector_keys, ROLLED_BACK, NOW - 50, keys["host"])
    for sent in (first, first, first, body(collector_keys, NEW, NOW - 40, keys["host"]),
                 captured, body(collector_keys, OLD, NOW - 30, keys["other"])):
        assert post(app, sent)[0] in (200, 202)
    code, out, _ = cli("reports", HOST, "--format", "json")
    rows = json.loads(out)
    assert [(r["outcome"], r["duplicates"]) for r in rows] == [
        ("applied", 2), ("applied", 0), ("replayed", 0), ("quarantined", 0)]
    assert len({r["signer"] for r in rows}) == 2
    assert store.testing.row_counts()["reports"] == 3  # a retry adds no row

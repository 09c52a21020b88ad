"""The edges of trust on first use, tried as a stranger holding the public
collector certificate would: taking over an unsigned host with a key of
one's own, a typo twin that a merge would hand the real host's pin, two
keys queued for one host, facts that a rollback left forged, a grid
certificate with a long subject. On SQLite and MariaDB, through the WSGI
application, with real openssl."""

import json
import subprocess
import time

import pytest

from helpers import OPENSSL, make_host_key, make_report, run_cli, write_config, wsgi_call
from wlcg_collector import create_app
from wlcg_collector.crypto import encrypt, sign
from wlcg_collector.db import open_store

NOW = int(time.time())
DAY = 86400
OLD = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")]
NEW = [("bash", "0:5.2.0-1.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")]
FORGED = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.6.9-1.el9", "x86_64")]
HOST = "wn01.example.org"
SITE = "T2_TEST"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """The hosts' keys, made once for the module's tests (no test changes them)."""
    directory = tmp_path_factory.mktemp("signers")
    return {name: make_host_key(directory, name, "/CN=" + cn) for name, cn in (
        ("host", HOST), ("stranger", HOST), ("other", HOST),
        ("site", "wlcg-site:" + SITE))}


@pytest.fixture
def collector(tmp_path, database_url, collector_keys):
    store = open_store(database_url)
    store.schema.init()
    app = create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys]))

    def post(plaintext, signer=None, sender="192.0.2.7"):
        if signer is not None:
            plaintext = sign(plaintext, *signer)
        status, _, out, _ = wsgi_call(app, encrypt(plaintext, collector_keys[1]),
                                      environ_extra={"REMOTE_ADDR": sender})
        return status, out.decode()

    def cli(*args):
        return run_cli(["--db", database_url] + list(args))
    yield store, post, cli
    store.close()


def state(store, host=HOST, site=None):
    return [tuple(p) for p in store.hosts.state(store.hosts.find(host, site).id)]


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def test_a_stranger_cannot_take_an_unsigned_host(collector, keys):
    """A pakiti-client host: a report signed with a stranger's key is held,
    not applied, and does not pin the host; the genuine unsigned reports
    keep being applied."""
    store, post, cli = collector
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 3 * DAY))[0] == 200
    status, out = post(make_report(SITE, HOST, FORGED, ts=NOW - 2 * DAY), keys["stranger"],
                       sender="203.0.113.66")
    assert status == 202 and "first signed report" in out
    host = store.hosts.find(HOST)
    assert (host.trust, host.key_fingerprint) == ("unsigned", None) and state(store) == OLD
    assert post(make_report(SITE, HOST, NEW, ts=NOW - DAY))[0] == 200
    assert state(store) == NEW
    [entry] = store.review.quarantined()
    assert entry.kind == "key change" and entry.sender == "203.0.113.66"


def test_a_site_key_or_a_pinned_site_moves_without_review(collector, keys):
    """A site moving from pakiti-client signs with its site key: once the
    officer has accepted one report signed with it (by ID: a bulk accept
    never pins a site key), its unsigned hosts' first signed reports are
    applied."""
    store, post, cli = collector
    for name in ("wn01", "wn02"):
        assert post(make_report(SITE, name + ".example.org", OLD, ts=NOW - 2 * DAY))[0] == 200
    # the site has hosts: its first site key is held like any first signature
    status, out = post(make_report(SITE, "wn01.example.org", NEW, ts=NOW - DAY), keys["site"])
    assert status == 202 and "first site key of a site that has hosts" in out
    code, out, _ = cli("quarantine", "accept", "--site", SITE, "--key-changes")
    assert code == 0 and out.startswith("accepted 0 key change(s)") and "by ID" in out, out
    [entry] = store.review.quarantined()
    assert cli("quarantine", "accept", str(entry.id))[0] == 0
    assert store.hosts.find("wn01.example.org").trust == "site"
    assert len(store.review.site_keys()) == 1
    status, _ = post(make_report(SITE, "wn02.example.org", NEW, ts=NOW - 60), keys["site"])
    assert status == 200 and store.hosts.find("wn02.example.org").trust == "site"


def test_a_self_made_site_key_vouches_for_nothing(collector, keys, tmp_path):
    """Anyone can make a key named wlcg-site:SITE. At a site with hosts it
    is not pinned on first use by an invented host, so it never takes the
    site's unsigned hosts; at a new site (no hosts) it is, as before."""
    store, post, cli = collector
    fake = make_host_key(tmp_path, "fake", "/CN=wlcg-site:" + SITE)
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 3 * DAY))[0] == 200
    status, _ = post(make_report(SITE, "evil.example.org", OLD, ts=NOW - 2 * DAY), fake,
                     sender="203.0.113.66")
    assert status == 202 and store.review.site_keys() == []
    assert [h.name for h in store.hosts.listed()] == [HOST]
    assert post(make_report(SITE, HOST, FORGED, ts=NOW - DAY), fake, sender="203.0.113.66")[0] \
        == 202
    assert store.hosts.find(HOST).trust == "unsigned" and state(store) == OLD
    assert post(make_report(SITE, HOST, NEW, ts=NOW - 60))[0] == 200 and state(store) == NEW
    # a brand-new site: its first site key is trusted on first use
    other = make_host_key(tmp_path, "new", "/CN=wlcg-site:T2_NEW")
    assert post(make_report("T2_NEW", "wn01.new.org", OLD, ts=NOW - 60), other)[0] == 200
    assert [k.site for k in store.review.site_keys()] == ["T2_NEW"]


def test_accepting_an_unknown_site_accepts_the_site_not_the_key(collector, keys, tmp_path,
                                                                database_url, collector_keys):
    """With unknown_sites = quarantine, a stranger's unsigned report for a
    host whose genuine report (signed) waits beside it: the bulk accept of
    the site applies the genuine one and holds the stranger's as what it
    is, an unsigned report for a pinned host."""
    store, post, cli = collector
    app = create_app(write_config(tmp_path / "u.conf", database_url, [collector_keys],
                                  unknown_sites="quarantine"))
    listed = tmp_path / "sites.txt"
    listed.write_text("T2_LISTED\n")
    assert cli("sites", "import", str(listed))[0] == 0

    def send(plaintext, signer=None, sender="192.0.2.7"):
        if signer is not None:
            plaintext = sign(plaintext, *signer)
        return wsgi_call(app, encrypt(plaintext, collector_keys[1]),
                         environ_extra={"REMOTE_ADDR": sender})[0]
    assert send(make_report(SITE, HOST, OLD, ts=NOW - DAY), keys["host"]) == 202
    assert send(make_report(SITE, HOST, FORGED, ts=NOW - 60), sender="203.0.113.66") == 202
    # two signers for one host: the bulk accept of the site leaves both
    code, out, err = cli("quarantine", "accept", "--site", SITE, "--unknown-site")
    assert code == 0 and out.splitlines()[1].startswith(
        "skipped %s at %s: its reports are signed by different keys" % (HOST, SITE)), out + err
    genuine, forged = sorted(store.review.quarantined(), key=lambda e: e.sender)
    # accepting an entry held for its site accepts the site, not the key
    assert cli("quarantine", "accept", str(genuine.id))[0] == 0
    assert store.hosts.find(HOST).trust == "pinned" and state(store) == OLD
    code, out, _ = cli("quarantine", "accept", str(forged.id))
    assert code == 0 and out.startswith(
        "accepted the site of quarantined report %d of %s at %s; the report is quarantined: "
        "an unsigned report for a host whose key is pinned" % (forged.id, HOST, SITE)), out
    host = store.hosts.find(HOST)
    assert host.trust == "pinned" and state(store) == OLD
    [held] = store.review.quarantined()
    assert (held.kind, held.sender) == ("unsigned", "203.0.113.66")


def test_rekey_after_silence_is_at_least_a_day(tmp_path, database_url, collector_keys):
    from wlcg_collector.config import ConfigError, load_config
    for value in ("0.000001", "0.5"):
        with pytest.raises(ConfigError, match="rekey_after_silence = %s: at least 1 day"
                           % value):
            load_config(write_config(tmp_path / "r.conf", database_url, [collector_keys],
                                     rekey_after_silence=value))
    config = load_config(write_config(tmp_path / "r.conf", database_url, [collector_keys],
                                      rekey_after_silence="1"))
    assert config.rules.rekey_after_silence == DAY


def test_keys_pin_and_unpin(collector, keys):
    store, post, cli = collector
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 3 * DAY), keys["host"])[0] == 200
    genuine = store.hosts.find(HOST).key_fingerprint
    # the host was reinstalled with a new key: the officer pins it by the
    # fingerprint the quarantine shows
    assert post(make_report(SITE, HOST, NEW, ts=NOW - 2 * DAY), keys["other"])[0] == 202
    [entry] = store.review.quarantined()
    short = bytes(entry.fingerprint).hex()[:16]
    code, out, _ = cli("keys", "pin", HOST, "--site", SITE, "--fingerprint", short)
    assert code == 0 and out == "%s at %s: now pinned to key SHA256 %s (was pinned to key " \
        "SHA256 %s)\n" % (HOST, SITE, short, bytes(genuine).hex()[:16]), out
    assert bytes(store.hosts.find(HOST).key_fingerprint) == bytes(entry.fingerprint)
    assert post(make_report(SITE, HOST, NEW, ts=NOW - DAY), keys["other"])[0] == 200
    assert post(make_report(SITE, HOST, OLD, ts=NOW - DAY + 60), keys["host"])[0] == 202
    # unpinned: unsigned reports apply again, a signed one is a key change
    code, out, _ = cli("keys", "unpin", HOST, "--site", SITE)
    assert code == 0 and out.endswith("now unsigned (was pinned to key SHA256 %s)\n" % short)
    assert store.hosts.find(HOST).trust == "unsigned"
    assert post(make_report(SITE, HOST, FORGED, ts=NOW - 600))[0] == 200
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 60), keys["stranger"])[0] == 202
    # refusals, one line each
    code, _, err = cli("keys", "pin", HOST, "--site", SITE, "--fingerprint", "0123456789abcdef")
    assert code == 1 and "no report of %s at %s was signed by a key" % (HOST, SITE) in err
    code, _, err = cli("keys", "pin", HOST, "--site", SITE, "--fingerprint", "xyz")
    assert code == 2 and "not a key fingerprint" in err
    code, _, err = cli("keys", "pin", HOST, "--site", SITE)
    assert code == 2 and "--fingerprint" in err
    code, _, err = cli("keys", "unpin", HOST)
    assert code == 2 and "--site" in err
    # a whole fingerprint no report carried is a host key
    code, out, _ = cli("keys", "pin", HOST, "--site", SITE, "--fingerprint", "ab" * 32)
    assert code == 0 and "now pinned to key SHA256 abababababababab" in out
    code, out, _ = cli("keys", "--format", "json")
    assert json.loads(out)[0]["fingerprint"] == "abababababababab"


def test_accepting_an_unsigned_report_unpins_the_host(collector, keys):
    """quarantine accept pins what it accepts: an unsigned report accepted
    for a pinned host leaves the host unsigned (no stranger's pin kept),
    and says so."""
    store, post, cli = collector
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 2 * DAY), keys["stranger"])[0] == 200
    assert post(make_report(SITE, HOST, NEW, ts=NOW - DAY))[0] == 202
    [entry] = store.review.quarantined()
    code, out, _ = cli("quarantine", "accept", str(entry.id))
    assert code == 0 and "%s at %s: now unsigned (was pinned to key SHA256" % (HOST, SITE) in out
    host = store.hosts.find(HOST)
    assert (host.trust, host.key_fingerprint) == ("unsigned", None) and state(store) == NEW
    # and the stranger's key is no longer the host's
    assert post(make_report(SITE, HOST, FORGED, ts=NOW - 60), keys["stranger"])[0] == 202


def test_bulk_accept_skips_a_host_with_two_keys(collector, keys):
    """Two key changes queued for one host (a reinstall and a stranger):
    the bulk accept applies neither and names the host; the other hosts'
    key changes are accepted."""
    store, post, cli = collector
    for name in ("wn01", "wn02"):
        assert post(make_report(SITE, name + ".example.org", OLD, ts=NOW - 3 * DAY),
                    keys["host"])[0] == 200
    assert post(make_report(SITE, HOST, NEW, ts=NOW - 2 * DAY), keys["other"])[0] == 202
    assert post(make_report(SITE, HOST, FORGED, ts=NOW - DAY), keys["stranger"],
                sender="203.0.113.66")[0] == 202
    assert post(make_report(SITE, "wn02.example.org", NEW, ts=NOW - DAY),
                keys["other"])[0] == 202
    code, out, _ = cli("quarantine", "accept", "--site", SITE, "--key-changes")
    assert code == 0 and out.splitlines() == [
        "accepted 1 key change(s) of site %s" % SITE,
        "skipped %s at %s: its reports are signed by different keys; accept the host's own "
        "one by ID (wlcg-collector quarantine --site %s)" % (HOST, SITE, SITE)]
    assert state(store, "wn02.example.org") == NEW and state(store) == OLD
    assert bytes(store.hosts.find(HOST).key_fingerprint) != bytes(
        store.hosts.find("wn02.example.org").key_fingerprint)
    assert sorted(e.host for e in store.review.quarantined()) == [HOST, HOST]


def test_rollback_takes_forged_facts_away(collector, keys):
    """A forged report of an unsigned host claimed another system: rolling
    back restores the facts with the packages, and the host is matched to
    its OS stream again."""
    store, post, cli = collector
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 3 * DAY))[0] == 200
    assert post(make_report(SITE, HOST, NEW, ts=NOW - 2 * DAY,
                            kernel="5.14.0-503.el9.x86_64"))[0] == 200
    assert post(make_report(SITE, HOST, FORGED, ts=NOW - DAY, system="Windows 3.1",
                            kernel="3.1", arch="i386"), sender="203.0.113.66")[0] == 200
    assert store.hosts.find(HOST).system == "Windows 3.1"
    code, out, _ = cli("rollback", HOST, "--site", SITE, "--to", iso(NOW - DAY - 60))
    assert code == 0 and "1 change(s) of its facts undone" in out, out
    host = store.hosts.find(HOST)
    assert (host.system, host.kernel, host.arch) == ("AlmaLinux 9.4", "5.14.0-503.el9.x86_64",
                                                     "x86_64")
    assert state(store) == NEW
    code, out, _ = cli("hosts", "--format", "json")
    assert json.loads(out)[0]["system"] == "AlmaLinux 9.4"
    # the facts' history grows with changes, not with reports
    for day in (3, 2, 1):
        assert post(make_report(SITE, HOST, NEW, ts=NOW - day * 3600,
                                kernel="5.14.0-503.el9.x86_64"))[0] == 200
    count = store.db.read("SELECT COUNT(*) FROM host_facts WHERE host_id = %d"
                          % store.hosts.find(HOST).id)[0][0]
    assert count == 2
    # rolling back to the first facts, then the next report brings them again
    assert cli("rollback", HOST, "--site", SITE, "--to", iso(NOW - 3 * DAY))[0] == 0
    assert store.hosts.find(HOST).kernel == "5.14.0-427.13.1.el9_4.x86_64"
    assert post(make_report(SITE, HOST, NEW, ts=NOW - 60, kernel="5.14.0-503.el9.x86_64"))[0] \
        == 200
    assert store.hosts.find(HOST).kernel == "5.14.0-503.el9.x86_64"


def test_rollback_never_hides_a_host_and_says_its_pin(collector, keys):
    store, post, cli = collector
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 2 * DAY), keys["host"])[0] == 200
    assert post(make_report(SITE, HOST, NEW, ts=NOW - DAY), keys["host"])[0] == 200
    first = store.hosts.find(HOST).first_report
    code, _, err = cli("rollback", HOST, "--site", SITE, "--to", iso(first - 60))
    assert code == 1 and err.count("\n") == 1 and "first reported at %s" % iso(first) in err
    assert state(store) == NEW
    code, out, _ = cli("rollback", HOST, "--site", SITE, "--to", iso(first))
    assert code == 0 and state(store) == OLD
    fingerprint = bytes(store.hosts.find(HOST).key_fingerprint).hex()[:16]
    assert out.splitlines()[1].startswith(
        "its pin is unchanged: pinned to key SHA256 %s, since " % fingerprint)
    assert "keys pin or keys unpin" in out
    assert [h.name for h in store.hosts.listed()] == [HOST]
    assert json.loads(cli("keys", "--format", "json")[1])[0]["host"] == HOST


def test_a_merge_never_hands_a_pin_to_a_typo_twin(collector, keys, tmp_path):
    """A stranger reports the real host's name under a typo of its site,
    just after the real daily report, signed with the stranger's key. The
    documented merge of the typo into the real site keeps the real host and
    its pin; the twin's state waits in the quarantine, its report in the
    audit trail marked set aside; one line says so."""
    store, post, cli = collector
    assert post(make_report(SITE, HOST, OLD, ts=NOW - 2 * DAY), keys["host"])[0] == 200
    assert post(make_report(SITE, "wn02.example.org", OLD, ts=NOW - 2 * DAY),
                keys["host"])[0] == 200
    genuine = bytes(store.hosts.find(HOST, SITE).key_fingerprint)
    typo = "T2_TEZT"
    # a host that is at the typo only moves as before; so does a site key
    # pinned there on first use, but never onto a site that has hosts
    fake = make_host_key(tmp_path, "fake", "/CN=wlcg-site:" + typo)
    assert post(make_report(typo, "wn09.example.org", OLD, ts=NOW - DAY), fake)[0] == 200
    assert post(make_report(typo, HOST, FORGED, ts=NOW - DAY, system="Windows 3.1"),
                keys["stranger"], sender="203.0.113.66")[0] == 200
    assert post(make_report(typo, "wn03.example.org", OLD, ts=NOW - DAY))[0] == 200
    # --dry-run: what would move, the key and the twin, and nothing written
    counts = store.testing.row_counts()
    code, out, err = cli("sites", "merge", typo, SITE, "--dry-run")
    assert code == 0, err
    planned = out.splitlines()
    assert planned == [
        "merging site T2_TEZT into T2_TEST would move 3 host(s) (0 merged with a host of the same "
        "name), 2 report(s), 4 interval(s), 0 quarantined report(s) and 1 host pin(s); nothing "
        "written (--dry-run)",
        "the site key of T2_TEZT (SHA256 %s) would not be moved: T2_TEST has hosts or a key of "
        "its own" % store.review.site_keys()[0].fingerprint.hex()[:16],
        "%s: pinned to key SHA256 %s at T2_TEST, pinned to key SHA256 %s at T2_TEZT: the host "
        "of T2_TEST would be kept, the other's latest report would wait in the quarantine" % (
            HOST, genuine.hex()[:16],
            bytes(store.hosts.find(HOST, typo).key_fingerprint).hex()[:16])]
    assert store.testing.row_counts() == counts and store.sites.renames() == []
    code, out, err = cli("sites", "merge", typo, SITE)
    assert code == 0, err
    # the merge moved what the dry run said it would
    assert out.splitlines()[0].startswith(
        "merged site T2_TEZT into T2_TEST: 3 host(s) moved (0 merged with a host of the same "
        "name), 2 report(s), 4 interval(s);")
    lines = out.splitlines()
    assert len(lines) == 3 and lines[2].startswith(
        "%s: pinned to key SHA256 %s at %s, pinned to key SHA256 " % (HOST, genuine.hex()[:16],
                                                                      SITE))
    assert "kept the host of %s" % SITE in lines[2] and "quarantine as entry" in lines[2]
    assert lines[1].startswith("the site key of %s (SHA256 " % typo) and "not moved" in lines[1]
    assert store.review.site_keys() == []
    host = store.hosts.find(HOST)
    assert bytes(host.key_fingerprint) == genuine and state(store) == OLD
    assert host.system == "AlmaLinux 9.4"
    assert sorted(h.name for h in store.hosts.listed()) == [HOST, "wn02.example.org",
                                                            "wn03.example.org", "wn09.example.org"]
    [entry] = store.review.quarantined()
    assert (entry.site, entry.host, entry.kind, entry.sender) == (SITE, HOST, "key change",
                                                                  "203.0.113.66")
    text = store.review.quarantined_one(entry.id).report.decode()
    assert "system: Windows 3.1\n" in text and "xrootd\t1:5.6.9-1.el9\tx86_64\n" in text
    assert [r.outcome for r in store.hosts.reports(host.id)] == ["applied", "set aside"]
    # the real host's next report is applied; the stranger's is held
    assert post(make_report(SITE, HOST, NEW, ts=NOW - 60), keys["host"])[0] == 200
    assert post(make_report(typo, HOST, FORGED, ts=NOW - 30), keys["stranger"])[0] == 202
    assert state(store) == NEW


def test_a_merge_with_the_same_pin_joins_the_hosts(collector, keys):
    store, post, cli = collector
    typo = "T2_TEZT"
    assert post(make_report(typo, HOST, OLD, ts=NOW - 2 * DAY), keys["host"])[0] == 200
    assert post(make_report(SITE, HOST, NEW, ts=NOW - DAY), keys["host"])[0] == 200
    code, out, _ = cli("sites", "merge", typo, SITE)
    assert code == 0 and len(out.splitlines()) == 1 and "1 merged" in out
    host = store.hosts.find(HOST)
    assert state(store) == NEW and store.review.quarantined() == []
    assert [r.outcome for r in store.hosts.reports(host.id)] == ["applied", "applied"]
    # the facts' history followed the merged host: a rollback to the typo's days works
    assert cli("rollback", HOST, "--site", SITE, "--to", iso(NOW - 2 * DAY))[0] == 0
    assert state(store) == OLD


def test_a_long_certificate_subject(collector, collector_keys, tmp_path, database_url):
    """A grid host certificate whose subject is over 255 characters pins
    the host (and is held in the quarantine) on MariaDB as on SQLite."""
    from helpers import make_tls_server_files
    store, post, cli = collector
    _, _, capath = make_tls_server_files(tmp_path / "ca")
    ca_key, ca_cert = str(tmp_path / "ca" / "ca.key"), str(tmp_path / "ca" / "ca.pem")
    app = create_app(write_config(tmp_path / "v.conf", database_url, [collector_keys],
                                  capath=capath))

    def certificate(name, units):
        key, csr, cert = (str(tmp_path / (name + suffix)) for suffix in (".key", ".csr", ".pem"))
        subject = "/DC=org/DC=example" + "".join("/OU=unit-%02d-of-a-long-grid-subject" % i
                                                 for i in range(units)) + "/CN=" + HOST
        subprocess.run([OPENSSL, "req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
                        "-subj", subject], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                        "-CAcreateserial", "-out", cert, "-days", "2"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return cert, key

    def send(plaintext, signer):
        status, _, out, _ = wsgi_call(app, encrypt(sign(plaintext, *signer), collector_keys[1]))
        return status, out.decode()
    assert send(make_report(SITE, HOST, OLD, ts=NOW - DAY), certificate("one", 10))[0] == 200
    host = store.hosts.find(HOST)
    assert host.trust == "verified" and len(host.key_subject) > 255
    status, _ = send(make_report(SITE, HOST, NEW, ts=NOW - 60), certificate("two", 12))
    assert status == 202
    [entry] = store.review.quarantined()
    assert len(store.review.quarantined_one(entry.id).signer_subject) > len(host.key_subject)

"""Reading and importing the vendors' advisory feeds: the real files in
tests/fixtures/advisories (see its SOURCES.md) in each format, from a
file, a directory, a zip of OSV records and an https:// URL served by a
local HTTPS server; invalid files; idempotent imports and revisions; the
OS stream table, a row a test."""

import http.server
import json
import os
import shutil
import ssl
import threading
import zipfile

import pytest

from helpers import FIXTURES, make_tls_server_files, run_cli, write_config
from wlcg_collector.advisories import formats, sources
from wlcg_collector.advisories.records import AdvisoryError, Affected
from wlcg_collector.advisories.streams import StreamTable, StreamTableError, parse_config_rows

ADVISORIES = os.path.join(FIXTURES, "advisories")


def fixture(*parts):
    with open(os.path.join(ADVISORIES, *parts), "rb") as handle:
        return handle.read()


# ---------------------------------------------------------------- formats

def test_osv_almalinux():
    data = fixture("osv-almalinux", "almalinux8-ALSA-2023_5259.json")
    assert formats.detect(data) == "osv"
    [advisory] = formats.parse(data)
    assert (advisory.ident, advisory.severity, advisory.cves) == (
        "ALSA-2023:5259", "moderate", ("CVE-2022-32084", "CVE-2022-32091"))
    assert advisory.published == 1695081600  # 2023-09-19T00:00:00Z
    assert advisory.modified == 1695318117   # 2023-09-21T17:41:57Z
    assert advisory.affected == (
        Affected("AlmaLinux:8", "mariadb", "binary", None, "mariadb:10.3", None,
                 "3:10.3.39-1.module_el8.8.0+3609+204d4ab0", None, False),
        Affected("AlmaLinux:8", "mariadb-server", "binary", None, "mariadb:10.3", None,
                 "3:10.3.39-1.module_el8.8.0+3609+204d4ab0", None, False))
    # a bug fix advisory: no security impact
    [bugfix] = formats.parse(fixture("osv-almalinux", "almalinux8-ALBA-2021_4378.json"))
    assert (bugfix.severity, bugfix.cves) == ("none", ())


def test_osv_ubuntu_binaries_and_pro():
    [usn] = formats.parse(fixture("osv-ubuntu", "USN-5614-1.json"))
    assert usn.cves == ("CVE-2021-3782",) and usn.severity == "moderate"
    streams = {(a.stream, a.name, a.fixed) for a in usn.affected}
    assert ("Ubuntu:22.04:LTS", "libwayland-client0", "1.20.0-1ubuntu0.1") in streams
    assert all(a.kind == "binary" for a in usn.affected)  # the record names binaries
    [cve] = formats.parse(fixture("osv-ubuntu", "UBUNTU-CVE-2021-3782.json"))
    pro = [a for a in cve.affected if a.pro]
    assert {a.stream for a in pro} == {"Ubuntu:16.04:LTS"}  # Ubuntu:Pro:16.04:LTS
    assert pro[0].fixed == "1.12.0-1~ubuntu16.04.3+esm1"


def test_osv_without_binaries_names_the_source():
    record = json.loads(fixture("osv-ubuntu", "USN-5614-1.json"))
    for affected in record["affected"]:
        del affected["ecosystem_specific"]
    [usn] = formats.parse(json.dumps(record).encode())
    assert {(a.name, a.kind) for a in usn.affected} == {("wayland", "source")}


def test_osv_ranges_last_affected_and_no_fix():
    record = {"id": "TEST-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "foo"}, "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "1.0-1"}, {"last_affected": "1.4-2"},
                                             {"introduced": "2.0-1"}]},
            {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc"}]}]}]}
    [advisory] = formats.parse(json.dumps(record).encode())
    assert [(a.introduced, a.fixed, a.last_affected) for a in advisory.affected] == [
        ("1.0-1", None, "1.4-2"), ("2.0-1", None, None)]


def test_csaf_red_hat():
    data = fixture("csaf-redhat", "rhsa-2025_23414.json")
    assert formats.detect(data) == "csaf"
    [advisory] = formats.parse(data)
    assert (advisory.ident, advisory.severity) == ("RHSA-2025:23414", "important")
    assert advisory.cves == ("CVE-2021-25220", "CVE-2025-40778")
    assert advisory.published == 1765930626  # 2025-12-17T00:17:06+00:00
    binds = {(a.stream, a.name, a.arch, a.fixed) for a in advisory.affected}
    assert ("Red Hat:6", "bind-libs", "i686", "32:9.8.2-0.68.rc1.el6_10.17") in binds
    assert ("Red Hat:6", "bind-libs", "x86_64", "32:9.8.2-0.68.rc1.el6_10.17") in binds
    # binaries named: the .src product is not used
    assert all(a.kind == "binary" for a in advisory.affected)
    [source_only] = formats.parse(fixture("csaf-redhat", "rhsa-2024_6163.json"))
    assert source_only.affected == (Affected("Red Hat:9", "python3.9", "source", None, None, None,
                                             "0:3.9.18-3.el9_4.5", None, False),)


def test_debian_tracker():
    data = fixture("debian-tracker", "debian.json")
    assert formats.detect(data) == "debian-tracker"
    advisories = {a.ident: a for a in formats.parse(data)}
    chromium = advisories["DEBIAN-CVE-2022-0456"]
    assert {(a.stream, a.fixed) for a in chromium.affected} == {
        ("Debian:12", "98.0.4758.80-1"), ("Debian:11", "98.0.4758.80-1~deb11u1"),
        ("Debian:sid", "98.0.4758.80-1"),
        ("Debian:10", None), ("Debian:9", None)}  # open: every version
    assert advisories["DEBIAN-CVE-2007-2383"].affected == ()  # fixed_version 0: never affected
    assert advisories["DEBIAN-CVE-2008-7220"].severity == "important"  # "high**"
    assert "DEBIAN-CVE-2022-0358" in advisories  # "releases": [] (an empty PHP array)


def test_dsa_list():
    data = fixture("debian-tracker", "DSA.list")
    assert formats.detect(data) == "dsa-list"
    advisories = {a.ident: a for a in formats.parse(data)}
    sope = advisories["DSA-5970-1"]
    assert (sope.published, sope.cves, sope.title) == (1753920000, ("CVE-2025-53603",),
                                                       "sope: security update")
    assert sope.affected == (Affected("Debian:12", "sope", "source", None, None, None,
                                      "5.8.0-1+deb12u1", None, False),)
    assert advisories["DSA-3281-1"].affected == ()  # a notice, no package


@pytest.mark.parametrize("data, message", [
    (b"", "not JSON and not a DSA list"),
    (b"{\"id\": \"X-1\", \"affected\": [}", "not valid JSON"),
    (b"\xff{}", "not JSON and not a DSA list"),
    (b"{\"a\": 1}", "not an advisory format this collector reads"),
    (b"{\"id\": \"bad id!\", \"modified\": \"2024-01-01T00:00:00Z\"}", "advisory id"),
    (b"{\"id\": \"X-1\", \"published\": \"yesterday\", \"affected\": []}",
     "X-1: published 'yesterday' is not an ISO 8601 time"),
    (b"{\"id\": \"X-1\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", "
     b"\"name\": \"a b\"}}]}", "package name 'a b' is not printable ASCII"),
    (b"[01 Aug 2002] DSA-141 mpack - x\n\t[woody] - mpack 1.5:-7\n", "DSA-141: line 2"),
])
def test_invalid_files_are_one_line_errors(data, message):
    with pytest.raises(AdvisoryError) as caught:
        formats.parse(data)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_format_given_that_the_file_is_not():
    with pytest.raises(AdvisoryError) as caught:
        formats.parse(fixture("osv-ubuntu", "USN-5614-1.json"), "csaf")
    assert str(caught.value) == 'not a CSAF document (no "document" object)'
    with pytest.raises(AdvisoryError) as caught:
        formats.parse(fixture("csaf-redhat", "rhsa-2024_6163.json"), "osv")
    assert str(caught.value) == 'not an OSV record (no "id")'


# ---------------------------------------------------------------- streams

@pytest.mark.parametrize("system, stream", [
    ("AlmaLinux 9.4", "AlmaLinux:9"),
    ("AlmaLinux release 8.9 (Midnight Oncilla)", "AlmaLinux:8"),
    ("Rocky Linux 8.9", "Rocky Linux:8"),
    ("Red Hat Enterprise Linux 9.3", "Red Hat:9"),
    ("Red Hat Enterprise Linux Server release 7.9 (Maipo)", "Red Hat:7"),
    ("CentOS Linux release 7.9.2009 (Core)", "Red Hat:7"),
    ("CentOS Stream 9", "Red Hat:9"),
    ("Scientific Linux release 7.9 (Nitrogen)", "Red Hat:7"),
    ("Oracle Linux Server 8.9", "Oracle Linux:8"),
    ("Debian GNU/Linux 12 (bookworm)", "Debian:12"),
    ("Ubuntu 22.04.4 LTS", "Ubuntu:22.04:LTS"),
    ("Ubuntu 22.04", "Ubuntu:22.04:LTS"),
    ("Ubuntu 23.10", "Ubuntu:23.10"),
    ("Fedora Linux 40", None),
    (None, None),
])
def test_stream_table_rows(system, stream):
    assert StreamTable().stream_of(system) == stream


def test_streams_fall_back_to_red_hat_where_no_own_feed_is_loaded():
    table = StreamTable(loaded={"Red Hat:8", "Rocky Linux:9"})
    assert table.stream_of("Rocky Linux release 8.9 (Green Obsidian)") == "Red Hat:8"
    assert table.stream_of("Rocky Linux 9.3") == "Rocky Linux:9"
    assert table.stream_of("Oracle Linux Server release 8.9") == "Red Hat:8"
    assert table.stream_of("AlmaLinux 9.4") is None  # neither AlmaLinux:9 nor Red Hat:9


def test_stream_rows_from_the_config(tmp_path):
    rows = parse_config_rows("# Springdale is a rebuild\n"
                             "^Springdale Linux release ([0-9]+) => Red Hat:\\1\n")
    assert StreamTable(rows).stream_of("Springdale Linux release 8.6 (Modena)") == "Red Hat:8"
    for bad in ("^Foo", "^Foo ([0-9]+) => Red Hat:\\2", "^Foo ( => x"):
        with pytest.raises(StreamTableError):
            parse_config_rows(bad)
    path = write_config(tmp_path / "c.conf", "sqlite:///%s" % (tmp_path / "db"), [])
    with open(path, "a") as handle:
        handle.write("[advisories]\nos_streams = ^Foo => \n")
    code, out, err = run_cli(["--config", path, "advisories", "list"])
    assert code == 2 and "[advisories] os_streams line '^Foo =>'" in err


# ---------------------------------------------------------------- sources

def osv_zip(path, names=None):
    folder = os.path.join(ADVISORIES, "osv-almalinux")
    with zipfile.ZipFile(str(path), "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names or sorted(os.listdir(folder)):
            archive.write(os.path.join(folder, name), "almalinux/" + name)
        archive.writestr("README", "not a record")
    return str(path)


def test_zip_of_osv_records(tmp_path):
    items = list(sources.items_of(osv_zip(tmp_path / "almalinux.zip")))
    assert len(items) == 5 and items[0][0].startswith(str(tmp_path / "almalinux.zip") + ":")


def test_a_zip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_ZIP_MEMBER", 1000)
    items = list(sources.items_of(osv_zip(tmp_path / "z.zip")))
    assert all(isinstance(data, AdvisoryError) for _, data in items[2:])
    assert "larger than 1000 bytes" in str(items[-1][1])


def test_a_fifo_is_not_read(tmp_path):
    fifo = tmp_path / "feed.json"
    os.mkfifo(str(fifo))
    with pytest.raises(sources.SourceError) as caught:
        list(sources.items_of(str(fifo)))
    assert "is not a regular file" in str(caught.value)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_feed(tmp_path_factory):
    """A local HTTPS server serving the fixtures (and a zip of the OSV
    records), with a certificate of a test CA: (base URL, CA file)."""
    root = tmp_path_factory.mktemp("feed")
    shutil.copytree(ADVISORIES, str(root / "feed"))
    osv_zip(root / "feed" / "almalinux.zip")
    key, cert, _ = make_tls_server_files(root / "tls")
    handler = lambda *a, **k: _Quiet(*a, directory=str(root / "feed"), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % server.server_address[1], str(root / "tls" / "ca.pem")
    server.shutdown()


def test_fetch_verifies_the_certificate_and_bounds_the_size(https_feed):
    base, ca_file = https_feed
    data = sources.fetch(base + "/debian-tracker/debian.json", ca_file=ca_file)
    assert data == fixture("debian-tracker", "debian.json")
    with pytest.raises(sources.SourceError) as caught:
        sources.fetch(base + "/debian-tracker/debian.json")  # the system CAs do not know it
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    with pytest.raises(sources.SourceError) as caught:
        sources.fetch(base + "/debian-tracker/debian.json", ca_file=ca_file, max_bytes=1000)
    assert "more than the 1000 bytes allowed" in str(caught.value)
    with pytest.raises(sources.SourceError) as caught:
        sources.fetch(base + "/nothing.json", ca_file=ca_file)
    assert "HTTP 404" in str(caught.value)
    with pytest.raises(sources.SourceError) as caught:
        sources.fetch(base.replace("https", "http") + "/x.json")
    assert "only https:// URLs are fetched" in str(caught.value)


# ---------------------------------------------------------------- import

def db_args(database_url):
    return ["--db", database_url]


def test_import_is_idempotent_and_keeps_revisions(database_url, tmp_path):
    assert run_cli(db_args(database_url) + ["init-db"])[0] == 0
    code, out, err = run_cli(db_args(database_url) + ["advisories", "import", ADVISORIES])
    assert (code, err) == (0, "")
    assert out == "11 file(s) read: 26 new, 0 updated, 0 unchanged, 0 older than stored\n"
    code, out, err = run_cli(db_args(database_url) + ["advisories", "import", ADVISORIES])
    assert out == "11 file(s) read: 0 new, 0 updated, 26 unchanged, 0 older than stored\n"
    # an update: a new revision, the old one kept
    record = json.loads(fixture("osv-almalinux", "almalinux9-ALSA-2024_2433.json"))
    record["modified"] = "2024-06-01T00:00:00Z"
    record["affected"][0]["ranges"][0]["events"][1]["fixed"] = "0.8-21.el9"
    updated = tmp_path / "update.json"
    updated.write_text(json.dumps(record))
    code, out, err = run_cli(db_args(database_url) + ["advisories", "import", str(updated)])
    assert out == "1 file(s) read: 0 new, 1 updated, 0 unchanged, 0 older than stored\n"
    code, out, err = run_cli(db_args(database_url) + ["advisories", "show", "ALSA-2024:2433",
                                                      "--format", "json"])
    shown = json.loads(out)
    assert shown["revision"] == 2 and len(shown["revisions"]) == 1
    assert shown["revisions"][0]["modified"] == 1715094260
    assert ["AlmaLinux:9", "avahi", "binary", None, None, None, "0.8-21.el9", None, False] \
        in shown["affected"]
    # the older file again: older than stored, nothing changes
    code, out, err = run_cli(db_args(database_url) + ["advisories", "import", os.path.join(
        ADVISORIES, "osv-almalinux", "almalinux9-ALSA-2024_2433.json")])
    assert out == "1 file(s) read: 0 new, 0 updated, 0 unchanged, 1 older than stored\n"
    code, out, err = run_cli(db_args(database_url) + ["advisories", "show", "ALSA-2024:2433"])
    assert code == 0 and "earlier revisions:" in out and "0.8-21.el9" in out


def test_an_invalid_file_is_named_and_nothing_of_it_stored(database_url, tmp_path):
    assert run_cli(db_args(database_url) + ["init-db"])[0] == 0
    folder = tmp_path / "feed"
    folder.mkdir()
    shutil.copy(os.path.join(ADVISORIES, "osv-ubuntu", "USN-5614-1.json"), str(folder))
    record = json.loads(fixture("osv-almalinux", "almalinux8-ALSA-2023_4520.json"))
    record["affected"][0]["ranges"][0]["events"][1]["fixed"] = "2.20.0 -3.el8"
    (folder / "broken.json").write_text(json.dumps(record))
    code, out, err = run_cli(db_args(database_url) + ["advisories", "import", str(folder),
                                                      str(tmp_path / "missing.json")])
    assert code == 1
    assert err.splitlines() == [
        "wlcg-collector: %s: ALSA-2023:4520: fixed '2.20.0 -3.el8' is not printable ASCII of "
        "at most 200 characters" % (folder / "broken.json"),
        "wlcg-collector: %s: no such file or directory" % (tmp_path / "missing.json")]
    assert out.endswith("; 2 not valid (nothing of them stored)\n")
    code, out, err = run_cli(db_args(database_url) + ["advisories", "list", "--format", "json"])
    assert [r["advisory"] for r in json.loads(out)] == ["USN-5614-1"]


def test_import_from_https_and_configured_feeds(tmp_path, https_feed):
    base, ca_file = https_feed
    database = "sqlite:///%s" % (tmp_path / "c.db")
    path = write_config(tmp_path / "c.conf", database, [])
    with open(path, "a") as handle:
        handle.write("[advisories]\nfeeds = %s/almalinux.zip\n    %s/csaf-redhat/"
                     "rhsa-2025_23414.json\nca_file = %s\n" % (base, base, ca_file))
    assert run_cli(["--config", path, "init-db"])[0] == 0
    code, out, err = run_cli(["--config", path, "advisories", "import", "--quiet"])
    assert (code, out, err) == (0, "", "")
    code, out, err = run_cli(["--config", path, "advisories", "list", "--format", "csv"])
    assert [line.split(",")[0] for line in out.splitlines()] == [
        "advisory", "ALBA-2021:4378", "ALSA-2022:8194", "ALSA-2023:4520", "ALSA-2023:5259",
        "ALSA-2024:2433", "RHSA-2025:23414"]


def test_list_filters(tmp_path):
    database = "sqlite:///%s" % (tmp_path / "c.db")
    assert run_cli(["--db", database, "init-db"])[0] == 0
    assert run_cli(["--db", database, "advisories", "import", ADVISORIES])[0] == 0

    def listed(*args):
        code, out, err = run_cli(["--db", database, "advisories", "list", "--format", "json"]
                                 + list(args))
        assert code == 0, err
        return [r["advisory"] for r in json.loads(out)]
    assert listed("--cve", "cve-2021-3782") == ["UBUNTU-CVE-2021-3782", "USN-5614-1"]
    assert listed("--severity", "important") == ["DEBIAN-CVE-2008-7220", "RHSA-2025:23414"]
    assert listed("--severity", "none") == ["ALBA-2021:4378"]
    # first seen today where the feed gives no date
    assert "DEBIAN-CVE-2005-3111" in listed("--since", "2025-06-01")
    assert "DSA-141" not in listed("--since", "2025-06-01")
    assert "DSA-5970-1" in listed("--since", "2025-06-01")


def test_what_a_feed_says_is_text_not_terminal_commands():
    record = json.loads(fixture("osv-almalinux", "almalinux8-ALSA-2023_4520.json"))
    record["summary"] = "Moderate: \x1b[2J\x1b]0;owned\x07 requests \u202egnp.exe update"
    record["references"] = [{"type": "ADVISORY", "url": "javascript:alert(1)"}]
    [advisory] = formats.parse(json.dumps(record).encode())
    assert advisory.title == "Moderate: [2J ]0;owned requests gnp.exe update"
    assert advisory.url is None
    tracker = {"foo": {"CVE-2024-0001": {"releases": {"../../x" * 10: {
        "status": "open", "urgency": "low"}}}}}
    with pytest.raises(AdvisoryError) as caught:
        formats.parse(json.dumps(tracker).encode())
    assert "is not a code name" in str(caught.value)


def test_a_zip_member_name_is_printed_safely(tmp_path):
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(str(path), "w") as archive:
        archive.writestr("evil\x1b[2J.json", b"{not json")
    [(name, data)] = list(sources.items_of(str(path)))
    assert name == "%s:evil\\x1b[2J.json" % path


class _Dripping(_Quiet):
    """Sends a byte every 0.2 s, for ever: only a deadline ends the read."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"[")
                self.wfile.flush()
                import time
                time.sleep(0.2)
        except OSError:
            pass


def test_a_server_that_drips_meets_the_deadline(tmp_path):
    key, cert, _ = make_tls_server_files(tmp_path / "tls")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Dripping)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        import time
        began = time.monotonic()
        with pytest.raises(sources.SourceError) as caught:
            sources.fetch("https://127.0.0.1:%d/feed.json" % server.server_address[1],
                          ca_file=str(tmp_path / "tls" / "ca.pem"), timeout=5, deadline=1)
        assert "not fetched within 1 s" in str(caught.value)
        assert time.monotonic() - began < 4
    finally:
        server.shutdown()


def test_a_large_feed_is_stored_in_batches(tmp_path, monkeypatch):
    from wlcg_collector.advisories import commands
    monkeypatch.setattr(commands, "IMPORT_BATCH", 3)
    stored = []
    from wlcg_collector.db.advisory_store import AdvisoryStore
    original = AdvisoryStore.import_records
    monkeypatch.setattr(AdvisoryStore, "import_records", lambda self, advisories, now: (
        stored.append(len(advisories)), original(self, advisories, now))[1])
    database = "sqlite:///%s" % (tmp_path / "c.db")
    assert run_cli(["--db", database, "init-db"])[0] == 0
    code, out, err = run_cli(["--db", database, "advisories", "import", ADVISORIES])
    assert out == "11 file(s) read: 26 new, 0 updated, 0 unchanged, 0 older than stored\n"
    # a batch closes after the file that fills it (the DSA list holds 10)
    assert len(stored) > 3 and sum(stored) == 26 and max(stored) <= 2 + 10


def test_list_fits_the_terminal_and_wide_shows_whole_titles(tmp_path, monkeypatch):
    database = "sqlite:///%s" % (tmp_path / "c.db")
    assert run_cli(["--db", database, "init-db"])[0] == 0
    assert run_cli(["--db", database, "advisories", "import", ADVISORIES])[0] == 0
    monkeypatch.setenv("COLUMNS", "110")
    code, out, err = run_cli(["--db", database, "advisories", "list"])
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) > 5 and max(len(line) for line in lines) <= 110
    code, wide, err = run_cli(["--db", database, "advisories", "list", "--wide"])
    assert code == 0, err
    assert max(len(line) for line in wide.splitlines()) > 200
    # each line the same advisory: its first CVE, how many more, its title
    # whole or cut where the line reaches the width
    for short, whole in zip(lines[1:], wide.splitlines()[1:]):
        advisory, _, _, first_cve = whole.split()[:4]
        assert short.split()[0] == advisory and first_cve in short
        title = " ".join(whole.split("  ")[-1].split())
        assert title in short or (short.endswith("…") and title.startswith(
            short.split("  ")[-1].strip()[:-1]))
    assert any(line.endswith("…") for line in lines)
    assert "CVE-2022-0561 +9 more" in out
    # to a pipe without COLUMNS, as a script reads it: nothing cut
    monkeypatch.delenv("COLUMNS")
    assert run_cli(["--db", database, "advisories", "list"])[1] == wide

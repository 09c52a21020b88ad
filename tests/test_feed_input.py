"""What the importers and `ingest` make of odd input: feed files with a
value of the wrong type anywhere (each real fixture mutated key by key),
values too long or out of range for their columns, an answer of an HTTPS
server that is not HTTP, a site list nested 50,000 deep, and file names
that are not UTF-8 or hold control characters. Each is one line naming
the source and the record; the other records and sources are imported."""

import json
import os
import shutil
import socketserver
import ssl
import threading

import pytest

from helpers import FIXTURES, make_report, make_tls_server_files, run_cli
from wlcg_collector.advisories import formats
from wlcg_collector.advisories.records import AdvisoryError, Affected, check_advisory
from wlcg_collector.db.advisory_store import InvalidAdvisory

ADVISORIES = os.path.join(FIXTURES, "advisories")
JSON_FIXTURES = [os.path.join(folder, name)
                 for folder in ("osv-almalinux", "osv-ubuntu", "csaf-redhat", "debian-tracker")
                 for name in sorted(os.listdir(os.path.join(ADVISORIES, folder)))
                 if name.endswith(".json")]
# a value of each JSON type, and text no column holds
WRONG_VALUES = [7, "x", [1], {"a": 1}, None, "9" * 300]
T0 = 1767225600  # 2026-01-01T00:00:00Z
BASH = ("bash", "0:5.1.8-9.el9", "x86_64")


def fixture(path):
    with open(os.path.join(ADVISORIES, path), "rb") as handle:
        return handle.read()


def key_paths(value, prefix=(), shapes=None):
    """A key path of a JSON value for each of its shapes (a path with its
    list indices left out: the first item of each list, the second where
    it has a shape the first has not)."""
    shapes = set() if shapes is None else shapes
    shape = tuple("*" if isinstance(key, int) else key for key in prefix)
    if shape in shapes:
        return
    shapes.add(shape)
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from key_paths(item, prefix + (key,), shapes)
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from key_paths(item, prefix + (index,), shapes)


def replaced(document, path, value):
    if not path:
        return value
    document = json.loads(json.dumps(document))
    holder = document
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return document


def db_args(database_url):
    return ["--db", database_url]


def stored_advisories(database_url):
    code, out, err = run_cli(db_args(database_url) + ["advisories", "list", "--format", "json"])
    assert code == 0, err
    return sorted(row["advisory"] for row in json.loads(out))


# ---------------------------------------------------------------- every value's type

@pytest.mark.parametrize("path", JSON_FIXTURES)
def test_a_value_of_the_wrong_type_anywhere_is_imported_or_one_line(path):
    """Each key of a real file given a number, text, a list, an object or
    null: the file is read or refused with an AdvisoryError (one line),
    never another exception; what is read fits its columns."""
    document = json.loads(fixture(path))
    tried = 0
    for key_path in key_paths(document):
        for value in WRONG_VALUES:
            data = json.dumps(replaced(document, key_path, value)).encode()
            tried += 1
            try:
                advisories = formats.parse(data)
            except AdvisoryError as exc:
                assert "\n" not in str(exc) and "unexpected content" not in str(exc), \
                    (key_path, value, str(exc))
                continue
            for advisory in advisories:
                check_advisory(advisory)
    assert tried > 100


def osv_record(name, **changes):
    record = json.loads(fixture(os.path.join("osv-almalinux", name)))
    record.update(changes)
    return record


def test_a_record_of_the_wrong_shape_is_refused_alone_and_later_sources_read(database_url,
                                                                             tmp_path):
    """A list of OSV records with numbers where a list or an object belongs,
    then a CSAF file with one, then good files: one line each, the rest
    stored."""
    assert run_cli(db_args(database_url) + ["init-db"])[0] == 0
    records = [osv_record("almalinux8-ALSA-2023_4520.json", references=7),
               osv_record("almalinux8-ALSA-2023_5259.json"),
               osv_record("almalinux9-ALSA-2022_8194.json", severity=7),
               5,
               osv_record("almalinux9-ALSA-2024_2433.json")]
    records[4]["affected"][0]["database_specific"] = {"cves_map": 7}
    (tmp_path / "osv.json").write_text(json.dumps(records))
    csaf = json.loads(fixture("csaf-redhat/rhsa-2024_6163.json"))
    csaf["document"]["aggregate_severity"] = 7
    (tmp_path / "csaf.json").write_text(json.dumps(csaf))
    later = os.path.join(ADVISORIES, "csaf-redhat", "rhsa-2025_23414.json")
    code, out, err = run_cli(db_args(database_url) + [
        "advisories", "import", str(tmp_path / "osv.json"), str(tmp_path / "csaf.json"), later,
        os.path.join(ADVISORIES, "osv-ubuntu")])
    assert code == 1
    osv, other = tmp_path / "osv.json", tmp_path / "csaf.json"
    assert err.splitlines() == [
        "wlcg-collector: %s: ALSA-2023:4520: references is not a JSON list" % osv,
        "wlcg-collector: %s: ALSA-2022:8194: severity is not a JSON list" % osv,
        "wlcg-collector: %s: record 4: OSV record is not a JSON object" % osv,
        "wlcg-collector: %s: ALSA-2024:2433: affected cves_map is not a JSON object" % osv,
        "wlcg-collector: %s: RHSA-2024:6163: aggregate_severity is not a JSON object" % other]
    assert out == ("5 file(s) read: 4 new, 0 updated, 0 unchanged, 0 older than stored; "
                   "5 not valid (nothing of them stored)\n")
    assert stored_advisories(database_url) == ["ALSA-2023:5259", "RHSA-2025:23414",
                                               "UBUNTU-CVE-2021-3782", "USN-5614-1"]


def test_a_debian_entry_refuses_its_cve_and_a_dsa_line_its_dsa():
    tracker = json.loads(fixture("debian-tracker/debian.json"))
    tracker["prototypejs"]["CVE-2008-7220"]["releases"] = 7
    tracker["evil\x1b[2J"] = 7
    results = formats.parse_records(json.dumps(tracker).encode(), "debian-tracker")
    refused = {record: str(result) for record, result in results
               if isinstance(result, AdvisoryError)}
    assert refused == {"DEBIAN-CVE-2008-7220": "package prototypejs releases is not a JSON "
                                               "object",
                       "package 'evil\\x1b[2J'": "not a JSON object"}
    assert len(results) - len(refused) == len(formats.parse(fixture(
        "debian-tracker/debian.json"))) - 1
    dsa = fixture("debian-tracker/DSA.list").decode()
    dsa = dsa.replace("[01 Aug 2002] DSA-141", "[41 Aug 2002] DSA-141").replace(
        "libpng3 1.2.1-1.1.woody.2", "libpng3 1.2.1:-1")
    results = formats.parse_records(dsa.encode())
    refused = {record: str(result) for record, result in results
               if isinstance(result, AdvisoryError)}
    assert refused == {"DSA-141": "not a date",
                       "DSA-140": "line 7: '1.2.1:-1': epoch in version is not number"}
    assert len(results) == len(formats.parse(fixture("debian-tracker/DSA.list")))


# ---------------------------------------------------------------- values and columns

def csaf_with_major(major):
    text = fixture("csaf-redhat/rhsa-2024_6163.json").decode()
    assert "redhat:enterprise_linux:9" in text
    return text.replace("redhat:enterprise_linux:9", "redhat:enterprise_linux:" + major)


def test_a_csaf_cpe_with_a_70_digit_major_refuses_its_advisory_not_the_batch(database_url,
                                                                             tmp_path):
    assert run_cli(db_args(database_url) + ["init-db"])[0] == 0
    folder = tmp_path / "feed"
    shutil.copytree(ADVISORIES, str(folder))
    bad = folder / "csaf-redhat" / "rhsa-2024_6163.json"
    bad.write_text(csaf_with_major("9" * 70))
    code, out, err = run_cli(db_args(database_url) + ["advisories", "import", str(folder)])
    assert code == 1
    cpe = "cpe:/a:redhat:enterprise_linux:" + "9" * 70
    assert err == ("wlcg-collector: %s: RHSA-2024:6163: CPE %r names no RHEL release (at most "
                   "3 digits)\n" % (bad, cpe[:60]))
    assert out == ("11 file(s) read: 25 new, 0 updated, 0 unchanged, 0 older than stored; "
                   "1 not valid (nothing of them stored)\n")
    assert "RHSA-2024:6163" not in stored_advisories(database_url)
    assert len(stored_advisories(database_url)) == 25


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(published="2024-13-45T00:00:00Z"),
     "published '2024-13-45T00:00:00Z' is not a date"),
    (lambda r: r.update(id="ALSA-" + "1" * 200), "advisory id"),
    (lambda r: r["affected"][0]["package"].update(name="a" * 201),
     "package name 'aaaa"),
    (lambda r: r["affected"][0]["package"].update(ecosystem="AlmaLinux:" + "8" * 60),
     "ecosystem 'AlmaLinux:888"),
    (lambda r: r["affected"][0]["ranges"][0]["events"][1].update(fixed="1." * 101),
     "fixed '1.1."),
])
def test_a_value_too_long_or_out_of_range_refuses_its_record(change, message):
    good = osv_record("almalinux8-ALSA-2023_5259.json")
    bad = osv_record("almalinux8-ALSA-2023_4520.json")
    change(bad)
    results = formats.parse_records(json.dumps([bad, good]).encode())
    assert [type(r).__name__ for _, r in results] == ["AdvisoryError", "Advisory"]
    assert message in str(results[0][1])


@pytest.mark.parametrize("field, value", [
    ("stream", "Red Hat:" + "9" * 70), ("name", "n" * 201), ("arch", "x" * 33),
    ("module", "m" * 201), ("fixed", "1" * 201), ("kind", "both")])
def test_the_store_refuses_a_value_its_column_cannot_hold_and_writes_nothing(store, field,
                                                                             value):
    """The last line before the database, whatever made the record: the
    whole call is refused, nothing written (the parsers refuse such a
    record alone, so a batch never holds one)."""
    store.schema.init()
    [good] = formats.parse(fixture("osv-almalinux/almalinux8-ALSA-2023_5259.json"))
    [other] = formats.parse(fixture("osv-almalinux/almalinux8-ALSA-2023_4520.json"))
    row = Affected("AlmaLinux:8", "mariadb", "binary", None, None, None, "1-1.el8", None, False)
    bad = other._replace(affected=(row._replace(**{field: value}),))
    with pytest.raises(InvalidAdvisory) as caught:
        store.advisories.import_records([good, bad], T0)
    assert str(caught.value).startswith("advisory 'ALSA-2023:4520': ")
    assert store.advisories.listed() == []


# ---------------------------------------------------------------- HTTPS answers

# what a broken or hostile server answers (the good answer: a real file)
BAD_ANSWERS = {
    "/length": (b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n[]",
                "Content-Length '\u00b2' is not a number"),
    "/chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n",
               "not a valid HTTP answer (IncompleteRead"),
    "/headers": (b"HTTP/1.1 200 OK\r\n" + b"X-Filler: 1\r\n" * 101 + b"\r\n[]",
                 "not a valid HTTP answer (HTTPException: got more than 100 headers)"),
    "/status": (b"HTTP/1.1 two hundred \x1b[2J\r\n\r\n[]",
                "not a valid HTTP answer (BadStatusLine: "),
}


class _Canned(socketserver.StreamRequestHandler):
    """Answers each path with its bytes as they are, then closes."""

    def handle(self):
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 65536:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            request += chunk
        path = request.split(b" ")[1].decode("ascii", "replace")
        if path in BAD_ANSWERS:
            answer = BAD_ANSWERS[path][0]
        else:
            body = fixture(path.lstrip("/"))
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        self.wfile.write(answer)


@pytest.fixture
def odd_server(tmp_path):
    """(base URL, CA file) of a local HTTPS server answering BAD_ANSWERS."""
    key, cert, _ = make_tls_server_files(tmp_path / "tls")
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Canned)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "https://127.0.0.1:%d" % server.server_address[1], str(tmp_path / "tls" / "ca.pem")
    server.shutdown()
    server.server_close()


def config_with_ca(tmp_path, database_url, ca_file):
    path = tmp_path / "c.conf"
    path.write_text("[collector]\ndatabase = %s\n[advisories]\nca_file = %s\n"
                    "[sites]\nca_file = %s\n" % (database_url, ca_file, ca_file))
    return str(path)


def test_an_answer_that_is_not_http_is_one_line_and_later_feeds_are_read(tmp_path,
                                                                         odd_server):
    base, ca_file = odd_server
    config = config_with_ca(tmp_path, "sqlite:///%s" % (tmp_path / "c.db"), ca_file)
    assert run_cli(["--config", config, "init-db"])[0] == 0
    code, out, err = run_cli(["--config", config, "advisories", "import"]
                             + [base + path for path in BAD_ANSWERS]
                             + [base + "/csaf-redhat/rhsa-2025_23414.json"])
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == len(BAD_ANSWERS) and "\x1b" not in err
    for line, (path, (_, message)) in zip(lines, BAD_ANSWERS.items()):
        assert line.startswith("wlcg-collector: %s%s: " % (base, path))
        assert message in line, line
    assert out.startswith("1 file(s) read: 1 new,")
    assert stored_advisories("sqlite:///%s" % (tmp_path / "c.db")) == ["RHSA-2025:23414"]


@pytest.mark.parametrize("path", list(BAD_ANSWERS))
def test_a_site_list_answer_that_is_not_http_is_one_line(tmp_path, odd_server, path):
    base, ca_file = odd_server
    config = config_with_ca(tmp_path, "sqlite:///%s" % (tmp_path / "c.db"), ca_file)
    assert run_cli(["--config", config, "init-db"])[0] == 0
    code, out, err = run_cli(["--config", config, "sites", "import", base + path])
    assert code == 1 and out == ""
    assert err.startswith("wlcg-collector: %s%s: " % (base, path))
    assert BAD_ANSWERS[path][1] in err and err.endswith("; nothing imported\n")
    assert err.count("\n") == 1 and "\x1b" not in err


# ---------------------------------------------------------------- site lists

def test_a_cric_list_nested_50000_deep_is_one_line(tmp_path, database_url):
    assert run_cli(db_args(database_url) + ["init-db"])[0] == 0
    deep = tmp_path / "cric.json"
    deep.write_text('{"T2_DEEP": ' + '{"a": ' * 50000 + "1" + "}" * 50000 + "}")
    code, out, err = run_cli(db_args(database_url) + ["sites", "import", str(deep)])
    assert (code, out) == (1, "")
    assert err == "wlcg-collector: %s is not JSON: nested too deeply; nothing imported\n" % deep
    code, out, err = run_cli(db_args(database_url) + ["sites", "--format", "json"])
    assert json.loads(out) == []


# ---------------------------------------------------------------- ingest

def test_ingest_stores_files_whose_names_are_not_utf8_and_escapes_every_name(tmp_path,
                                                                             database_url):
    """A name that is not UTF-8 reaches the command as surrogate escapes,
    which neither a terminal nor a database column takes: it is shown
    (and kept as the sender) escaped, and the valid file beside it stored;
    a name with control characters is one line that drives no terminal."""
    assert run_cli(db_args(database_url) + ["init-db"])[0] == 0
    folder = os.fsencode(str(tmp_path))
    odd = os.path.join(folder, b"wn02-\xff.txt")
    with open(odd, "wb") as handle:
        handle.write(make_report(host="wn02.example.org", packages=[BASH], ts=T0))
    good = tmp_path / "wn01.txt"
    good.write_bytes(make_report(host="wn01.example.org", packages=[BASH], ts=T0))
    evil = tmp_path / "evil\x1b[31m\n.txt"
    evil.write_bytes(b"#\nnot a report\n")
    code, out, err = run_cli(db_args(database_url) + ["ingest", os.fsdecode(odd), str(good),
                                                      str(evil)])
    assert code == 1
    assert out == "stored 2 of 3 report(s): 2 changed\n"
    assert err.count("\n") == 1 and "\x1b" not in err
    assert err.startswith("wlcg-collector: %s: " % os.path.join(str(tmp_path),
                                                                "evil\\x1b[31m\\n.txt"))
    code, out, err = run_cli(db_args(database_url) + ["reports", "wn02.example.org", "--site",
                                                      "T2_TEST", "--format", "json"])
    assert code == 0, err
    assert [row["sender"] for row in json.loads(out)] == ["file:wn02-\\xff.txt"]
    # a name that is not UTF-8 and cannot be read: escaped too
    code, out, err = run_cli(db_args(database_url) + ["ingest", os.fsdecode(
        os.path.join(folder, b"gone-\xfe.txt"))])
    assert code == 1 and "gone-\\xfe.txt: cannot read: No such file or directory\n" in err

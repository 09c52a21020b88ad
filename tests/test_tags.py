"""Tags and exceptions: the officer's decisions about advisories, on
SQLite and MariaDB, with the vendors' real advisory files
(tests/fixtures/advisories) and a small fleet stored through the writer:
tags naming advisories and CVEs (advisories imported later too), tags
and exceptions as they stood at a past time, bad input, and the document
one collector exports and another imports (a file, and over HTTPS)."""

import csv
import http.server
import io
import json
import os
import shutil
import ssl
import threading
import time

import pytest

from helpers import FIXTURES, make_report, make_tls_server_files, run_cli, write_config
from wlcg_collector.advisories import exceptions as rules
from wlcg_collector.advisories.formats import parse
from wlcg_collector.db import open_store
from wlcg_collector.report import parse_report

DAY = 86400
NOW = int(time.time())
TODAY = NOW // DAY * DAY
T0 = TODAY - 4 * DAY
ADVISORIES = os.path.join(FIXTURES, "advisories")
ALSA = "ALSA-2024:2433"  # avahi on AlmaLinux 9, five CVEs
ALSA_CVES = ["CVE-2023-38469", "CVE-2023-38470", "CVE-2023-38471", "CVE-2023-38472",
             "CVE-2023-38473"]
SOPE_CVE = "CVE-2025-53603"  # DSA-5970-1 (the DSA list) and DEBIAN-CVE-2025-53603 (the tracker)


def at(day):
    return T0 + day * DAY + 3600


AVAHI_OLD = ("avahi", "0:0.8-15.el9", "x86_64")
AVAHI_FIX = ("avahi", "0:0.8-20.el9", "x86_64")
SOPE_OLD = ("libsope1", "5.8.0-1", "amd64", "sope")
ALMA9, DEB12 = "AlmaLinux 9.4", "Debian GNU/Linux 12"

# (site, host, system, packager, {day: packages}); a-old is at two sites
FLEET = [
    ("T2_ALMA", "a-old.example.org", ALMA9, "rpm", {d: [AVAHI_OLD] for d in range(5)}),
    ("T2_ALMA", "a-fixed.example.org", ALMA9, "rpm",
     {d: [AVAHI_OLD if d < 2 else AVAHI_FIX] for d in range(5)}),
    ("T2_OTHER", "a-old.example.org", ALMA9, "rpm", {d: [AVAHI_OLD] for d in range(5)}),
    ("T2_DEB", "d12.example.org", DEB12, "dpkg", {d: [SOPE_OLD] for d in range(5)}),
]


def store_fleet(store, fleet=FLEET):
    for day in range(5):
        for site, host, system, packager, days in fleet:
            if day in days:
                packages = days[day]
                store.writer.store_report(parse_report(make_report(
                    site, host, packages, ts=at(day), packager=packager, system=system,
                    version="2" if any(len(p) == 4 for p in packages) else "1")),
                    at(day) + 100, "192.0.2.1")


def import_advisories(store, *files):
    """The fixture files (all of them when none is named)."""
    advisories = []
    for folder in sorted(os.listdir(ADVISORIES)):
        path = os.path.join(ADVISORIES, folder)
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if not files or name in files:
                    with open(os.path.join(path, name), "rb") as handle:
                        advisories.extend(parse(handle.read()))
    store.advisories.import_records(advisories, T0 - 30 * DAY)


def build_fleet(url):
    store = open_store(url)
    try:
        store_fleet(store)
        import_advisories(store)
    finally:
        store.close()


@pytest.fixture
def fleet(database_url, built_databases):
    """FLEET and every fixture advisory (built once a process, copied)."""
    built_databases.copy(build_fleet, database_url)
    store = open_store(database_url)
    yield store
    store.close()


def cli(store, *args):
    return run_cli(["--db", store.db.dialect.describe()] + list(args))


def one_line(code, err, expected_code):
    return code == expected_code and err.count("\n") == 1 and "Traceback" not in err


# ---------------------------------------------------------------- tags

def test_a_tag_names_advisories_and_the_advisories_of_a_cve_imported_later(store):
    import_advisories(store, "almalinux9-ALSA-2024_2433.json", "DSA.list")
    code, out, err = cli(store, "tags", "add", "EGI-Critical", "--url",
                         "https://wiki.egi.eu/wiki/SEC03", "--description", "act in 7 days",
                         "--by", "jdoe")
    assert (code, out, err) == (0, "tag EGI-Critical added\n", "")
    code, out, err = cli(store, "tags", "apply", "EGI-Critical", ALSA, SOPE_CVE.lower(), "--by",
                         "jdoe")
    assert code == 0, err
    assert out == "tag EGI-Critical: 2 applied, 0 named already; it names 2 stored advisories now\n"
    assert cli(store, "tags", "apply", "egi-critical", ALSA)[1] == (
        "tag egi-critical: 0 applied, 1 named already; it names 2 stored advisories now\n")
    # the tracker's advisory naming the same CVE, imported later, is tagged too
    import_advisories(store, "debian.json")
    ids = store.tags.advisory_ids("EGI-Critical")
    assert sorted(info.ident for info in store.advisories.by_id(ids).values()) == [
        ALSA, "DEBIAN-CVE-2025-53603", "DSA-5970-1"]
    code, out, err = cli(store, "tags", "list", "--format", "json")
    assert json.loads(out) == [{"tag": "EGI-Critical", "targets": 2, "advisories": 3,
                                "url": "https://wiki.egi.eu/wiki/SEC03",
                                "description": "act in 7 days"}]
    code, out, err = cli(store, "tags", "show", "EGI-Critical", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["kind"], r["target"], r["advisories"], r["by"]) for r in rows] == [
        ("advisory", ALSA, ALSA, "jdoe"), ("cve", SOPE_CVE, "DEBIAN-CVE-2025-53603 DSA-5970-1",
                                           "jdoe")]
    code, out, err = cli(store, "advisories", "list", "--tag", "EGI-Critical",
                         "--severity", "none,unknown,low,moderate,important,critical",
                         "--format", "csv")
    assert code == 0, err
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == [
        ALSA, "DEBIAN-CVE-2025-53603", "DSA-5970-1"]
    code, out, err = cli(store, "tags", "unapply", "EGI-Critical", SOPE_CVE, "--by", "jdoe")
    assert out == "tag EGI-Critical: 1 taken off; it names 1 stored advisories now\n"
    code, out, err = cli(store, "tags", "add", "EGI-Critical", "--url", "https://egi.eu/c")
    assert out == "tag EGI-Critical updated\n"
    assert cli(store, "tags", "add", "EGI-Critical")[1] == "tag EGI-Critical unchanged\n"
    assert store.tags.get("egi-critical").url == "https://egi.eu/c"


def test_a_tag_as_it_stood_at_a_time(store):
    """Unapplied targets are dated, never deleted: a past time sees the tag
    as it was then."""
    import_advisories(store)
    store.tags.add("EGI-Critical", None, None, at(0), "jdoe")
    store.tags.apply("EGI-Critical", [("advisory", ALSA)], at(1), "jdoe")
    store.tags.apply("EGI-Critical", [("cve", "CVE-2021-3782")], at(2), "jdoe")
    store.tags.unapply("EGI-Critical", [("advisory", ALSA)], at(3), "ksmith")

    def named(when):
        return sorted(i.ident for i in store.advisories.by_id(
            store.tags.advisory_ids("EGI-Critical", when)).values())
    assert named(at(0)) == []
    assert named(at(1)) == [ALSA]
    assert named(at(2)) == [ALSA, "UBUNTU-CVE-2021-3782", "USN-5614-1"]
    assert named(at(3)) == named(None) == ["UBUNTU-CVE-2021-3782", "USN-5614-1"]
    history = store.tags.history("EGI-Critical")
    assert [(t.target, t.added, t.removed, t.removed_by) for t in history] == [
        (ALSA, at(1), at(3), "ksmith"), ("CVE-2021-3782", at(2), None, None)]
    # applied again: a new row, the old one stays
    store.tags.apply("EGI-Critical", [("advisory", ALSA)], at(4), "jdoe")
    assert named(at(2)) == [ALSA, "UBUNTU-CVE-2021-3782", "USN-5614-1"]
    assert ALSA not in named(at(3)) and ALSA in named(at(4))
    assert store.tags.names_of() == {
        info.id: ["EGI-Critical"] for info in store.advisories.by_id(
            store.tags.advisory_ids("EGI-Critical")).values()}


@pytest.mark.parametrize("args, code, message", [
    (["tags", "add", "EGI Critical"], 2, "tag name 'EGI Critical': a letter or digit"),
    (["tags", "add", ".hidden"], 2, "tag name '.hidden'"),
    (["tags", "add", "x" * 65], 2, "at most 64 characters"),
    (["tags", "add", "T", "--url", "javascript:alert(1)"], 2,
     "URL 'javascript:alert(1)': an https:// or http:// address"),
    (["tags", "add", "T", "--url", "https://a b"], 2, "an https:// or http:// address"),
    (["tags", "add", "T", "--url", "http://"], 2, "an https:// or http:// address"),
    (["tags", "add", "T", "--description", "a\x1b[2Jb"], 2, "control or invisible character"),
    (["tags", "add", "T", "--by", " "], 2, "who is empty"),
    (["tags", "apply", "NOPE", ALSA], 1, "no tag NOPE"),
    (["tags", "show", "NOPE"], 1, "no tag NOPE"),
    (["tags", "apply", "T", ALSA, "NOPE-1"], 1, "no stored advisory NOPE-1"),
    (["tags", "apply", "T", ALSA, "CVE-1999-0001"], 1, "no stored advisory names CVE-1999-0001"),
    (["tags", "apply", "T", "CVE-99"], 2, "'CVE-99' is not a CVE id"),
    (["tags", "unapply", "T", ALSA], 1, "tag T does not name %s" % ALSA),
    (["advisories", "list", "--tag", "NOPE"], 1, "no tag NOPE"),
])
def test_bad_tag_input_is_one_line_and_writes_nothing(store, args, code, message):
    import_advisories(store, "almalinux9-ALSA-2024_2433.json")
    store.tags.add("T", None, None, at(0), "jdoe")
    found, out, err = cli(store, *args)
    assert one_line(found, err, code) and message in err and out == ""
    assert store.tags.targets("T") == [] and [t.name for t in store.tags.listed()] == ["T"]
    assert store.tags.get("T").changed == at(0)


# ---------------------------------------------------------------- exceptions

def test_exceptions_are_added_listed_and_ended_never_deleted(fleet):
    code, out, err = cli(fleet, "exceptions", "add", "--advisory", ALSA, "--reason",
                         "  avahi-daemon is masked  ", "--host", "a-old.example.org",
                         "--site", "t2_alma", "--package", "avahi", "--version", "0.8-15.el9",
                         "--until", "2099-01-01", "--by", "jdoe")
    assert code == 0, err
    assert out == ("added exception 1: %s, package avahi 0.8-15.el9, site T2_ALMA, host "
                   "a-old.example.org; in force until 2099-01-01T00:00:00Z\n" % ALSA)
    code, out, err = cli(fleet, "exceptions", "add", "--cve", SOPE_CVE.lower(), "--reason",
                         "a backport the feed does not know", "--site", "T2_DEB")
    assert out.startswith("added exception 2: %s, site T2_DEB; in force until ended" % SOPE_CVE)
    code, out, err = cli(fleet, "exceptions", "--format", "json")
    listed = json.loads(out)
    assert [(e["id"], e["names"], e["by"], e["reason"], e["host"]) for e in listed] == [
        (1, ALSA, "jdoe", "avahi-daemon is masked", "a-old.example.org"),
        (2, SOPE_CVE, listed[1]["by"], "a backport the feed does not know", None)]
    assert listed[1]["by"] and "state" not in listed[0]
    code, out, err = cli(fleet, "exceptions", "end", "2", "--by", "ksmith")
    assert (code, out) == (0, "ended exception 2: %s, site T2_DEB\n" % SOPE_CVE)
    code, out, err = cli(fleet, "exceptions", "end", "2")
    assert one_line(code, err, 1) and "exception 2 was ended already" in err
    assert one_line(*cli(fleet, "exceptions", "end", "9")[::2], 1)
    assert [e["id"] for e in json.loads(cli(fleet, "exceptions", "list", "--format",
                                            "json")[1])] == [1]
    code, out, err = cli(fleet, "exceptions", "list", "--all", "--format", "csv")
    assert out.splitlines()[0] == ("id,names,package,version,site,host,added,by,until,state,"
                                   "ended,ended_by,reason")
    assert [line.split(",")[9:12] for line in out.splitlines()[1:]] == [
        ["in force", "", ""], ["ended", out.splitlines()[2].split(",")[10], "ksmith"]]
    ended = fleet.exceptions.get(2)
    assert ended.ended is not None and ended.ended_by == "ksmith"


def test_an_exception_in_force_at_a_time(store):
    first = store.exceptions.add(ALSA, None, None, None, None, None, "why", at(1), "jdoe",
                                 expires=at(3))
    second = store.exceptions.add(None, ALSA_CVES[0], None, None, None, None, "why", at(2),
                                  "jdoe")
    store.exceptions.end(second.id, at(4), "jdoe")
    assert [[e.id for e in store.exceptions.in_force(at(day) - 1)] for day in range(6)] == [
        [], [], [1], [1, 2], [2], []]
    assert [[e.id for e in store.exceptions.in_force(at(day))] for day in range(6)] == [
        [], [1], [1, 2], [2], [], []]
    assert [rules.state_of(store.exceptions.get(1), at(day)) for day in (0, 1, 3)] == [
        "not yet", "in force", "expired"]
    with pytest.raises(Exception) as raised:
        store.exceptions.end(first.id, at(4), "jdoe")
    assert str(raised.value) == "exception 1 is past its date already"


def test_the_spans_an_advisory_and_its_cves_except():
    """Excepted while an exception on the advisory is in force, or while
    every CVE it names is; the exceptions that do it, at a time."""
    from collections import namedtuple
    from wlcg_collector.db.tag_statements import AdvisoryException
    build = namedtuple("Build", "name version packager")("avahi", "0:0.8-15.el9", "rpm")

    def exception(number, advisory, cve, added, expires=None, ended=None, **scope):
        fields = dict(dict(package=None, version=None, site=None, host=None), **scope)
        return AdvisoryException(number, advisory, cve, fields["package"], fields["version"],
                                 fields["site"], fields["host"], "why", added, "jdoe", expires,
                                 ended, "jdoe" if ended is not None else None)
    excepting = rules.Excepting([
        exception(1, ALSA, None, 10, ended=20),
        exception(2, None, ALSA_CVES[0], 15),
        exception(3, None, ALSA_CVES[1], 25, expires=40, version="0.8-15.el9"),
        exception(4, None, ALSA_CVES[1], 5, site="T2_OTHER"),
        exception(5, None, ALSA_CVES[1], 0, package="avahi-libs")],
        {7: (ALSA, ALSA_CVES[:2])})
    assert excepting.spans(7, build, "T2_ALMA", "a.example.org") == [[10, 20], [25, 40]]
    assert excepting.spans(7, build, "t2_other", "a.example.org") == [[10, 2 ** 62]]
    found = [[e.id for e in excepting.at(7, build, "T2_ALMA", "a.example.org", when)]
             for when in (9, 10, 20, 30, 40)]
    assert found == [[], [1], [], [2, 3], []]
    assert rules.outside(0, 50, [[10, 20], [25, 40]]) == [(0, 10, True), (20, 25, True),
                                                          (40, 50, False)]
    assert rules.outside(12, 18, [[10, 20]]) == []


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "give --advisory ID or --cve CVE, one of them: an exception is never wider than one "
            "advisory or CVE"),
    (["--advisory", ALSA, "--cve", ALSA_CVES[0]], 2, "give --advisory ID or --cve CVE"),
    (["--advisory", ALSA], 2, "--reason TEXT is required: say why"),
    (["--advisory", ALSA, "--reason", "   "], 2, "reason is empty: say why"),
    (["--advisory", ALSA, "--reason", "x\u202ey"], 2, "control or invisible character"),
    (["--advisory", ALSA, "--reason", "x" * 1001], 2, "longer than 1000 characters"),
    (["--advisory", ALSA, "--reason", "r", "--version", "0.8-15.el9"], 2,
     "--version is a package's: give --package too"),
    (["--advisory", ALSA, "--reason", "r", "--until", "2001-01-01"], 2,
     "--until 2001-01-01T00:00:00Z is not in the future"),
    (["--advisory", ALSA_CVES[0], "--reason", "r"], 2, "is a CVE, not an advisory"),
    (["--cve", "ALSA-1", "--reason", "r"], 2, "'ALSA-1' is not a CVE id"),
    (["--advisory", "NOPE-1", "--reason", "r"], 1, "no advisory NOPE-1"),
    (["--cve", "CVE-1999-0001", "--reason", "r"], 1, "no stored advisory names CVE-1999-0001"),
    (["--advisory", ALSA, "--reason", "r", "--site", "T2_NOPE"], 1, "unknown site 'T2_NOPE'"),
    (["--advisory", ALSA, "--reason", "r", "--host", "nope.example.org"], 1,
     "unknown host 'nope.example.org'"),
    (["--advisory", ALSA, "--reason", "r", "--host", "a-old.example.org"], 1, "give --site"),
])
def test_bad_exception_input_is_one_line_and_writes_nothing(fleet, args, code, message):
    found, out, err = cli(fleet, "exceptions", "add", *args)
    assert one_line(found, err, code) and message in err and out == ""
    assert fleet.exceptions.listed() == []


@pytest.mark.parametrize("args", [["exceptions", "end", "99999999999999999999999"],
                                  ["quarantine", "drop", "99999999999999999999999"]])
def test_an_id_no_database_holds_is_a_usage_error(store, args):
    """(SQLite raised OverflowError binding it.)"""
    code, out, err = cli(store, *args)
    assert (code, out) == (2, "") and err.splitlines()[-1].endswith(
        "argument ID: 99999999999999999999999 is no id (at most 9223372036854775807)")


# ---------------------------------------------------------------- export and import

def decide(store):
    """EGI's decisions: a tag on an advisory and a CVE, an exception in
    force and one ended."""
    store.tags.add("EGI-Critical", "https://wiki.egi.eu/wiki/SEC03", "act in 7 days", at(0),
                   "egi")
    store.tags.apply("EGI-Critical", [("advisory", ALSA), ("cve", SOPE_CVE)], at(0), "egi")
    store.exceptions.add(None, SOPE_CVE, "libsope1", None, "T2_DEB", None, "backported", at(1),
                         "egi", expires=at(0) + 400 * DAY)
    ended = store.exceptions.add(ALSA, None, None, None, None, None, "masked", at(1), "egi")
    store.exceptions.end(ended.id, at(2), "egi")


def test_export_then_import_follows_and_is_idempotent(fleet, tmp_path):
    decide(fleet)
    code, out, err = cli(fleet, "tags", "export")
    assert code == 0, err
    document = json.loads(out)
    assert (document["format"], document["version"]) == ("wlcg-collector tags", 1)
    assert document["tags"][0]["targets"][1] == {
        "cve": SOPE_CVE, "added": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at(0))),
        "added_by": "egi"}
    path = tmp_path / "egi.json"
    path.write_text(out)
    osg = open_store("sqlite:///%s" % (tmp_path / "osg.db"))
    osg.schema.init()
    import_advisories(osg)
    try:
        osg.tags.add("OSG-Local", None, None, at(0), "osg")  # not in the document: left alone
        osg.tags.add("EGI-Critical", "https://old.example", None, at(0), "osg")
        osg.tags.apply("EGI-Critical", [("cve", SOPE_CVE)], at(0), "osg")
        code, out, err = cli(osg, "tags", "import", str(path), "--by", "osg-officer")
        assert (code, err) == (0, "")
        assert out == ("%s: tags 0 added, 1 updated, 0 unchanged; exceptions 2 added, 0 updated, "
                       "0 unchanged\n" % path)
        code, again, err = cli(osg, "tags", "import", str(path))
        assert again == "%s: unchanged (1 tag(s), 2 exception(s) as stored)\n" % path
        assert [(t.name, t.url) for t in osg.tags.listed()] == [
            ("EGI-Critical", "https://wiki.egi.eu/wiki/SEC03"), ("OSG-Local", None)]
        assert sorted((t.kind, t.target, t.added_by) for t in osg.tags.targets("EGI-Critical")) \
            == [("advisory", ALSA, "egi"), ("cve", SOPE_CVE, "osg")]
        assert [(e.cve or e.advisory, e.reason, e.added, e.added_by, e.ended, e.ended_by)
                for e in osg.exceptions.listed()] == [
            (SOPE_CVE, "backported", at(1), "egi", None, None),
            (ALSA, "masked", at(1), "egi", at(2), "egi")]
        # EGI takes the CVE off its tag and ends its exception: OSG follows
        fleet.tags.unapply("EGI-Critical", [("cve", SOPE_CVE)], at(3), "egi")
        fleet.exceptions.end(1, at(3), "egi")
        path.write_text(cli(fleet, "tags", "export")[1])
        code, out, err = cli(osg, "tags", "import", str(path), "--by", "osg-officer")
        assert out == ("%s: tags 0 added, 1 updated, 0 unchanged; exceptions 0 added, 1 updated, "
                       "1 unchanged\n" % path)
        assert [(t.target, t.removed_by) for t in osg.tags.history("EGI-Critical")] == [
            (SOPE_CVE, "osg-officer"), (ALSA, None)]
        assert osg.exceptions.get(1).ended == at(3)
        # an exception ended here stays ended whatever a document says
        osg.exceptions.add(None, "CVE-2021-3782", None, None, None, None, "local", at(1), "osg")
        osg.exceptions.end(3, at(2), "osg")
        document = json.loads(cli(osg, "tags", "export")[1])
        document["exceptions"][2]["ended"] = document["exceptions"][2]["ended_by"] = None
        path.write_text(json.dumps(document))
        assert cli(osg, "tags", "import", str(path))[1] == (
            "%s: unchanged (2 tag(s), 3 exception(s) as stored)\n" % path)
        assert osg.exceptions.get(3).ended == at(2)
    finally:
        osg.close()


def document(**changes):
    value = {"format": "wlcg-collector tags", "version": 1, "tags": [
        {"name": "EGI-Critical", "url": None, "description": None,
         "created": "2026-01-01T00:00:00Z", "created_by": "egi",
         "targets": [{"cve": SOPE_CVE, "added": "2026-01-01T00:00:00Z", "added_by": "egi"}]}],
        "exceptions": [{"advisory": ALSA, "cve": None, "package": None, "version": None,
                        "site": None, "host": None, "reason": "r",
                        "added": "2026-01-01T00:00:00Z", "added_by": "egi", "until": None,
                        "ended": None, "ended_by": None}]}
    for path, new in changes.items():
        where = value
        keys = path.split("__")
        for key in keys[:-1]:
            where = where[int(key) if key.isdigit() else key]
        if new is KeyError:
            del where[keys[-1]]
        else:
            where[keys[-1]] = new
    return json.dumps(value)


@pytest.mark.parametrize("text, message", [
    ("", "not a JSON document"),
    ("\xff", "not a JSON document"),
    ("[]", "not a document of tags and exceptions"),
    (document(format="wlcg-collector sites"), "not a document of tags and exceptions"),
    (document(version=2), "version 2: this collector reads version 1"),
    (document(tags={}), "'tags' is not a list"),
    (document(exceptions=["x"]), "'exceptions' holds something that is not an object"),
    (document(tags__0__name="EGI Critical"), "tags[0]: tag name 'EGI Critical'"),
    (document(tags__0__url="javascript:alert(1)"), "tags[0] (EGI-Critical): URL"),
    (document(tags__0__created="yesterday"), "'yesterday' is not an ISO 8601 UTC date"),
    (document(tags__0__targets__0__advisory=ALSA), "targets[0]: names one advisory or one CVE"),
    (document(tags__0__targets__0__cve="CVE-1"), "targets[0]: 'CVE-1' is not a CVE id"),
    (document(tags__0__targets__0__added_by=""), "who is empty"),
    (document(exceptions__0__cve=SOPE_CVE), "exceptions[0]: an exception names one advisory "
                                            "or one CVE, not both"),
    (document(exceptions__0__advisory=None), "and names none"),
    (document(exceptions__0__reason=" "), "exceptions[0]: reason is empty"),
    (document(exceptions__0__version="1.0"), "a version is a package's"),
    (document(exceptions__0__ended="2026-01-02T00:00:00Z"),
     "\"ended\" and \"ended_by\" go together"),
    (document(exceptions__0__until=5), "'until' is not a time"),
    # nested past what the parser recurses into
    ("[" * 100000 + "]" * 100000, "not a JSON document: nested too deeply"),
    # a year a time prints in fewer than four digits: its own export could
    # not be read again
    (document(tags__0__created="0001-01-01T00:00:00Z"), "is not a date from 1970 to 9999"),
    # a decision dated ahead would wait, unseen, until then (a campaign on
    # the tag would find nothing)
    (document(tags__0__targets__0__added="9999-12-31T00:00:00Z"),
     "added 9999-12-31T00:00:00Z is later than this collector's clock"),
    (document(exceptions__0__until="2000-01-01T00:00:00Z"), "it ends before it was added"),
])
def test_a_malformed_document_is_one_line_and_nothing_is_imported(store, tmp_path, text,
                                                                  message):
    path = tmp_path / "bad.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff" else b"\xff")
    code, out, err = cli(store, "tags", "import", str(path))
    assert one_line(code, err, 2) and message in err and out == ""
    assert err.startswith("wlcg-collector: %s: " % path) and err.endswith("; nothing imported\n")
    assert store.tags.listed() == [] and store.exceptions.listed() == []
    path.write_text(document())
    assert cli(store, "tags", "import", str(path))[0] == 0  # the same, well formed


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that stopped reading (the document too large)


def test_import_over_https_verified_and_bounded(tmp_path, store):
    root = tmp_path / "served"
    root.mkdir()
    (root / "egi.json").write_text(document())
    (root / "big.json").write_text(document() + " " * (16 * 1024 * 1024))
    key, cert, _ = make_tls_server_files(tmp_path / "tls")
    handler = lambda *a, **k: _Quiet(*a, directory=str(root), **k)  # noqa: E731
    server = _QuietServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = "https://127.0.0.1:%d" % server.server_address[1]
        url = store.db.dialect.describe()
        code, out, err = run_cli(["--db", url, "tags", "import", base + "/egi.json"])
        assert one_line(code, err, 1) and "CERTIFICATE_VERIFY_FAILED" in err
        config = write_config(tmp_path / "c.conf", url, [])
        with open(config, "a") as handle:
            handle.write("[advisories]\nca_file = %s\n" % (tmp_path / "tls" / "ca.pem"))
        code, out, err = run_cli(["--config", config, "tags", "import", base + "/big.json"])
        assert one_line(code, err, 1) and "bytes allowed" in err
        code, out, err = run_cli(["--config", config, "tags", "import",
                                  base.replace("https", "http") + "/egi.json"])
        assert one_line(code, err, 1) and "only https:// URLs are fetched" in err
        assert store.tags.listed() == []
        code, out, err = run_cli(["--config", config, "tags", "import", base + "/egi.json"])
        assert code == 0 and "tags 1 added" in out and "exceptions 1 added" in out
    finally:
        server.shutdown()
    shutil.rmtree(str(root))


# ---------------------------------------------------------------- what `vulnerable` and
# `exposure` make of them

def vulnerable_json(store, *args):
    code, out, err = cli(store, "vulnerable", "--format", "json", *args)
    assert code == 0, err
    return [(r["site"], r["host"].split(".")[0], r["advisory"], r["excepted_by"])
            for r in json.loads(out)]


EXPOSED = [("T2_ALMA", "a-old", ALSA, None), ("T2_DEB", "d12", "DEBIAN-CVE-2025-53603", None),
           ("T2_DEB", "d12", "DSA-5970-1", None), ("T2_OTHER", "a-old", ALSA, None)]


def test_vulnerable_counts_excepted_findings_apart_with_the_reason(fleet):
    everything = "none,unknown,low,moderate,important,critical"
    assert vulnerable_json(fleet, "--severity", everything) == EXPOSED
    code, before, err = cli(fleet, "vulnerable", "--severity", everything)
    assert cli(fleet, "exceptions", "add", "--advisory", ALSA, "--host", "a-old.example.org",
               "--site", "T2_ALMA", "--reason", "avahi-daemon is masked")[0] == 0
    code, out, err = cli(fleet, "vulnerable", "--severity", everything)
    summary, rows, excepted = out.split("\n\n")
    assert [line.split()[:3] for line in summary.splitlines()[1:]] == [
        ["T2_DEB", "1", "1"], ["T2_OTHER", "1", "1"]]  # T2_ALMA: nothing left
    assert "a-old.example.org" in before.split("\n\n")[1] and "T2_ALMA" not in rows
    assert excepted.splitlines()[0] == "excepted: 1 finding(s) on 1 host(s), not counted above"
    assert excepted.splitlines()[1].split() == ["SITE", "HOST", "ADVISORY", "PACKAGE",
                                                "INSTALLED", "EXCEPTION", "REASON"]
    assert excepted.splitlines()[2].split(None, 6) == [
        "T2_ALMA", "a-old.example.org", ALSA, "avahi", AVAHI_OLD[1], "1",
        "avahi-daemon is masked"]
    code, out, err = cli(fleet, "vulnerable", "--format", "csv", "--severity", everything)
    assert out.splitlines()[0] == ("site,host,advisory,severity,package,arch,installed,fixed,"
                                   "excepted_by,reason")
    assert out.splitlines()[-1].endswith(",1,avahi-daemon is masked")
    # one CVE of the five ALSA names: the finding stands
    fleet.exceptions.add(None, ALSA_CVES[0], None, None, "T2_OTHER", None, "one of five",
                         NOW - 60, "jdoe")
    assert ("T2_OTHER", "a-old", ALSA, None) in vulnerable_json(fleet, "--severity", everything)
    for cve in ALSA_CVES[1:]:
        fleet.exceptions.add(None, cve, "avahi", "0.8-15.el9", "t2_other", None, "all five",
                             NOW - 60, "jdoe")
    # the CVE the sope advisories name, a version that is not the installed one
    fleet.exceptions.add(None, SOPE_CVE, "libsope1", "5.8.0-2", None, None, "not this build",
                         NOW - 60, "jdoe")
    assert vulnerable_json(fleet, "--severity", everything) == [
        ("T2_DEB", "d12", "DEBIAN-CVE-2025-53603", None), ("T2_DEB", "d12", "DSA-5970-1", None),
        ("T2_ALMA", "a-old", ALSA, [1]), ("T2_OTHER", "a-old", ALSA, [2, 3, 4, 5, 6])]
    fleet.exceptions.add(None, SOPE_CVE, None, None, None, "d12.example.org", "backported",
                         NOW - 60, "jdoe")
    assert [row for row in vulnerable_json(fleet, "--severity", everything) if row[0] == "T2_DEB"] \
        == [("T2_DEB", "d12", "DEBIAN-CVE-2025-53603", [8]), ("T2_DEB", "d12", "DSA-5970-1", [8])]
    code, out, err = cli(fleet, "vulnerable", "--severity", everything)
    assert out.startswith("SITE ") and out.count("\n\n") == 1  # nothing exposed is left
    assert "excepted: 4 finding(s) on 3 host(s), not counted above" in out


def test_vulnerable_at_a_past_date_uses_the_exceptions_and_the_tag_as_they_stood(fleet):
    everything = "none,unknown,low,moderate,important,critical"
    ended = fleet.exceptions.add(ALSA, None, "avahi", None, None, "a-old.example.org",
                                 "retiring", at(2), "jdoe")
    fleet.exceptions.add(ALSA, None, "avahi", None, None, None, "until day 4", at(2), "jdoe",
                         expires=at(3) + 10)
    fleet.exceptions.end(ended.id, at(3), "jdoe")
    fleet.tags.add("EGI-Critical", None, None, at(0), "jdoe")
    fleet.tags.apply("EGI-Critical", [("advisory", ALSA)], at(1), "jdoe")
    fleet.tags.apply("EGI-Critical", [("cve", SOPE_CVE)], at(3), "jdoe")

    def when(seconds):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    day1 = vulnerable_json(fleet, "--severity", everything, "--at", when(at(1) + 10))
    assert ("T2_ALMA", "a-fixed", ALSA, None) in day1 and ("T2_ALMA", "a-old", ALSA, None) in day1
    day2 = vulnerable_json(fleet, "--severity", everything, "--at", when(at(2) + 10))
    assert [row for row in day2 if row[2] == ALSA] == [
        ("T2_ALMA", "a-old", ALSA, [1, 2]), ("T2_OTHER", "a-old", ALSA, [1, 2])]
    day3 = vulnerable_json(fleet, "--severity", everything, "--at", when(at(3) + 5))
    assert [row for row in day3 if row[2] == ALSA] == [
        ("T2_ALMA", "a-old", ALSA, [2]), ("T2_OTHER", "a-old", ALSA, [2])]
    assert [row for row in vulnerable_json(fleet, "--severity", everything, "--at",
                                           when(at(3) + 20)) if row[2] == ALSA] == [
        ("T2_ALMA", "a-old", ALSA, None), ("T2_OTHER", "a-old", ALSA, None)]
    # the tag: the advisory from day 1, the CVE's advisories from day 3
    assert vulnerable_json(fleet, "--severity", everything, "--tag", "egi-critical", "--at",
                           when(at(0) + 10)) == []
    assert {row[2] for row in vulnerable_json(fleet, "--severity", everything, "--tag",
                                              "EGI-Critical", "--at", when(at(2)))} == {ALSA}
    assert vulnerable_json(fleet, "--severity", everything, "--tag", "EGI-Critical") == EXPOSED
    code, out, err = cli(fleet, "vulnerable", "--tag", "NOPE")
    assert one_line(code, err, 1) and "no tag NOPE" in err


def test_exposure_uses_the_exceptions_as_they_stood_at_each_time(fleet):
    from wlcg_collector.advisories import exposure as judging
    from wlcg_collector.advisories.streams import StreamTable
    # a-old at T2_ALMA excepted on day 2 only; a-old at T2_OTHER from day 3 on
    retired = fleet.exceptions.add(ALSA, None, None, None, "T2_ALMA", "a-old.example.org",
                                   "being retired", at(2), "jdoe")
    fleet.exceptions.end(retired.id, at(3), "jdoe")
    fleet.exceptions.add(ALSA, None, None, None, "T2_OTHER", "a-old.example.org", "mitigated",
                         at(3), "jdoe")
    info = fleet.advisories.get(ALSA)[0]
    result = judging.exposure(fleet, StreamTable(), info, NOW,
                              excepting=rules.excepting(fleet, fleet.exceptions.listed()))
    hosts = {(h.site, h.host.split(".")[0]): h for h in result.hosts}
    assert (hosts["T2_ALMA", "a-fixed"].fixed_at, hosts["T2_ALMA", "a-fixed"].ended_by) == (
        at(2), "fixed")
    assert (hosts["T2_ALMA", "a-old"].fixed_at, hosts["T2_ALMA", "a-old"].ended_by) == (
        None, None)
    # one day excepted is one day less exposed after publication
    assert hosts["T2_ALMA", "a-old"].days_after_published == round((NOW - at(0)) / DAY - 1, 1)
    assert (hosts["T2_OTHER", "a-old"].fixed_at, hosts["T2_OTHER", "a-old"].ended_by) == (
        at(3), "excepted")
    assert {day.day: day.hosts for day in result.curve[-5:]} == {
        T0: 3, T0 + DAY: 3, T0 + 2 * DAY: 1, T0 + 3 * DAY: 1, T0 + 4 * DAY: 1}
    assert [(h.site, h.host, h.exceptions[0].reason) for h in result.excepted] == [
        ("T2_OTHER", "a-old.example.org", "mitigated")]
    without = judging.exposure(fleet, StreamTable(), info, NOW)
    assert {day.day: day.hosts for day in without.curve[-3:]} == {
        T0 + 2 * DAY: 2, T0 + 3 * DAY: 2, T0 + 4 * DAY: 2} and without.excepted == []
    code, out, err = cli(fleet, "exposure", ALSA)
    assert code == 0, err
    assert out.splitlines()[0].endswith(": 3 host(s) ever exposed, 1 now, 1 excepted now")
    assert out.split("excepted now:\n")[1].splitlines()[1].split(None, 6) == [
        "T2_OTHER", "a-old.example.org", ALSA, "avahi", AVAHI_OLD[1], "2", "mitigated"]
    # patch times: the site whose host was excepted has nothing open
    code, out, err = cli(fleet, "patch-times", "--since", "2000-01-01", "--format", "json")
    assert {r["site"]: r["open"] for r in json.loads(out)}["T2_OTHER"] == 0


# ---------------------------------------------------------------- the advisory pages

HOSTILE = "<script>document.body.setAttribute('data-pwned','1')</script>"


def officer_app(store, tmp_path, collector_keys):
    from wlcg_collector import create_app
    config = tmp_path / "collector.conf"
    write_config(config, store.db.dialect.describe(), [collector_keys])
    with open(str(config), "a") as handle:
        handle.write("[officer]\nallow = jdoe\n")
    return create_app(str(config))


def page(app, path, query="", **environ):
    from helpers import wsgi_call
    status, headers, body, _ = wsgi_call(app, method="GET", path=path, query=query,
                                         content_length=False,
                                         environ_extra=environ or {"REMOTE_USER": "jdoe"})
    return status, dict(headers), body.decode("utf-8")


def test_the_advisory_pages_show_tags_and_exceptions(fleet, tmp_path, collector_keys):
    fleet.tags.add("EGI-Critical", "https://wiki.egi.eu/wiki/SEC03", "act " + HOSTILE, at(0),
                   "jdoe")
    fleet.tags.apply("EGI-Critical", [("cve", ALSA_CVES[2])], at(0), "jdoe")
    # stored around the checks (an older collector, a hand-edited database):
    # a URL that is not a link is shown as text, never as a link
    fleet.tags.add("Local", "javascript:alert(1)", None, at(0), "jdoe")
    fleet.tags.apply("Local", [("cve", SOPE_CVE)], at(0), "jdoe")
    fleet.exceptions.add(ALSA, None, "avahi", None, "T2_ALMA", "a-old.example.org",
                         "masked " + HOSTILE, at(2), "jdoe")
    ended = fleet.exceptions.add(None, ALSA_CVES[0], None, None, None, None, "old", at(1),
                                 "ksmith")
    fleet.exceptions.end(ended.id, at(2), "ksmith")
    app = officer_app(fleet, tmp_path, collector_keys)
    status, headers, body = page(app, "/officer/advisories")
    assert status == 200 and "<script" not in body and "&lt;script&gt;" not in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    row = body[body.index('<a href="/officer/advisory/ALSA-2024%3A2433">'):]
    row = row[:row.index("</tr>")]
    # a-old at T2_OTHER exposed, a-old at T2_ALMA excepted
    assert '<td class="num">1</td><td class="num">1</td><td class="num">1</td>' in row
    assert '<a href="/officer/advisories?tag=EGI-Critical">EGI-Critical</a>' in row
    assert '<p id="excepted">Excepted: 1 host(s)' in body
    assert '<option value="EGI-Critical">EGI-Critical</option>' in body
    status, _, body = page(app, "/officer/advisories", "tag=egi-critical&sort=hosts")
    assert status == 200
    assert "1 of the 1 stored advisories tagged EGI-Critical apply" in body
    assert '<p id="tag">EGI-Critical: act &lt;script&gt;' in body
    assert '<a href="https://wiki.egi.eu/wiki/SEC03" rel="noreferrer">' in body
    assert '<option value="EGI-Critical" selected>' in body
    assert "sort=advisory&amp;tag=egi-critical" in body or "tag=egi-critical&amp;sort=" in body
    assert "DSA-5970-1" not in body
    status, _, body = page(app, "/officer/advisories", "tag=Local&severity=unknown")
    assert "javascript:" in body and 'href="javascript:' not in body
    assert "DSA-5970-1" in body and ALSA not in body
    status, _, body = page(app, "/officer/advisories", "tag=NOPE")
    assert status == 404 and "no tag NOPE" in body
    status, _, body = page(app, "/officer/advisory/ALSA-2024%3A2433")
    assert status == 200 and "<script" not in body
    assert '<p id="counts">1 host(s) exposed now, 3 ever. Excepted: 1 (not counted as ' \
           'exposed).</p>' in body
    assert '<p id="tags">Tags: <a href="/officer/advisories?tag=EGI-Critical">EGI-Critical</a>' \
        in body
    excepted = body[body.index('<table id="excepted">'):]
    excepted = excepted[:excepted.index("</table>")]
    assert ">a-old.example.org</a></td><td>avahi</td><td>0:0.8-15.el9</td><td>1</td>" \
           "<td>masked &lt;script&gt;" in excepted and "T2_OTHER" not in excepted
    listed = body[body.index('<table id="exceptions">'):]
    listed = listed[:listed.index("</table>")]
    assert listed.count("<tr><td") == 2 and "<td>in force</td>" in listed
    assert "<td>ended %s by ksmith</td>" % time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                         time.gmtime(at(2))) in listed
    exposed = body[body.index('<table id="exposed">'):body.index('<table id="excepted">')]
    assert "T2_OTHER" in exposed and "T2_ALMA" not in exposed
    # the pages' access rules: nothing of it for anybody else
    for path, query in (("/officer/advisories", "tag=EGI-Critical"),
                        ("/officer/advisory/ALSA-2024%3A2433", "")):
        status, _, body = page(app, path, query, REMOTE_USER="mallory")
        assert status == 403 and "EGI-Critical" not in body and "masked" not in body

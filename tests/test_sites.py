"""The list of sites: imports of each format (tests/fixtures/sites, with
where each format is documented), unknown names and the names suggested for
them, the unknown_sites policy, and renames and merges of sites on SQLite
and MariaDB, compare and adoption giving the same answers for the merged
hosts before and after."""

import json
import os
import threading
import time

import pytest

from helpers import ROOT, make_report, run_cli, wsgi_call, write_config
from wlcg_collector.db.records import SiteResolution
from wlcg_collector.ingest import quarantine_answer, site_notice
from wlcg_collector import analysis, closest, topology, trust
from wlcg_collector.baselines import parse_baseline, parse_requirement
from wlcg_collector.db import SiteError, open_store
from wlcg_collector.history import changes
from wlcg_collector.report import parse_report
from wlcg_collector.statuses import ACCEPTED

DAY = 86400
T0 = 1767225600  # 2026-01-01T00:00:00Z
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "sites")

BASH = ("bash", "0:5.1.8-9.el9", "x86_64")
XROOTD_OLD = ("xrootd", "1:5.6.9-1.el9", "x86_64")
XROOTD_NEW = ("xrootd", "1:5.7.1-1.el9", "x86_64")
KERNEL1 = ("kernel", "0:5.14.0-427.13.1.el9_4", "x86_64")
KERNEL2 = ("kernel", "0:5.14.0-503.11.1.el9_5", "x86_64")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def put(store, site, host, packages, day, rules=None, sender="192.0.2.1"):
    report = parse_report(make_report(site, host, packages, ts=T0 + day * DAY))
    return store.writer.store_report(report, T0 + day * DAY + 60, sender,
                                     rules=rules or trust.Rules())


def load(store, name="cric.json", now=T0):
    data = fixture(name)
    listed = topology.parse_site_list(data, None, name)
    return store.sites.import_list(listed, name, topology.detect_format(data), now, "officer")


def history(store, host, site):
    found = store.hosts.get(site, host)
    return changes(found.packager, store.hosts.intervals(found.id), None)


# ---------------------------------------------------------------- the formats

def test_each_format_is_read_from_its_fixture():
    plain = topology.parse_site_list(fixture("plain.list"), None, "plain.list")
    cric = topology.parse_site_list(fixture("cric.json"), None, "cric.json")
    gocdb = topology.parse_site_list(fixture("gocdb.xml"), None, "gocdb.xml")
    assert [s.name for s in plain] == ["CERN-PROD", "T2_CH_CERN", "RAL-LCG2",
                                       "UKI-NORTHGRID-LANCS-HEP", "FZK-LCG2", "praguelcg2"]
    assert all(s.tier is None and s.country is None for s in plain)
    by_name = {s.name: s for s in cric}
    assert by_name["T2_CH_CERN"] == topology.ListedSite("T2_CH_CERN", 2, "Switzerland",
                                                        "CERN-PROD", "ACTIVE")
    assert by_name["CERN-PROD"].gocdb is None  # its own name: no alias
    assert by_name["T1_DE_KIT"].gocdb == "FZK-LCG2" and by_name["RAL-LCG2"].tier == 1
    assert by_name["praguelcg2"].state == "DISABLED"
    by_name = {s.name: s for s in gocdb}
    assert by_name["CERN-PROD"] == topology.ListedSite("CERN-PROD", None, "Switzerland", None,
                                                       "Certified")
    # get_site_list's form: the country as an attribute
    assert by_name["UKI-NORTHGRID-LANCS-HEP"].country == "United Kingdom"
    assert [topology.detect_format(fixture(n)) for n in ("plain.list", "cric.json",
                                                         "gocdb.xml")] == FORMATS_SEEN


FORMATS_SEEN = ["plain", "cric", "gocdb"]


@pytest.mark.parametrize("data,fmt,message", [
    (b"CERN-PROD\nT2/CH\n", None, "line 2: 'T2/CH' is not a site name"),
    (b"CERN-PROD RAL-LCG2\n", None, "line 1: 'CERN-PROD RAL-LCG2' is more than one name"),
    (b"CERN-PROD\ncern-prod\n", None, "names site cern-prod twice"),
    (b"# nothing\n\n", None, "names no site"),
    (b"{\"A\": [1]}", None, "site 'A': the entry is not a JSON object"),
    (b"{\"A\": {\"tier_level\": \"two\"}}", None, "tier_level 'two' is not a tier number"),
    (b"{not json", None, "is not JSON"),
    (b"[\"CERN-PROD\"]", "cric", "not a CRIC site export"),
    (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'>]><results>&a;</results>", None,
     "holds a DOCTYPE or an ENTITY"),
    (b"<results><SITE ID='1'/></results>", None, "SITE 1 has no NAME"),
    (b"<other/>", None, "not a GOCDB get_site export"),
    (b"\xff\xfe", "plain", "is not UTF-8"),
])
def test_a_bad_list_is_refused_whole_with_one_line(data, fmt, message):
    with pytest.raises(topology.SiteListError) as caught:
        topology.parse_site_list(data, fmt, "the.list")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_suggestions_catch_case_separators_typos_and_gocdb_names():
    official = [("T2_CH_CERN", ["CERN-PROD"]), ("CERN-PROD", []), ("RAL-LCG2", []),
                ("T1_DE_KIT", ["FZK-LCG2"])]
    assert topology.suggestions("T2_CH_CERM", official) == ["T2_CH_CERN"]
    assert topology.suggestions("T2-CH-CERN", official) == ["T2_CH_CERN"]
    assert topology.suggestions("T2_CH_CEN", official) == ["T2_CH_CERN"]
    assert topology.suggestions("RAL-LGC2", official) == ["RAL-LCG2"]      # a swap
    assert topology.suggestions("fzk-lcg2", official) == ["T1_DE_KIT"]     # its GOCDB name
    assert topology.suggestions("T2_US_MIT", official) == []
    assert closest.edit_distance("kitten", "sitting", 5) == 3
    assert closest.edit_distance("kitten", "sitting", 1) == 2             # capped


def full_distance(a, b):
    """The optimal string alignment distance, every cell worked out."""
    d = [[i + j if i == 0 or j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_the_distance_worked_out_near_the_diagonal_is_the_whole_one():
    """closest.edit_distance works out only the cells within the limit of
    the diagonal (100,000 host names in a few tenths of a second): on every
    pair of many short names of four letters, it is the distance, capped."""
    import itertools
    words = ["".join(w) for n in range(6) for w in itertools.product("ab.-", repeat=n)]
    pairs = [(a, b) for a in words[::19] for b in words[::17]]
    assert len(pairs) > 5000
    for a, b in pairs:
        whole = full_distance(a, b)
        for limit in (0, 1, 2, 3):
            assert closest.edit_distance(a, b, limit) == min(whole, limit + 1), (a, b, limit)


# ---------------------------------------------------------------- the list in the store

def test_import_adds_retires_and_lists_again(store):
    put(store, "t2_ch_cern", "wn1.cern.ch", [BASH], 0)
    assert load(store) == (6, 6, 0, 0, 0)
    rows = {row.name: row for row in store.sites.rows()}
    assert rows["T2_CH_CERN"].tier == 2 and rows["T2_CH_CERN"].gocdb == "CERN-PROD"
    assert rows["praguelcg2"].status == "listed"
    # the hosts of a listed site take its spelling
    assert [h.site for h in store.hosts.listed()] == ["T2_CH_CERN"]
    # a shorter list retires what it lacks, and keeps it
    shorter = [s for s in topology.parse_site_list(fixture("cric.json"))
               if s.name != "praguelcg2"]
    assert store.sites.import_list(shorter, "x", "cric", T0 + DAY, "officer") == (5, 0, 1, 0, 0)
    rows = {row.name: row for row in store.sites.rows()}
    assert rows["praguelcg2"].status == "retired" and rows["praguelcg2"].since == T0 + DAY
    assert rows["praguelcg2"].tier == 2
    # the same list again changes nothing
    assert store.sites.import_list(shorter, "x", "cric", T0 + DAY, "officer") == (5, 0, 0, 0, 0)
    # the full one lists it again, and a changed tier is an update
    changed = [s._replace(tier=1) if s.name == "UKI-NORTHGRID-LANCS-HEP" else s
               for s in topology.parse_site_list(fixture("cric.json"))]
    assert store.sites.import_list(changed, "y", "cric", T0 + 2 * DAY, "officer") == (6, 0, 0, 1, 1)
    rows = {row.name: row for row in store.sites.rows()}
    assert rows["praguelcg2"].status == "listed" and rows["praguelcg2"].since == T0 + 2 * DAY
    assert rows["T2_CH_CERN"].since == T0  # listed all along
    assert [(s.sites, s.added, s.retired) for s in store.sites.lists()] == [
        (6, 6, 0), (5, 0, 1), (5, 0, 0), (6, 0, 0)]


def test_the_cli_imports_each_format_and_shows_the_metadata(tmp_path, database_url):
    db = ["--db", database_url]
    assert run_cli(db + ["init-db"])[0] == 0
    for name, fmt in (("plain.list", "plain"), ("gocdb.xml", "gocdb"),
                      ("cric.json", "cric")):
        code, out, err = run_cli(db + ["sites", "import", os.path.join(FIXTURES, name)])
        assert code == 0, err
        assert "(%s)" % fmt in out
    # the last import (CRIC) replaced the GOCDB list: FZK-LCG2 retired, T1_DE_KIT added
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    put(store, "T1_DE_KIT", "wn1.gridka.de", [BASH], 0)
    put(store, "T2_CH_CERM", "wn9.cern.ch", [BASH], 0, sender="192.0.2.99")
    store.close()
    code, out, _ = run_cli(db + ["sites", "--format", "json"])
    sites = {row["site"]: row for row in json.loads(out)}
    assert sites["FZK-LCG2"]["status"] == "retired"
    assert sites["T1_DE_KIT"] == {"site": "T1_DE_KIT", "status": "listed", "tier": 1,
                                  "country": "Germany", "gocdb": "FZK-LCG2", "hosts": 1,
                                  "last_report": "2026-01-01T00:00:00Z"}
    assert sites["T2_CH_CERM"]["status"] == "unknown"
    code, out, _ = run_cli(db + ["hosts", "--format", "csv"])
    assert out.splitlines()[0] == "site,host,system,packager,last_report,packages,trust,tier," \
                                  "country"
    assert "T1_DE_KIT,wn1.gridka.de,AlmaLinux 9.4,rpm,2026-01-01T00:00:00Z,1,unsigned,1," \
           "Germany" in out
    code, out, _ = run_cli(db + ["sites", "--unknown", "--format", "json"])
    assert json.loads(out) == [{"site": "T2_CH_CERM", "hosts": 1, "quarantined": 0,
                                "last_report": "2026-01-01T00:00:00Z",
                                "suggestions": "T2_CH_CERN", "also_at": None,
                                "host_names": "wn9.cern.ch", "senders": "192.0.2.99"}]
    # a bad file: one line, nothing changed
    bad = tmp_path / "bad.list"
    bad.write_text("CERN-PROD\nT2 CH\n")
    code, _, err = run_cli(db + ["sites", "import", str(bad)])
    assert code == 1 and err.count("\n") == 1 and "line 2" in err and "nothing imported" in err
    assert len(json.loads(run_cli(db + ["sites", "--format", "json"])[1])) == 8


def test_unknown_sites_say_when_their_hosts_are_at_the_site_suggested(database_url):
    """The same hosts reporting under two names: the typo's host names are
    at the listed site it suggests (a host reinstalled with the typo, or
    half a site's configuration changed)."""
    store = open_store(database_url)
    load(store)
    for host in ("wn1.cern.ch", "wn2.cern.ch"):
        put(store, "T2_CH_CERN", host, [BASH], 0)
    for host in ("wn1.cern.ch", "wn3.cern.ch"):
        put(store, "T2_CH_CERM", host, [BASH], 1)
    put(store, "RAL-LGC2", "wn1.ral.ac.uk", [BASH], 1)
    store.close()
    code, out, err = run_cli(["--db", database_url, "sites", "--unknown", "--format", "json"])
    assert code == 0, err
    assert [(row["site"], row["suggestions"], row["also_at"]) for row in json.loads(out)] == [
        ("RAL-LGC2", "RAL-LCG2", None),
        ("T2_CH_CERM", "T2_CH_CERN", "T2_CH_CERN (1 of 2 hosts)")]
    code, out, err = run_cli(["--db", database_url, "sites", "--unknown"])
    assert out.splitlines()[0].split() == [
        "SITE", "HOSTS", "QUARANTINED", "LAST_REPORT", "SUGGESTIONS", "ALSO_AT", "HOST_NAMES",
        "SENDERS"]
    assert "T2_CH_CERN (1 of 2 hosts)" in out.splitlines()[2]


def test_an_import_that_would_retire_most_sites_needs_force(tmp_path, database_url):
    db = ["--db", database_url]
    run_cli(db + ["init-db"])
    many = tmp_path / "many.list"
    many.write_text("".join("SITE-%02d\n" % n for n in range(30)))
    few = tmp_path / "few.list"
    few.write_text("SITE-00\nSITE-01\n")
    assert run_cli(db + ["sites", "import", str(many)])[0] == 0
    code, _, err = run_cli(db + ["sites", "import", str(few)])
    assert code == 1 and "would retire 28 of the 30 listed sites" in err
    code, out, _ = run_cli(db + ["sites", "import", "--force", str(few)])
    assert code == 0 and "28 retired" in out


# ---------------------------------------------------------------- unknown names

def test_a_report_for_an_unknown_site_is_stored_and_its_reporter_told(store):
    result = put(store, "T2_CH_CERM", "wn1.cern.ch", [BASH], 0)
    # no list: no opinion
    assert result.outcome == "changed" and site_notice(result.site) is None
    load(store)
    result = put(store, "T2_CH_CERM", "wn2.cern.ch", [BASH], 0)
    assert result.outcome == "changed"
    assert site_notice(result.site) == (
        "site T2_CH_CERM is not on the collector's list of sites (did you "
                             "mean T2_CH_CERN?): check --site")
    assert site_notice(put(store, "T2_CH_CERN", "wn3.cern.ch", [BASH], 0).site) is None
    assert site_notice(put(store, "t2_ch_cern", "wn4.cern.ch", [BASH], 0).site) is None
    assert {h.site for h in store.hosts.listed()} == {"T2_CH_CERM", "T2_CH_CERN"}
    found = topology.unknown_sites(store.sites.rows(), store.sites.hosts(), [])
    assert [(u.site, u.hosts, u.suggestions, u.host_names) for u in found] == [
        ("T2_CH_CERM", 2, ["T2_CH_CERN"], ["wn1.cern.ch", "wn2.cern.ch"])]


def test_the_collector_answers_200_with_the_line_and_ends_in_ok(tmp_path, database_url,
                                                                collector_keys):
    from wlcg_collector import create_app
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    load(store)
    store.close()
    app = create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys],
                                  allow_plaintext="yes"))
    body = make_report("T2_CH_CERM", "wn1.cern.ch", [BASH], ts=None)
    status, _, answer, _ = wsgi_call(app, body)
    assert status == 200
    assert answer == (b"site T2_CH_CERM is not on the collector's list of sites (did you mean "
                      b"T2_CH_CERN?): check --site\nOK")
    # pakiti-client (curl) checks the body with /OK$/
    import re
    assert re.search(rb"OK$", answer)
    status, _, answer, _ = wsgi_call(app, make_report("T2_CH_CERN", "wn1.cern.ch", [BASH]))
    assert (status, answer) == (200, b"OK")


def test_unknown_sites_quarantine_holds_the_report_until_the_officer_accepts(store):
    load(store)
    rules = trust.Rules(unknown_sites="quarantine")
    result = put(store, "T2_NEW_SITE", "wn1.new.org", [BASH], 0, rules=rules)
    assert result.outcome == "quarantined"
    assert "site T2_NEW_SITE is not on the collector's list of sites" in quarantine_answer(result)
    assert store.hosts.listed() == []
    [entry] = store.review.quarantined()
    assert (entry.kind, entry.site) == (trust.UNKNOWN_SITE, "T2_NEW_SITE")
    found = topology.unknown_sites(store.sites.rows(), store.sites.hosts(),
                                   store.sites.quarantined(trust.UNKNOWN_SITE))
    assert [(u.site, u.hosts, u.quarantined) for u in found] == [("T2_NEW_SITE", 1, 1)]
    # a listed site is applied as ever
    assert put(store, "RAL-LCG2", "wn1.rl.ac.uk", [BASH], 0, rules=rules).outcome == "changed"
    entry = store.review.quarantined_one(entry.id)
    assert store.review.accept(entry, parse_report(entry.report), T0 + 100,
                               "officer").outcome == "changed"
    status = {row.name: row.status for row in store.sites.rows()}
    assert status["T2_NEW_SITE"] == "accepted"
    # accepted: its next report goes straight in
    result = put(store, "T2_NEW_SITE", "wn2.new.org", [BASH], 1, rules=rules)
    assert result.outcome == "changed" and site_notice(result.site) is None
    # and a re-import of the list keeps it accepted
    load(store, now=T0 + 2 * DAY)
    assert {row.name: row.status for row in store.sites.rows()}["T2_NEW_SITE"] == "accepted"


def test_the_cli_accepts_every_report_held_for_one_unknown_site(tmp_path, database_url):
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    load(store)
    rules = trust.Rules(unknown_sites="quarantine")
    for n in range(3):
        put(store, "T3_LOCAL", "wn%d.local.org" % n, [BASH], 0, rules=rules)
    store.close()
    code, out, err = run_cli(["--db", database_url, "quarantine", "accept", "--site",
                              "T3_LOCAL", "--unknown-site"])
    assert code == 0, err
    assert out == "accepted 3 report(s) held for an unknown site of site T3_LOCAL\n"
    store = open_store(database_url)
    assert len(store.hosts.listed("T3_LOCAL")) == 3 and store.review.quarantined() == []
    store.close()


# ---------------------------------------------------------------- renames and merges

def test_a_rename_moves_hosts_history_reports_and_the_site_key(store):
    for day, packages in enumerate([[BASH, XROOTD_OLD], [BASH, XROOTD_NEW]]):
        for host in ("wn1.lancs.ac.uk", "wn2.lancs.ac.uk"):
            put(store, "UKI-LT2-LANCS", host, packages, day)
    before = history(store, "wn1.lancs.ac.uk", "UKI-LT2-LANCS")
    reports = store.hosts.reports(store.hosts.get("UKI-LT2-LANCS", "wn1.lancs.ac.uk").id)
    store.db.transaction(lambda c: c.execute(store.db.sql.INSERT_SITE_KEY,
                                             ("UKI-LT2-LANCS", b"k" * 32, T0, "192.0.2.1")))
    load(store)
    done = store.sites.move("UKI-LT2-LANCS", "UKI-NORTHGRID-LANCS-HEP", "rename", T0 + 3 * DAY,
                            "officer")
    assert (done.kind, done.old_name, done.new_name, done.hosts, done.merged, done.reports,
            done.intervals) == ("rename", "UKI-LT2-LANCS", "UKI-NORTHGRID-LANCS-HEP", 2, 0, 4,
                                6)
    assert {h.site for h in store.hosts.listed()} == {"UKI-NORTHGRID-LANCS-HEP"}
    assert history(store, "wn1.lancs.ac.uk", "UKI-NORTHGRID-LANCS-HEP") == before
    moved = store.hosts.get("UKI-NORTHGRID-LANCS-HEP", "wn1.lancs.ac.uk")
    assert store.hosts.reports(moved.id) == reports
    assert [(k.site, bytes(k.fingerprint)) for k in store.review.site_keys()] == [
        ("UKI-NORTHGRID-LANCS-HEP", b"k" * 32)]
    assert store.sites.renames() == [done]
    # a report still naming the old site is stored under the new one, and told so
    result = put(store, "uki-lt2-lancs", "wn1.lancs.ac.uk", [BASH, XROOTD_NEW, KERNEL1], 2)
    assert result.outcome == "changed"
    assert site_notice(result.site) == (
        "site uki-lt2-lancs is now UKI-NORTHGRID-LANCS-HEP at the collector (renamed by the "
        "officer): change --site to UKI-NORTHGRID-LANCS-HEP")
    assert [h.site for h in store.hosts.listed()] == ["UKI-NORTHGRID-LANCS-HEP"] * 2
    # renaming to a site that has hosts is a merge
    put(store, "T2_OTHER", "wn1.other.org", [BASH], 0)
    with pytest.raises(SiteError) as caught:
        store.sites.move("T2_OTHER", "UKI-NORTHGRID-LANCS-HEP", "rename", T0, "officer")
    assert "already has 2 host(s)" in str(caught.value) and "sites merge" in str(caught.value)
    # an alias chain: renaming the new name on again leads the oldest name there too
    # (a listed site to a name not on the list: only with force)
    store.sites.move("UKI-NORTHGRID-LANCS-HEP", "UKI-LANCS", "rename", T0 + 4 * DAY, "officer",
                     force=True)
    assert {(a.alias, a.site) for a in store.sites.aliases()} == {
        ("UKI-LT2-LANCS", "UKI-LANCS"), ("UKI-NORTHGRID-LANCS-HEP", "UKI-LANCS")}
    result = put(store, "UKI-LT2-LANCS", "wn2.lancs.ac.uk", [BASH], 3)
    assert "now UKI-LANCS" in site_notice(result.site)
    assert store.hosts.get("UKI-LANCS", "wn2.lancs.ac.uk")
    # a name renamed away can only be named through what it became...
    put(store, "T2_ELSE", "wn1.else.org", [BASH], 0)
    with pytest.raises(SiteError) as caught:
        store.sites.move("T2_ELSE", "UKI-LT2-LANCS", "merge", T0, "officer")
    assert "UKI-LT2-LANCS was renamed or merged into UKI-LANCS" in str(caught.value)
    # ... but the rename can be undone
    store.sites.move("UKI-LANCS", "UKI-NORTHGRID-LANCS-HEP", "rename", T0 + 5 * DAY, "officer")
    assert {(a.alias, a.site) for a in store.sites.aliases()} == {
        ("UKI-LT2-LANCS", "UKI-NORTHGRID-LANCS-HEP"), ("UKI-LANCS", "UKI-NORTHGRID-LANCS-HEP")}
    assert site_notice(put(store, "UKI-NORTHGRID-LANCS-HEP", "wn2.lancs.ac.uk", [BASH],
                           4).site) is None
    assert history(store, "wn1.lancs.ac.uk", "UKI-NORTHGRID-LANCS-HEP")[:len(before)] == before


def test_storage_says_where_a_site_name_led_and_leaves_the_report_alone(store):
    """The store answers with data (the name sent, the name stored, why)
    and never rewrites the parsed report: what the reporter is told is
    ingest's wording."""
    load(store)
    put(store, "UKI-LT2-LANCS", "wn1.lancs.ac.uk", [BASH], 0)
    store.sites.move("UKI-LT2-LANCS", "UKI-NORTHGRID-LANCS-HEP", "rename", T0 + DAY, "officer")
    report = parse_report(make_report("uki-lt2-lancs", "wn1.lancs.ac.uk", [BASH, XROOTD_NEW],
                                      ts=T0 + 2 * DAY))
    result = store.writer.store_report(report, T0 + 2 * DAY + 60, "192.0.2.1",
                                       rules=trust.Rules())
    assert report.site == "uki-lt2-lancs" and report.headers["site"] == "uki-lt2-lancs"
    assert result.site == SiteResolution("uki-lt2-lancs", "UKI-NORTHGRID-LANCS-HEP", True,
                                         False, ())
    report = parse_report(make_report("T2_CH_CERM", "wn9.cern.ch", [BASH], ts=T0))
    result = store.writer.store_report(report, T0 + 60, "192.0.2.1", rules=trust.Rules())
    assert report.site == "T2_CH_CERM"
    assert (result.site.site, result.site.renamed, result.site.unknown) == (
        "T2_CH_CERM", False, True)
    assert "T2_CH_CERN" in result.site.suggestions


MERGE_DAYS = [[BASH, XROOTD_OLD, KERNEL1], [BASH, XROOTD_OLD, KERNEL1, KERNEL2],
              [BASH, XROOTD_NEW, KERNEL2], [BASH, XROOTD_NEW, KERNEL2]]


def test_a_merge_joins_a_host_that_reported_under_both_names_in_turn(store):
    """wn1 reports under the typo on days 0-1, under the right name on days
    2-3: merged, its history is that of a host that reported the same sets
    under one name (control.example.org) all along."""
    load(store)
    for day, packages in enumerate(MERGE_DAYS):
        put(store, "T2_CH_CERM" if day < 2 else "T2_CH_CERN", "wn1.cern.ch", packages, day)
        put(store, "T2_CH_CERN", "control.cern.ch", packages, day)
        if day < 2:
            put(store, "T2_CH_CERM", "wn2.cern.ch", packages, day)  # only under the typo
    requirements = parse_baseline("xrootd >= 1:5.7.1-1.el9\nkernel >= 5.14.0-500\n", "b")
    requirement = parse_requirement("xrootd >= 1:5.7.1")

    def by_host(rows, drop=()):
        return sorted(row[1:] for row in rows if row[:2] not in drop)
    # from day 2 the typo's wn1 is a stale duplicate (its last set, day 1's):
    # the merge removes it, and nothing else changes
    stale = {("T2_CH_CERM", "wn1.cern.ch")}
    compare_before = {day: by_host(analysis.compliance(
        store, requirements, T0 + day * DAY + 3600).rows(), stale if day >= 2 else ())
        for day in range(4)}
    adoption_before = analysis.adoption(store, requirement, T0, T0 + 3 * DAY)
    done = store.sites.move("T2_CH_CERM", "T2_CH_CERN", "merge", T0 + 4 * DAY, "officer")
    assert (done.hosts, done.merged, done.reports) == (2, 1, 4)
    hosts = store.hosts.listed()
    assert [(h.site, h.name) for h in hosts] == [
        ("T2_CH_CERN", "control.cern.ch"), ("T2_CH_CERN", "wn1.cern.ch"),
        ("T2_CH_CERN", "wn2.cern.ch")]
    merged = store.hosts.get("T2_CH_CERN", "wn1.cern.ch")
    control = store.hosts.get("T2_CH_CERN", "control.cern.ch")
    assert merged.first_report == control.first_report == T0
    assert history(store, "wn1.cern.ch", "T2_CH_CERN") == \
        history(store, "control.cern.ch", "T2_CH_CERN")
    assert [(i.name, i.version, i.installed, i.removed)
            for i in sorted(store.hosts.intervals(merged.id))] == \
        [(i.name, i.version, i.installed, i.removed)
         for i in sorted(store.hosts.intervals(control.id))]
    assert len(store.hosts.reports(merged.id)) == 4
    assert store.testing.orphan_intervals() == 0
    # compare at each day and adoption: the same answers for the same hosts
    for day in range(4):
        assert by_host(analysis.compliance(store, requirements,
                                           T0 + day * DAY + 3600).rows()) == compare_before[day]
    adoption_after = analysis.adoption(store, requirement, T0, T0 + 3 * DAY)
    assert [(d.hosts_ok, d.hosts_behind) for d in adoption_after] == \
        [(d.hosts_ok, d.hosts_behind - (1 if n >= 2 else 0))
         for n, d in enumerate(adoption_before)]
    # two sites before (the typo's), one after
    assert [d.sites_behind + d.sites_ok for d in adoption_before] == [2, 2, 2, 2]
    assert [d.sites_behind + d.sites_ok for d in adoption_after] == [1, 1, 1, 1]
    assert store.sites.renames()[0].kind == "merge"
    assert [u.site for u in topology.unknown_sites(store.sites.rows(), store.sites.hosts(),
                                                   [])] == []


def test_a_merge_is_refused_when_a_host_reported_to_both_in_the_same_period(store):
    load(store)
    for day in range(3):
        put(store, "T2_CH_CERM", "wn1.cern.ch", [BASH], day)
        put(store, "T2_CH_CERN", "wn1.cern.ch", [BASH, KERNEL1], day)
        put(store, "T2_CH_CERM", "wn2.cern.ch", [BASH], day)
    counts = store.testing.row_counts()
    with pytest.raises(SiteError) as caught:
        store.sites.move("T2_CH_CERM", "T2_CH_CERN", "merge", T0 + 4 * DAY, "officer")
    assert str(caught.value) == ("host wn1.cern.ch is at both T2_CH_CERM and T2_CH_CERN and "
                                 "reported to both in the same period: nothing changed")
    assert store.testing.row_counts() == counts
    assert sorted(h.site for h in store.hosts.listed()) == ["T2_CH_CERM", "T2_CH_CERM",
                                                            "T2_CH_CERN"]
    assert store.sites.renames() == [] and store.sites.aliases() == []


def test_merges_and_renames_refuse_what_makes_no_sense(store):
    load(store)
    put(store, "T2_CH_CERM", "wn1.cern.ch", [BASH], 0)
    put(store, "T2_CH_CERN", "wn2.cern.ch", [BASH], 0)
    for old, new, kind, message in (
            ("T2_CH_CERM", "t2_ch_cerm", "merge", "are the same site"),
            ("T2_NOBODY", "T2_CH_CERN", "merge", "site T2_NOBODY has no hosts"),
            ("T2_CH_CERM", "T2_ELSEWHERE", "merge", "is not on the list of sites: to give "
             "T2_CH_CERM a new name, use sites rename")):
        with pytest.raises(SiteError) as caught:
            store.sites.move(old, new, kind, T0, "officer")
        assert message in str(caught.value)
    # different site keys pinned at both: the hosts of one would be held
    for site, key in (("T2_CH_CERM", b"a" * 32), ("T2_CH_CERN", b"b" * 32)):
        store.db.transaction(lambda c: c.execute(store.db.sql.INSERT_SITE_KEY,
                                                 (site, key, T0, "192.0.2.1")))
    with pytest.raises(SiteError) as caught:
        store.sites.move("T2_CH_CERM", "T2_CH_CERN", "merge", T0, "officer")
    assert "different site keys pinned" in str(caught.value)


def test_a_listed_site_is_not_merged_into_a_typo_unless_forced(store):
    """The arguments of a merge swapped moved the listed site's hosts,
    reports and intervals into the typo, made the typo accepted, the
    official name its alias, and the typo left `sites --unknown`."""
    load(store)
    for day in range(2):
        put(store, "T2_CH_CERN", "wn1.cern.ch", [BASH], day)
        put(store, "T2_CH_CERN", "wn2.cern.ch", [BASH, KERNEL1], day)
    for day in (2, 3):  # the same host, reporting under a typo from day 2
        put(store, "T2_CH_CERM", "wn1.cern.ch", [BASH], day)
    counts = store.testing.row_counts()

    def unknown():
        return [u.site for u in topology.unknown_sites(store.sites.rows(), store.sites.hosts(),
                                                       [])]
    with pytest.raises(SiteError) as caught:
        store.sites.move("T2_CH_CERN", "T2_CH_CERM", "merge", T0 + 4 * DAY, "officer")
    assert str(caught.value) == (
        "T2_CH_CERN is on the list of sites and T2_CH_CERM is not: did you mean sites merge "
        "T2_CH_CERM T2_CH_CERN (the typo first)? nothing changed")
    # renamed to a name no list holds yet: the same refusal, with what to do
    with pytest.raises(SiteError) as caught:
        store.sites.move("t2_ch_cern", "T2_CH_NEW", "rename", T0 + 4 * DAY, "officer")
    assert str(caught.value) == (
        "T2_CH_CERN is on the list of sites and T2_CH_NEW is not: import a list that names "
        "T2_CH_NEW first; nothing changed")
    with pytest.raises(SiteError) as caught:  # a dry run is refused alike
        store.sites.move("T2_CH_CERN", "T2_CH_CERM", "merge", T0, "officer", dry_run=True)
    assert "did you mean sites merge T2_CH_CERM T2_CH_CERN" in str(caught.value)
    assert store.testing.row_counts() == counts and unknown() == ["T2_CH_CERM"]
    assert store.sites.renames() == [] and store.sites.aliases() == []
    # the merge meant: the typo into the listed site
    store.sites.move("T2_CH_CERM", "T2_CH_CERN", "merge", T0 + 4 * DAY, "officer")
    assert {h.site for h in store.hosts.listed()} == {"T2_CH_CERN"} and unknown() == []
    # forced, a listed site does go to a name not on the list (accepted from then on)
    done = store.sites.move("T2_CH_CERN", "T2_CH_NEW", "rename", T0 + 5 * DAY, "officer",
                            force=True)
    assert (done.hosts, done.new_name) == (2, "T2_CH_NEW")
    assert [(row.name, row.status) for row in store.sites.rows()
            if row.name.startswith("T2_CH_N")] == [("T2_CH_NEW", ACCEPTED)]


def test_a_dry_run_says_what_would_move_and_writes_nothing(store):
    load(store)
    for day, packages in enumerate(MERGE_DAYS):
        put(store, "T2_CH_CERM" if day < 2 else "T2_CH_CERN", "wn1.cern.ch", packages, day)
        if day < 2:
            put(store, "T2_CH_CERM", "wn2.cern.ch", packages, day)
    store.db.transaction(lambda c: c.execute(store.db.sql.INSERT_SITE_KEY,
                                             ("T2_CH_CERM", b"k" * 32, T0, "192.0.2.1")))
    counts = store.testing.row_counts()
    plan = store.sites.move("T2_CH_CERM", "T2_CH_CERN", "merge", T0 + 4 * DAY, "officer",
                            dry_run=True)
    assert store.testing.row_counts() == counts and store.sites.renames() == []
    assert plan == (
        "merge", "T2_CH_CERM", "T2_CH_CERN", 2, 1, 4, 8, 0, 0, b"k" * 32, False, ())
    done = store.sites.move("T2_CH_CERM", "T2_CH_CERN", "merge", T0 + 4 * DAY, "officer")
    assert tuple(done[2:9]) == tuple(plan[:7])  # what it said would move, moved
    assert done.site_key_dropped == b"k" * 32 and store.review.site_keys() == []


def test_an_accepted_sites_row_follows_its_renames_and_goes_in_a_merge(store):
    """A name a rename gives is accepted; renamed on, the accepted row takes
    the newest name; merged into a listed site, it goes."""
    load(store)
    put(store, "T3_ONE", "wn1.one.org", [BASH], 0)

    def accepted():
        return [row.name for row in store.sites.rows() if row.status == ACCEPTED]
    store.sites.move("T3_ONE", "T3_TWO", "rename", T0 + DAY, "officer")
    assert accepted() == ["T3_TWO"]
    store.sites.move("T3_TWO", "T3_THREE", "rename", T0 + 2 * DAY, "officer")
    assert accepted() == ["T3_THREE"]
    store.sites.move("T3_THREE", "RAL-LCG2", "merge", T0 + 3 * DAY, "officer")
    assert accepted() == [] and {h.site for h in store.hosts.listed()} == {"RAL-LCG2"}


def test_the_cli_renames_merges_and_lists_them(database_url):
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    load(store)
    put(store, "T2_CH_CERM", "wn1.cern.ch", [BASH], 0)
    put(store, "T2_CH_CERN", "wn2.cern.ch", [BASH], 1)
    put(store, "T2_OLDNAME", "wn1.old.org", [BASH], 0)
    store.close()
    db = ["--db", database_url]
    # --help says which name is which
    code, out, _ = run_cli(["sites", "merge", "--help"])
    words = " ".join(out.split())  # (as wide as the terminal is)
    assert code == 0 and "TYPO the misspelt name, which goes" in words
    assert "INTO the right name (listed, or with hosts), which stays" in words
    assert "example: hosts reported under INFN_PISA, a typo of the listed INFN-PISA: sites " \
           "merge INFN_PISA INFN-PISA" in words
    # swapped, refused in one line; a dry run writes nothing
    code, out, err = run_cli(db + ["sites", "merge", "T2_CH_CERN", "T2_CH_CERM"])
    assert (code, out) == (1, "") and err == (
        "wlcg-collector: T2_CH_CERN is on the list of sites and T2_CH_CERM is not: did you mean "
        "sites merge T2_CH_CERM T2_CH_CERN (the typo first)? nothing changed; --force merges "
        "T2_CH_CERN into T2_CH_CERM all the same\n")
    code, out, err = run_cli(db + ["sites", "merge", "T2_CH_CERM", "T2_CH_CERN", "--dry-run"])
    assert (code, err) == (0, "") and out == (
        "merging site T2_CH_CERM into T2_CH_CERN would move 1 host(s) (0 merged with a host of "
        "the same name), 1 report(s), 1 interval(s), 0 quarantined report(s) and 0 host "
        "pin(s); nothing written (--dry-run)\n")
    assert run_cli(db + ["sites", "renames", "--format", "csv"])[1].count("\n") == 1
    code, out, err = run_cli(db + ["sites", "merge", "T2_CH_CERM", "T2_CH_CERN"])
    assert code == 0, err
    assert out == ("merged site T2_CH_CERM into T2_CH_CERN: 1 host(s) moved (0 merged with a "
                   "host of the same name), 1 report(s), 1 interval(s); reports naming "
                   "T2_CH_CERM are stored under T2_CH_CERN from now on\n")
    code, out, err = run_cli(db + ["sites", "rename", "T2_OLDNAME", "T2_NEWNAME"])
    assert code == 0 and out.startswith("renamed site T2_OLDNAME to T2_NEWNAME: 1 host(s)")
    code, out, err = run_cli(db + ["sites", "merge", "T2_CH_CERN", "T2_CH_CERN"])
    assert code == 1 and err.count("\n") == 1 and "the same site" in err
    code, out, _ = run_cli(db + ["sites", "renames", "--format", "csv"])
    lines = out.splitlines()
    assert lines[0] == "id,time,kind,old,new,hosts,merged,reports,intervals,by"
    assert [line.split(",")[2:5] for line in lines[1:]] == [
        ["merge", "T2_CH_CERM", "T2_CH_CERN"], ["rename", "T2_OLDNAME", "T2_NEWNAME"]]


# ---------------------------------------------------------------- the pages

def test_the_overview_shows_tiers_sorts_by_them_and_shows_unknown_sites_apart(
        tmp_path, database_url, collector_keys):
    from wlcg_collector import create_app
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    load(store)
    for site, host in (("CERN-PROD", "a.cern.ch"), ("RAL-LCG2", "a.rl.ac.uk"),
                       ("UKI-NORTHGRID-LANCS-HEP", "a.lancs.ac.uk"),
                       ("T2_CH_CERM", "typo.cern.ch"), ("T2_CH_CERM", "typo2.cern.ch")):
        put(store, site, host, [BASH], 0, sender="192.0.2.66")
    put(store, "T3_<b>X<\\b>", "held.example.org", [BASH], 0, sender="192.0.2.77",
        rules=trust.Rules(unknown_sites="quarantine"))
    store.close()
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    with open(config, "a") as handle:
        handle.write("[officer]\nallow = /CN=officer\n")
    app = create_app(config)

    def page(path, query=""):
        status, _, body, _ = wsgi_call(app, method="GET", path=path, query=query,
                                       content_length=False, environ_extra={
                                           "SSL_CLIENT_S_DN": "/CN=officer",
                                           "SSL_CLIENT_VERIFY": "SUCCESS"})
        assert status == 200
        return body.decode("utf-8")
    body = page("/officer/", "sort=tier")
    sites = body[body.index('<table id="sites">'):body.index('<table id="unknown">')]
    names = [r.split("</a>")[0].rsplit(">", 1)[1]
             for r in sites.split("<tbody>")[1].split("<tr")[1:]]
    assert names == ["CERN-PROD", "RAL-LCG2", "UKI-NORTHGRID-LANCS-HEP"]  # tiers 0, 1, 2
    assert '<td class="num">1</td><td>United Kingdom</td>' in sites
    unknown = body[body.index('<table id="unknown">'):]
    unknown = unknown[:unknown.index("</table>")]
    assert "T2_CH_CERM" in unknown and "T2_CH_CERN" in unknown and "192.0.2.66" in unknown
    # a held report's site is shown, escaped
    assert "T3_&lt;b&gt;X&lt;\\b&gt;" in unknown and "<b>X" not in body
    assert '<p id="without-reports">praguelcg2, T1_DE_KIT, T2_CH_CERN</p>' in body
    body = page("/officer/", "sort=tier&order=desc")
    sites = body[body.index('<table id="sites">'):body.index('<table id="unknown">')]
    names = [r.split("</a>")[0].rsplit(">", 1)[1]
             for r in sites.split("<tbody>")[1].split("<tr")[1:]]
    assert names == ["UKI-NORTHGRID-LANCS-HEP", "RAL-LCG2", "CERN-PROD"]
    body = page("/officer/site/RAL-LCG2")
    assert '<p class="meta" id="site-meta">listed · tier 1 · United Kingdom · ACTIVE</p>' in body


def test_compare_shows_each_sites_tier_once_a_list_is_loaded(database_url, tmp_path):
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    put(store, "RAL-LCG2", "a.rl.ac.uk", [BASH, XROOTD_OLD], 0)
    put(store, "T2_CH_CERN", "a.cern.ch", [BASH, XROOTD_NEW], 0)
    baseline = tmp_path / "b.txt"
    baseline.write_text("xrootd >= 1:5.7.1-1.el9\n")
    store.close()
    code, out, _ = run_cli(["--db", database_url, "compare", str(baseline)])
    assert code == 0 and out.splitlines()[0].split() == ["SITE", "HOSTS", "APPLICABLE", "BEHIND",
                                                         "COMPLIANT"]
    store = open_store(database_url)
    load(store)
    store.close()
    code, out, _ = run_cli(["--db", database_url, "compare", str(baseline)])
    summary = [["SITE", "HOSTS", "APPLICABLE", "BEHIND", "COMPLIANT", "TIER"],
               ["RAL-LCG2", "1", "1", "1", "0.0%", "1"],
               ["T2_CH_CERN", "1", "1", "0", "100.0%", "2"], []]
    # (the hosts reported on 2026-01-01: silent since, as the lines say)
    silent = ["(silent", str((int(time.time()) - T0 - 60) // DAY), "d)"]
    assert [line.split() for line in out.splitlines()] == summary + [
        ["SITE", "HOST", "BEHIND", "REQUIREMENTS"],
        ["RAL-LCG2", "a.rl.ac.uk"] + silent + ["1", "xrootd", ">=", "1:5.7.1-1.el9"]]
    code, out, _ = run_cli(["--db", database_url, "compare", str(baseline), "--rows"])
    assert [line.split() for line in out.splitlines()] == summary + [
        ["SITE", "HOST", "PACKAGE", "ARCH", "INSTALLED", "REQUIREMENT", "STATUS"],
        ["RAL-LCG2", "a.rl.ac.uk"] + silent + ["xrootd", "x86_64", "1:5.6.9-1.el9", "xrootd",
                                               ">=", "1:5.7.1-1.el9", "behind"]]


def test_ingest_says_each_site_notice_once(tmp_path, database_url):
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    load(store)
    store.close()
    files = []
    for n, site in enumerate(["T2_CH_CERM", "T2_CH_CERM", "RAL-LCG2"]):
        path = tmp_path / ("r%d.txt" % n)
        path.write_bytes(make_report(site, "wn%d.example.org" % n, [BASH], ts=T0))
        files.append(str(path))
    code, out, err = run_cli(["--db", database_url, "ingest"] + files)
    assert code == 0 and out == "stored 3 of 3 report(s): 3 changed\n"
    assert err == ("wlcg-collector: site T2_CH_CERM is not on the collector's list of sites "
                   "(did you mean T2_CH_CERN?): check --site (2 report(s))\n")


def test_the_list_is_fetched_over_verified_https(tmp_path, database_url):
    """[sites] source and ca_file, as the timer runs it: fetched like the
    advisory feeds (urllib, the certificate verified, bounded)."""
    import http.server
    import shutil
    import ssl
    import threading
    from helpers import make_tls_server_files

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    root = tmp_path / "served"
    shutil.copytree(FIXTURES, str(root))
    key, cert, _ = make_tls_server_files(tmp_path / "tls")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: Quiet(*a, directory=str(root), **k))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "https://127.0.0.1:%d/cric.json?json" % server.server_address[1]
        config = write_config(tmp_path / "c.conf", database_url, [])
        with open(config, "a") as handle:
            handle.write("[sites]\nsource = %s\nca_file = %s\n"
                         % (url, tmp_path / "tls" / "ca.pem"))
        assert run_cli(["--config", config, "init-db"])[0] == 0
        code, out, err = run_cli(["--config", config, "sites", "import", "--quiet"])
        assert (code, out, err) == (0, "", "")
        code, out, _ = run_cli(["--config", config, "sites", "--format", "json"])
        assert len(json.loads(out)) == 6
        # the system's CAs do not know the test CA: one line, nothing imported
        code, out, err = run_cli(["--db", database_url, "sites", "import", "--quiet", url])
        assert code == 1 and "CERTIFICATE_VERIFY_FAILED" in err and err.count("\n") == 1
        code, out, err = run_cli(["--db", database_url, "sites", "import",
                                  url.replace("https", "http")])
        assert code == 1 and "only https:// URLs are fetched" in err
    finally:
        server.shutdown()



@pytest.mark.parametrize("host", ["wn1.lancs.ac.uk", "wn9.lancs.ac.uk"])
def test_a_report_in_flight_during_a_rename_lands_under_the_new_name(mysql_url, host):
    """A report read the site's aliases (none yet) in its snapshot; a
    rename committed before it wrote its host (which had moved away, or was
    new). It is stored again, under the new name, not as a host under the
    old one. (SQLite's writers take turns: a rename cannot commit
    in between.)"""
    store, officer = open_store(mysql_url), open_store(mysql_url)
    try:
        store.schema.init()
        put(store, "UKI-LT2-LANCS", "wn1.lancs.ac.uk", [BASH, XROOTD_OLD], 0)
        real, renamed = store.sites.resolve_site, []

        def resolve_site(cursor, sent, received, accept):
            answer = real(cursor, sent, received, accept)
            if not renamed:
                renamed.append(officer.sites.move("UKI-LT2-LANCS", "UKI-NEW", "rename",
                                                  T0 + DAY, "officer"))
            return answer
        store.sites.resolve_site = resolve_site
        result = put(store, "UKI-LT2-LANCS", host, [BASH, XROOTD_NEW], 1)
        assert len(renamed) == 1
        assert result.outcome == "changed"
        assert "now UKI-NEW" in site_notice(result.site)
        assert sorted((h.site, h.name) for h in store.hosts.listed()) == sorted(
            {("UKI-NEW", "wn1.lancs.ac.uk"), ("UKI-NEW", host)})
        assert "UKI-LT2-LANCS" not in {row.site for row in store.sites.reported()}
    finally:
        store.close()
        officer.close()


def test_a_rename_committed_just_before_a_new_host_is_made_moves_its_report(mysql_url):
    """A host's first report read no alias, and the rename commits after
    that but before the report makes its host (here: while its new-host
    quotas are checked). The report finds the alias once its host is made,
    and is stored again under the new name: no host is left under a name
    that is now an alias, where its intervals would stay open for ever."""
    store, officer = open_store(mysql_url), open_store(mysql_url)
    try:
        store.schema.init()
        put(store, "UKI-LT2-LANCS", "wn1.lancs.ac.uk", [BASH, XROOTD_OLD], 0)
        real, renamed = store.quotas.check_new_host, []

        def check_new_host(*args, **kwargs):
            if not renamed:
                renamed.append(officer.sites.move("UKI-LT2-LANCS", "UKI-NEW", "rename",
                                                  T0 + DAY, "officer"))
            return real(*args, **kwargs)
        store.quotas.check_new_host = check_new_host
        result = put(store, "UKI-LT2-LANCS", "wn2.lancs.ac.uk", [BASH], 1)
        assert len(renamed) == 1 and result.outcome == "changed"
        assert sorted((h.site, h.name) for h in store.hosts.listed()) == [
            ("UKI-NEW", "wn1.lancs.ac.uk"), ("UKI-NEW", "wn2.lancs.ac.uk")]
        assert "now UKI-NEW" in site_notice(result.site)
    finally:
        store.close()
        officer.close()


def test_a_rollback_holds_its_host_renamed_since_it_was_looked_up(mysql_url):
    """The officer looked the host up, then its site was renamed, then the
    rollback ran: it locks the host's row by id, not by the name it was
    looked up under (which finds no row now, and would leave the rollback
    rewriting the host's intervals while a report of it is stored). Here
    another writer holds the host's row: the rollback waits for it before
    touching any interval (the writer can still lock them all at once),
    then rolls back."""
    store, officer, writer = open_store(mysql_url), open_store(mysql_url), open_store(mysql_url)
    try:
        store.schema.init()
        for day, xrootd in enumerate((XROOTD_OLD, XROOTD_NEW)):
            put(store, "UKI-LT2-LANCS", "wn1.lancs.ac.uk", [BASH, xrootd], day)
        host = officer.hosts.find("wn1.lancs.ac.uk")
        store.sites.move("UKI-LT2-LANCS", "UKI-NEW", "rename", T0 + 2 * DAY, "officer")
        locked, release, intervals_free, done = (threading.Event(), threading.Event(), [], [])

        def hold(cursor):
            cursor.execute("SELECT id FROM hosts WHERE id = %s FOR UPDATE", (host.id,))
            locked.set()
            release.wait(10)
            time.sleep(0.5)  # (the rollback has had its time to go past the lock, or not)
            cursor.execute("SELECT package_id FROM installs WHERE host_id = %s FOR UPDATE "
                           "NOWAIT", (host.id,))
            intervals_free.append(len(cursor.fetchall()))
        holder = threading.Thread(target=writer.db.transaction, args=(hold,))
        holder.start()
        assert locked.wait(10)
        rollback = threading.Thread(target=lambda: done.append(
            officer.review.rollback(host, T0 + 60)))
        rollback.start()
        release.set()
        holder.join(15)
        rollback.join(15)
        assert intervals_free == [3]  # two open, the old xrootd's closed one
        assert done and done[0].intervals_removed == 1 and done[0].intervals_reopened == 1
        assert [p[:2] for p in store.hosts.state(host.id)] == [
            (p[0], p[1]) for p in sorted([BASH, XROOTD_OLD])]
    finally:
        release.set()
        for opened in (store, officer, writer):
            opened.close()

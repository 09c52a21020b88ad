"""Site readers: a person who may read some sites only, named in the
site_readers file or given a GOCDB role at a site, on a fleet of several
sites (SQLite and MariaDB). Every page a reader can reach, and every
page's JSON, shows nothing of another site, and its numbers are those of
the same question asked of the command with --site; another site's page
is as unknown as a site that does not exist, in HTML and in JSON; the team
still reads everything; a renamed or merged site is
followed without a restart; a bad file stops the collector at start-up;
`wlcg-collector readers` says who reads what."""

import json
import os
import time
import urllib.parse

import pytest

from helpers import make_report, run_cli, write_config, wsgi_call
from test_officer import BASE9, BASELINE, DAY, K_NEW, K_OLD, T0, X_NEW, X_OLD, date
from test_officer import store_advisory, store_fleet
from test_pages import DN_2253, crawl, get, table_rows
from wlcg_collector import create_app
from wlcg_collector.campaigns import REQUIREMENT
from wlcg_collector.config import ConfigError
from wlcg_collector.db import open_store
from wlcg_collector.report import parse_report
from wlcg_collector.trust import Rules

ADVISORY = "ALSA-2026:0001"
# the site read, and everything of the others that must never show to its reader
READ = "T2_E"
ELSEWHERE = ["T2_A", "T2_B", "T2_C", "T2_D", "T2_F", "T2_TYPO", "T2_HELD", "a1.example",
             "a2.example", "b1.example", "b2.example", "c-el7.example", "c-deb.example",
             "d1.example", "typo1.example", "held1.example", "csirt@d.example", "Bob Bravo",
             "bravo.example"]
TEAM = {"SSL_CLIENT_S_DN": DN_2253, "SSL_CLIENT_VERIFY": "SUCCESS"}
FILE_USER = {"REMOTE_USER": "erin"}                    # the file: T2_E erin
# the file names Fay in the legacy form; her certificate arrives in RFC 2253
FAY_LEGACY = "/DC=org/DC=example/OU=Echo/CN=Fay File"
FAY = {"SSL_CLIENT_S_DN": "CN=Fay File,OU=Echo,DC=example,DC=org", "SSL_CLIENT_VERIFY": "SUCCESS"}
# GOCDB: Eve administers T2_E, Bob T2_B, Omar manages T2_E's operations
EVE_LEGACY = "/DC=org/DC=example/OU=Echo/CN=Eve Admin"
EVE = {"SSL_CLIENT_S_DN": "CN=Eve Admin,OU=Echo,DC=example,DC=org", "SSL_CLIENT_VERIFY": "SUCCESS"}
BOB = {"SSL_CLIENT_S_DN": "/DC=org/DC=example/OU=Bravo/CN=Bob Bravo",
       "SSL_CLIENT_VERIFY": "SUCCESS"}
OMAR = {"SSL_CLIENT_S_DN": "/DC=org/DC=example/OU=Echo/CN=Omar Ops",
        "SSL_CLIENT_VERIFY": "SUCCESS"}
READERS_FILE = """\
# who reads which site (SITE IDENTITY)
T2_E   erin
T2_E   %s   # Fay, legacy form
T2_A   jdoe          # on the team too: the team
""" % FAY_LEGACY
ROLES = "Site Administrator, Site Security Officer"


def contact(forename, surname, email, certdn, role):
    return ("<CONTACT><FORENAME>%s</FORENAME><SURNAME>%s</SURNAME><TITLE/><EMAIL>%s</EMAIL>"
            "<TEL/><CERTDN>%s</CERTDN><ROLE_NAME>%s</ROLE_NAME></CONTACT>"
            % (forename, surname, email, certdn, role))


def contacts_answer(sites):
    """GOCDB's get_site_contacts answer of {site: [CONTACT]}."""
    return ("<?xml version='1.0' encoding='UTF-8'?>\n<results>%s</results>\n" % "".join(
        '<SITE ID="1" NAME="%s"><SHORT_NAME>%s</SHORT_NAME>%s</SITE>'
        % (name, name, "".join(people)) for name, people in sites.items())).encode()


def put(store, site, host, packages, day, rules=None):
    return store.writer.store_report(parse_report(make_report(
        site, host, packages, ts=T0 + day * DAY + 3600)), T0 + day * DAY + 3700, "192.0.2.1",
        rules=rules or Rules())


def officer_config(directory, database_url, keys, readers=READERS_FILE, roles=ROLES):
    """A collector config with the team (Jane's DN, jdoe), the readers file
    (None: no file) and the GOCDB roles that read."""
    config = directory / "collector.conf"
    write_config(config, database_url, [keys])
    lines = ["[officer]", "allow = %s" % DN_2253, "    jdoe", "stale_days = 2"]
    if readers is not None:
        path = directory / "site-readers"
        path.write_text(readers, encoding="utf-8")
        lines.append("site_readers = %s" % path)
    if roles:
        lines.append("site_reader_roles = %s" % roles)
    with open(str(config), "a") as handle:
        handle.write("\n".join(lines) + "\n")
    return str(config)


def store_world(store, database_url, directory):
    """The test_officer fleet (T2_A to T2_D), and T2_E: e1 exposed and
    behind, reporting daily; e2 fixed on day 1, silent since. On the list:
    T2_A to T2_F (T2_F never reported); T2_TYPO reported anyway, T2_HELD's
    report is held. A baseline, the advisory, a campaign with notices to
    T2_D and T2_E, a closed one (its final status of every site kept),
    exceptions at T2_A, of e2, of b1; GOCDB contacts."""
    listed = directory / "sites.list"
    listed.write_text("\n".join("T2_%s" % c for c in "ABCDEF") + "\n")
    assert run_cli(["--db", database_url, "sites", "import", str(listed)])[0] == 0
    store_fleet(store)
    for day in range(5):
        put(store, READ, "e1.example.org", BASE9 + [K_OLD, X_OLD], day)
    put(store, READ, "e2.example.org", BASE9 + [K_NEW, X_OLD], 0)
    put(store, READ, "e2.example.org", BASE9 + [K_NEW, X_NEW], 1)
    put(store, "T2_TYPO", "typo1.example.org", BASE9 + [X_OLD], 3)
    assert put(store, "T2_HELD", "held1.example.org", BASE9, 3,
               Rules(unknown_sites="quarantine")).outcome == "quarantined"
    store.baselines.add("osg", BASELINE, T0)
    store_advisory(store)
    campaign = store.campaigns.add("xrootd", "advisory", ADVISORY, None, T0 + 7200,
                                   T0 + 2 * DAY, T0, "officer")
    for site in ("T2_D", READ):
        store.campaigns.record_notice(campaign, site, "notice", T0 + DAY,
                                      ["csirt@%s.example.org" % site[-1].lower()],
                                      "<n-%s@example.org>" % site, "officer")
    # (its deadline before xrootd's: listed after it)
    store.campaigns.add("kernel", REQUIREMENT, "kernel >= 5.14.0-500", None, T0, T0 + DAY,
                        T0, "officer")
    assert run_cli(["--db", database_url, "campaign", "close", "kernel", "--by",
                    "officer"])[0] == 0
    # (added once a1 and e2 were fixed: the counts stay the advisory's)
    store.exceptions.add(ADVISORY, None, None, None, "T2_A", "a1.example.org",
                         "a1 reinstalled", T0 + 3 * DAY, "officer")
    store.exceptions.add(ADVISORY, None, None, None, None, "e2.example.org",
                         "e2 is a test box", T0 + 3 * DAY, "officer")
    store.exceptions.add(ADVISORY, None, None, None, None, "b1.example.org",
                         "b1 is a test box", T0 + 3 * DAY, "officer")
    answer = directory / "contacts.xml"
    answer.write_bytes(contacts_answer({
        READ: [contact("Eve", "Admin", "eve@echo.example.org", EVE_LEGACY, "Site Administrator"),
               contact("Omar", "Ops", "omar@echo.example.org", OMAR["SSL_CLIENT_S_DN"],
                       "Site Operations Manager")],
        "T2_B": [contact("Bob", "Bravo", "bob@bravo.example.org", BOB["SSL_CLIENT_S_DN"],
                         "Site Administrator")]}))
    assert run_cli(["--db", database_url, "sites", "contacts", "import", str(answer)])[0] == 0


@pytest.fixture(scope="module")
def world(tmp_path_factory, module_database_url, collector_keys):
    """(the application, its config, the database URL) over the world:
    built once a module and back end, since the pages only read."""
    directory = tmp_path_factory.mktemp("readers")
    store = open_store(module_database_url)
    store.schema.init()
    store_world(store, module_database_url, directory)
    store.close()
    config = officer_config(directory, module_database_url, collector_keys)
    return create_app(config), config, module_database_url


def cli(world, *args):
    code, out, err = run_cli(["--config", world[1]] + list(args))
    assert (code, err) == (0, ""), err
    return out


def cli_json(world, *args):
    return json.loads(cli(world, *(list(args) + ["--format", "json"])))


# ---------------------------------------------------------------- nothing of another site

def reader_crawl(app, environ, starts):
    """Every page a reader reaches from `starts` by links and forms, and
    each page's JSON (format=json, and an Accept header), each body and
    the JSON's headers checked for the other sites' names: {url: status}."""
    bodies = {}

    def fetch(url):
        path, _, query = url.partition("?")
        # as a server hands it over: decoded, its bytes as Latin-1
        path = urllib.parse.unquote_to_bytes(path).decode("latin-1")
        status, headers, body, _ = wsgi_call(app, method="GET", path=path, query=query,
                                             content_length=False, environ_extra=environ)
        text = body.decode("utf-8")
        bodies[url] = text
        return status, headers.get("Content-Type", ""), text
    pages = crawl(fetch, starts)
    statuses = {url: status for url, (status, _) in pages.items()}
    for url in list(pages):
        path, _, query = url.partition("?")
        if "/static/" in path or "format=" in query:
            continue
        for asked, accept in (("format=json&per_page=1000", {}),
                              ("", {"HTTP_ACCEPT": "application/json"})):
            query_asked = "&".join(part for part in (query, asked) if part)
            status, headers, body, _ = wsgi_call(
                app, method="GET", path=urllib.parse.unquote_to_bytes(path).decode("latin-1"),
                query=query_asked, content_length=False, environ_extra=dict(environ, **accept))
            assert headers["Content-Type"] == "application/json; charset=utf-8", url
            json.loads(body)
            key = "%s?%s%s" % (path, query_asked, " (Accept)" if accept else "")
            statuses[key] = status
            bodies[key] = body.decode("ascii") + "".join(
                "\n%s: %s" % pair for pair in headers.items())
    for url, text in bodies.items():
        found = [name for name in ELSEWHERE if name.lower() in text.lower()]
        assert found == [], (url, found)
    return statuses


@pytest.mark.parametrize("who", [FILE_USER, FAY, EVE], ids=["file-user", "file-dn", "gocdb"])
def test_every_page_a_reader_reaches_shows_only_its_site(world, who):
    app = world[0]
    starts = ["/officer/", "/officer/advisory/ALSA-2026%3A0001", "/officer/campaign/xrootd",
              "/officer/adoption?requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s"
              % (date(0), date(4)), "/officer/baseline/osg?at=%s" % date(2),
              "/officer/baseline/osg?format=csv", "/officer/baseline/osg?format=json",
              "/officer/?baseline=osg&sort=compliance", "/officer/site/%s?baseline=osg" % READ,
              # the search box: every host's name holds "example", every host holds bash
              "/officer/search?q=example", "/officer/search?q=bash&per_page=1",
              "/officer/search?q=2"]
    pages = reader_crawl(app, who, starts)
    # (the adoption page's JSON with no requirement: 400, as the team's)
    refused = {url: status for url, status in pages.items() if status != 200}
    assert set(refused.values()) == {400} and all(
        url.startswith("/officer/adoption?") and "requirement=x" not in url
        for url in refused), refused
    kinds = {url.split("?")[0].split("/")[2] for url in pages}
    assert kinds == {"", "site", "host", "baseline", "adoption", "advisories", "advisory",
                     "campaigns", "campaign", "static", "search"}
    assert not any("quarantine" in url for url in pages)  # no link to it either
    answered = [url for url in pages if "format=json&per_page=1000" in url]
    assert {url.split("?")[0].split("/")[2] for url in answered} == kinds - {"static"}
    assert "/officer/campaign/kernel?format=json&per_page=1000" in answered
    status, _, body = get(app, "/officer/", **who)
    assert table_rows(body, "sites")[0][0] == READ and len(table_rows(body, "sites")) == 1
    assert 'id="scope">your sites: T2_E<' in body
    assert "Unknown sites" not in body and "without-reports" not in body


def test_what_the_team_sees_is_what_a_reader_does_not(world):
    """The same pages for the team name the other sites: what the reader
    did not see was there to see; jdoe, on the team and a reader of T2_A
    in the file, is the team."""
    app = world[0]
    for who in (TEAM, {"REMOTE_USER": "jdoe"}):
        status, _, body = get(app, "/officer/", **who)
        assert status == 200 and "your sites" not in body
        assert [row[0].split()[0] for row in table_rows(body, "sites")] == [
            "T2_A", "T2_B", "T2_C", "T2_D", READ]
        assert "T2_TYPO" in body and "T2_HELD" in body and "T2_F" in body
        assert "held1.example.org" in get(app, "/officer/quarantine", **who)[2]
    _, _, body = get(app, "/officer/advisory/ALSA-2026%3A0001", **TEAM)
    assert "d1.example.org" in body and "a1 reinstalled" in body and "b1 is a test box" in body
    _, _, body = get(app, "/officer/campaign/xrootd", **TEAM)
    assert {row[0] for row in table_rows(body, "sites")} == {READ, "T2_TYPO", "T2_D", "T2_A"}
    assert "csirt@d.example.org" in body
    _, _, body = get(app, "/officer/advisory/ALSA-2026%3A0001", **FILE_USER)
    assert "e2 is a test box" in body  # an exception of one of its own hosts
    # and the JSON: every site's for the team, the reader's site's for the reader
    for path, query in (("/officer/", "baseline=osg"), ("/officer/advisories", ""),
                        ("/officer/advisory/ALSA-2026:0001", ""),
                        ("/officer/campaign/xrootd", ""), ("/officer/campaign/kernel", "")):
        seen = {}
        for name, who in (("team", TEAM), ("reader", FILE_USER)):
            status, _, body = get(app, path, "format=json&per_page=1000&" + query, **who)
            assert status == 200, body
            seen[name] = {row["site"] for part in json.loads(body).values()
                          if isinstance(part, list) for row in part if "site" in row}
        assert len(seen["team"]) > 1 and seen["reader"] == {READ}, path
    for who, parts in ((TEAM, {"sites", "unknown", "stale"}), (FILE_USER, {"sites", "stale"})):
        status, _, body = get(app, "/officer/", "format=json", **who)
        assert status == 200 and set(json.loads(body)) == parts
    status, _, body = get(app, "/officer/", "format=json", **TEAM)
    assert {row["site"] for row in json.loads(body)["unknown"]} >= {"T2_TYPO", "T2_HELD"}
    status, _, body = get(app, "/officer/quarantine", "format=json", **TEAM)
    assert [row["host"] for row in json.loads(body)] == ["held1.example.org"]
    status, _, body = get(app, "/officer/campaign/xrootd", "format=json", **TEAM)
    assert [row["site"] for row in json.loads(body)["notices"]] == ["T2_D", READ]


# ---------------------------------------------------------------- 404 as for nothing

@pytest.mark.parametrize("path,query", [
    ("/officer/site/%s", ""), ("/officer/site/%s", "baseline=osg"),
    ("/officer/host/%s/a1.example.org", ""), ("/officer/host/%s/e1.example.org", ""),
    ("/officer/baseline/osg", "site=%s"), ("/officer/baseline/osg", "site=%s&format=json"),
    ("/officer/adoption", "requirement=xrootd+>%%3D+1&site=%s"),
    ("/officer/site/%s", "format=json"), ("/officer/site/%s", "baseline=osg&format=json"),
    ("/officer/host/%s/a1.example.org", "format=json"),
    ("/officer/host/%s/e1.example.org", "format=json"),
    ("/officer/adoption", "requirement=xrootd+>%%3D+1&site=%s&format=json"),
])
def test_another_site_is_as_unknown_as_no_site(world, path, query):
    """A reader guessing names learns nothing: another site's page, and a
    question about it, answer as a site nobody reported under does."""
    app = world[0]

    def answer(site):
        status, _, body = get(app, path % site if "%s" in path else path,
                              query % site if "%s" in query else query, **FILE_USER)
        return status, body.replace(site, "SITE")
    for other in ("T2_A", "t2_a", "T2_D", "T2_TYPO", "T2_F"):
        assert answer(other) == answer("T2_NOWHERE") and answer(other)[0] == 404, other
    if "format=json" in query:
        assert json.loads(answer("T2_A")[1]) == {"error": "unknown site 'SITE'"}
    assert get(app, "/officer/site/T2_A", **TEAM)[0] == 200


def test_the_closest_names_are_the_teams_only(world):
    """A name that names nothing: the team is told the closest names, as
    the command line tells it; a reader only that it is unknown (names cut
    to its own sites would tell which others exist)."""
    app = world[0]
    import html
    for query in ("", "format=json"):
        status, _, body = get(app, "/officer/site/T2_EE", query, **TEAM)
        body = html.unescape(body)
        assert status == 404 and "unknown site 'T2_EE': did you mean T2_E" in body, body
        status, _, body = get(app, "/officer/site/T2_EE", query, **FILE_USER)
        body = html.unescape(body)
        assert status == 404 and "unknown site 'T2_EE'" in body and "did you mean" not in body


def test_a_readers_own_site_in_any_case_but_not_another_sites_host(world):
    app = world[0]
    assert get(app, "/officer/site/t2_e", **FILE_USER)[0] == 200
    status, _, body = get(app, "/officer/host/T2_E/a1.example.org", **FILE_USER)
    assert status == 404 and "unknown host &#39;a1.example.org&#39; at site &#39;T2_E&#39;" in body
    assert get(app, "/officer/host/T2_E/nowhere.example.org", **FILE_USER)[2].replace(
        "nowhere", "a1") == body


def test_no_quarantine_for_a_reader(world):
    app = world[0]
    nothing = get(app, "/officer/nope", **FILE_USER)
    for query in ("", "site=T2_E", "site=T2_HELD"):
        assert get(app, "/officer/quarantine", query, **FILE_USER) == nothing
    assert nothing[0] == 404
    nothing = get(app, "/officer/nope", "format=json", **FILE_USER)
    for query in ("format=json", "format=json&site=T2_E", "format=json&site=T2_HELD"):
        assert get(app, "/officer/quarantine", query, **FILE_USER) == nothing
    assert get(app, "/officer/quarantine", HTTP_ACCEPT="application/json",
               **FILE_USER) == nothing
    assert nothing[0] == 404 and json.loads(nothing[2]) == {"error": "no such page"}


@pytest.mark.parametrize("environ", [
    OMAR,                                               # a GOCDB role that reads nothing
    {"REMOTE_USER": EVE_LEGACY},                        # a user name is never a DN
    dict(EVE, SSL_CLIENT_VERIFY="FAILED:expired"),      # a certificate not verified
    {"SSL_CLIENT_S_DN": FAY_LEGACY},
    {"REMOTE_USER": "Erin"}, {"REMOTE_USER": "T2_E"},
])
def test_who_reads_nothing(world, environ):
    status, _, body = get(world[0], "/officer/site/T2_E", **environ)
    assert status == 403 and "T2_E" not in body


def test_a_gocdb_role_reads_its_site_only_when_configured(world, tmp_path, collector_keys):
    _, _, body = get(world[0], "/officer/", **BOB)
    assert [row[0] for row in table_rows(body, "sites")] == ["T2_B"]
    app = create_app(officer_config(tmp_path, world[2], collector_keys, roles=None))
    assert get(app, "/officer/", **EVE)[0] == 403
    assert get(app, "/officer/", **FILE_USER)[0] == 200


# ---------------------------------------------------------------- the numbers of --site

def compare_line(world):
    """(hosts, behind, compliant) of compare osg --site T2_E."""
    for line in cli(world, "compare", "osg", "--site", READ).splitlines():
        if line.split()[:1] == [READ]:
            hosts, _, behind, compliant = line.split()[1:5]  # (applicable: every host)
            return [hosts, behind, compliant]
    raise AssertionError("no summary line")


def test_the_overview_and_site_pages_count_as_the_commands(world):
    app = world[0]
    _, _, body = get(app, "/officer/", "baseline=osg", **FILE_USER)
    (row,) = table_rows(body, "sites")
    hosts = cli_json(world, "hosts", "--site", READ)
    silent = cli_json(world, "hosts", "--site", READ, "--stale", "2")
    assert [row[0], row[3], row[5]] == [READ, str(len(hosts)), str(len(silent))] == \
        [READ, "2", "1"]
    assert [row[3], row[7], row[6]] == compare_line(world) == ["2", "1", "50.0%"]
    rows = cli_json(world, "compare", "osg", "--site", READ)
    behind = {host["host"]: sum(1 for r in rows if r["host"] == host["host"]
                                and r["status"] == "behind") for host in hosts}
    _, _, body = get(app, "/officer/site/%s" % READ, "baseline=osg", **FILE_USER)
    shown = table_rows(body, "hosts")
    assert [(r[0], r[5]) for r in shown] == [(h["host"], str(h["packages"])) for h in hosts]
    assert {r[0]: r[6].split(":")[0] for r in shown} == {
        name: "%d behind" % count if count else "ok" for name, count in behind.items()}
    _, _, body = get(app, "/officer/host/%s/e1.example.org" % READ, **FILE_USER)
    state = cli_json(world, "state", "e1.example.org", "--site", READ)
    assert table_rows(body, "packages") == [[p["name"], p["version"], p["arch"]] for p in state]


def test_the_baseline_and_adoption_pages_count_as_the_commands(world):
    app = world[0]
    for query, args in (("", []), ("at=%s" % date(0), ["--at", date(0)])):
        status, _, body = get(app, "/officer/baseline/osg", "format=json&" + query, **FILE_USER)
        assert json.loads(body) == cli_json(world, "compare", "osg", "--site", READ, *args)
    _, _, body = get(app, "/officer/baseline/osg", **FILE_USER)
    assert [[row[1], row[3], row[4]] for row in table_rows(body, "summary")] == \
        [compare_line(world)]
    requirement = "xrootd >= 1:5.7.1"
    _, _, body = get(app, "/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s"
                     % (date(0), date(4)), **FILE_USER)
    days = cli_json(world, "adoption", requirement, "--site", READ, "--from", date(0),
                    "--to", date(4))
    assert table_rows(body, "adoption") == [
        [d["date"], str(d["hosts_ok"]), str(d["hosts_behind"]), str(d["sites_ok"]),
         str(d["sites_behind"])] for d in days]
    top = max(max(d["hosts_ok"], d["hosts_behind"]) for d in days)
    assert chart_ticks(body) == [str(t) for t in sorted({0, top // 2, top})]
    assert [d["hosts_ok"] for d in days] == [0, 1, 1, 1, 1]


def chart_ticks(body):
    """The labels of a page's chart's y axis, lowest first."""
    svg = body.split('<svg id="chart"')[1].split("</svg>")[0]
    return [part.split("</text>")[0].rsplit(">", 1)[1]
            for part in svg.split('text-anchor="end"')[1:]]


def test_the_advisory_pages_count_as_the_commands(world):
    app = world[0]
    rows = cli_json(world, "vulnerable", "--site", READ)
    exposed = [r for r in rows if r["advisory"] == ADVISORY and r["excepted_by"] is None]
    _, _, body = get(app, "/officer/advisories", **FILE_USER)
    (row,) = table_rows(body, "advisories")
    assert row[0] == ADVISORY and row[4:7] == [
        str(len({r["host"] for r in exposed})), str(len({r["site"] for r in exposed})),
        str(len({r["host"] for r in rows if r["excepted_by"]}))] == ["1", "1", "0"]
    summary = cli_json(world, "vulnerable", "--site", READ, "--summary")
    assert table_rows(body, "sites") == [[str(row[c]) for c in (
        "site", "hosts", "exposed", "advisories", "cves", "critical", "important", "moderate",
        "low", "other")] for row in summary] and summary[0]["cves"] == 1
    _, _, team = get(app, "/officer/advisories", **TEAM)
    assert table_rows(team, "advisories")[0][4:6] == ["3", "3"]  # d1, e1, typo1
    assert len(table_rows(team, "sites")) == 3
    # the advisory's CVE: a 303 to it, whoever asks
    status, headers, _ = get(app, "/officer/advisory/cve-2026-0001", **FILE_USER)
    assert (status, headers["Location"]) == (303, "/officer/advisory/ALSA-2026%3A0001")
    hosts = cli_json(world, "exposure", ADVISORY, "--site", READ)
    _, _, body = get(app, "/officer/advisory/ALSA-2026%3A0001", **FILE_USER)
    now = [h for h in hosts if h["fixed_at"] is None]
    assert '<p id="counts">%d host(s) exposed now, %d ever.' % (len(now), len(hosts)) in body
    assert [r[1] for r in table_rows(body, "exposed")] == [h["host"] for h in now]
    assert [r[:3] for r in table_rows(body, "sites")] == [[READ, "2", "1"]]
    curve = cli_json(world, "exposure", ADVISORY, "--site", READ, "--curve")
    top = max(max(day["hosts"], day["sites"]) for day in curve)
    assert chart_ticks(body) == [str(t) for t in sorted({0, top // 2, top})]
    _, _, team = get(app, "/officer/advisory/ALSA-2026%3A0001", **TEAM)
    assert '<p id="counts">3 host(s) exposed now, 6 ever.' in team


def test_the_campaign_pages_count_as_the_commands(world):
    app = world[0]
    status = cli_json(world, "campaign", "status", "xrootd", "--site", READ)
    _, _, body = get(app, "/officer/campaigns", **FILE_USER)
    row = table_rows(body, "campaigns")[0]
    assert row[0] == "xrootd"
    states = [site["state"] for site in status]
    assert row[4:8] == [str(states.count(s)) for s in ("overdue", "open", "unknown", "done")] \
        == ["1", "0", "0", "0"]
    _, _, body = get(app, "/officer/campaign/xrootd", **FILE_USER)
    assert table_rows(body, "sites") == [
        [s["site"], s["state"], str(s["affected"]), str(s["fixed"]), str(s["exposed"]),
         str(s["excepted"]), str(s["silent"]), str(s["overdue_days"] or "")] for s in status]
    assert [r[1] for r in table_rows(body, "exposed")] == [
        h["host"] for s in status for h in s["hosts"]]
    assert [r[1] for r in table_rows(body, "notices")] == [READ]
    burndown = cli_json(world, "campaign", "status", "xrootd", "--site", READ, "--burndown")
    top = max(max(day["hosts"], day["sites"]) for day in burndown)
    assert chart_ticks(body) == [str(t) for t in sorted({0, top // 2, top})]
    _, _, team = get(app, "/officer/campaigns", **TEAM)
    assert table_rows(team, "campaigns")[0][4:8] == ["2", "0", "1", "1"]


# ---------------------------------------------------------------- the JSON of --site

@pytest.fixture
def frozen(monkeypatch):
    """One clock for the page and the command: what is worked out up to
    now (silence, days exposed, a campaign's days) is the same."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)


def json_of(app, path, query, who):
    """(the JSON a page answers `who`, its headers)."""
    status, headers, body = get(app, path, "format=json&per_page=1000" + (
        "&" + query if query else ""), **who)
    assert status == 200, body
    return json.loads(body), headers


def ours(rows):
    """The rows of the read site of a command's JSON (one without --site)."""
    return [row for row in rows if row["site"] == READ]


SECURITY = "critical,important,moderate,low,unknown"  # the pages' default severities
ADOPTION = ["adoption", "xrootd >= 1:5.7.1", "--from", date(0), "--to", date(4)]
# (page, query, each part's command: its arguments with --site, or
# ("ours", arguments): the read site's rows of a command that has no
# --site, or ("all", arguments): what is no site's, as the team's)
READER_JSON = [
    ("/officer/", "", {"sites": ("ours", ["sites"]), "stale": ("ours", ["stale", "--days", "2"])}),
    ("/officer/", "baseline=osg&stale=0.5",
     {"sites": ("ours", ["sites"]), "stale": ("ours", ["stale", "--days", "0.5"]),
      "compliance": ["compare", "osg", "--summary", "--site", READ]}),
    ("/officer/site/t2_e", "baseline=osg",
     {"hosts": ["hosts", "--site", "t2_e"], "compliance": ["compare", "osg", "--site", "t2_e"]}),
    ("/officer/host/T2_E/e1.example.org", "at=" + date(1),
     {"state": ["state", "e1.example.org", "--site", READ, "--at", date(1)],
      "history": ["history", "e1.example.org", "--site", READ]}),
    ("/officer/baseline/osg", "", ["compare", "osg", "--site", READ]),
    ("/officer/baseline/osg", "site=T2_E&at=" + date(2),
     ["compare", "osg", "--site", READ, "--at", date(2)]),
    ("/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s" % (date(0), date(4)),
     ADOPTION + ["--site", READ]),
    ("/officer/advisories", "",
     {"advisories": ("all", ["advisories", "list", "--severity", SECURITY]),
      "vulnerable": ["vulnerable", "--site", READ],
      "sites": ["vulnerable", "--site", READ, "--summary"],
      "hosts": ["vulnerable", "--site", READ, "--hosts"]}),
    ("/officer/advisories", "severity=important",
     {"advisories": ("all", ["advisories", "list", "--severity", "important,important"]),
      "vulnerable": ["vulnerable", "--site", READ, "--severity", "important,important"],
      "sites": ["vulnerable", "--site", READ, "--severity", "important,important",
                "--summary"],
      "hosts": ["vulnerable", "--site", READ, "--severity", "important,important",
                "--hosts"]}),
    ("/officer/advisory/ALSA-2026:0001", "",
     {"advisory": ("all", ["advisories", "show", ADVISORY]),
      "exposure": ["exposure", ADVISORY, "--site", READ],
      "curve": ["exposure", ADVISORY, "--site", READ, "--curve"]}),
    ("/officer/campaign/xrootd", "",
     {"status": ["campaign", "status", "xrootd", "--site", READ],
      "burndown": ["campaign", "status", "xrootd", "--site", READ, "--burndown"],
      "notices": ("ours", ["campaign", "log", "xrootd"])}),
    ("/officer/campaign/kernel", "",  # closed: the status it kept of the site
     {"status": ["campaign", "status", "kernel", "--site", READ], "burndown": ("all", []),
      "notices": ("ours", ["campaign", "log", "kernel"])}),
]


def expected(world, args):
    if isinstance(args, tuple):
        kind, args = args
        if not args:
            return []
        return ours(cli_json(world, *args)) if kind == "ours" else cli_json(world, *args)
    return cli_json(world, *args)


@pytest.mark.parametrize("who", [FILE_USER, EVE], ids=["file-user", "gocdb"])
@pytest.mark.parametrize("path,query,commands", READER_JSON)
def test_a_readers_json_is_the_commands_with_site(world, frozen, who, path, query, commands):
    """Each JSON answer a reader gets is its command's --site answer (a
    command with no --site: its rows of the site), and the totals in the
    headers count those rows only."""
    answer, headers = json_of(world[0], path, query, who)
    if isinstance(commands, list):
        assert answer and answer == cli_json(world, *commands)
        assert headers["X-Total"] == str(len(answer))
        return
    assert answer == {part: expected(world, args) for part, args in commands.items()}
    assert any(isinstance(value, list) and value for value in answer.values())
    for part, value in answer.items():
        if isinstance(value, list):
            assert headers["X-Total-" + part.capitalize()] == str(len(value))


def test_a_readers_json_numbers_are_of_its_hosts(world, frozen):
    """What the team's JSON counts over the fleet, a reader's counts over
    its hosts: the overview's one line, no unknown sites, the campaigns'
    sites as `campaign status --site`, and in the headers its rows only."""
    app = world[0]
    mine, headers = json_of(app, "/officer/", "baseline=osg", FILE_USER)
    team, team_headers = json_of(app, "/officer/", "baseline=osg", TEAM)
    assert set(mine) == {"sites", "stale", "compliance"} and "unknown" in team
    assert [row["site"] for row in mine["sites"]] == [READ]
    assert [(row["hosts"], row["behind"], row["compliant"]) for row in mine["compliance"]] == [
        (2, 1, "50.0%")]
    assert headers["X-Total-Sites"] == "1" and headers["X-Total"] == "1"
    assert team_headers["X-Total-Sites"] == str(len(team["sites"])) != "1"
    assert len(team["stale"]) > len(mine["stale"]) == 1
    campaigns, headers = json_of(app, "/officer/campaigns", "", FILE_USER)
    listed = cli_json(world, "campaign", "list")
    assert [row["campaign"] for row in campaigns] == [row["campaign"] for row in listed] == [
        "xrootd", "kernel"]
    assert headers["X-Total"] == "2"
    for row, team_row in zip(campaigns, listed):
        states = [site["state"] for site in cli_json(world, "campaign", "status",
                                                      row["campaign"], "--site", READ)]
        counts = {state: states.count(state) for state in ("done", "open", "overdue",
                                                            "unknown")}
        assert row == dict(team_row, **counts)
        assert sum(counts.values()) == 1
    assert [(row["done"], row["open"], row["overdue"], row["unknown"])
            for row in listed] != [(row["done"], row["open"], row["overdue"], row["unknown"])
                                   for row in campaigns]
    vulnerable, headers = json_of(app, "/officer/advisories", "", FILE_USER)
    assert {row["site"] for row in vulnerable["vulnerable"]} == {READ}
    assert headers["X-Total-Vulnerable"] == str(len(vulnerable["vulnerable"]))
    exposure, _ = json_of(app, "/officer/advisory/ALSA-2026:0001", "", FILE_USER)
    assert sorted(row["host"] for row in exposure["exposure"]) == ["e1.example.org",
                                                                   "e2.example.org"]
    assert max(day["sites"] for day in exposure["curve"]) == 1


def test_a_reader_of_two_sites_counts_their_hosts_together(world, tmp_path, collector_keys):
    """A reader of T2_D and T2_E: both rows, and each curve is the sum of
    the two sites' own."""
    app = create_app(officer_config(tmp_path, world[2], collector_keys,
                                    readers="T2_E erin\nt2_d erin\n"))
    others = [name for name in ELSEWHERE if name not in ("T2_D", "d1.example", "csirt@d.example")]
    for url in ("/officer/", "/officer/advisory/ALSA-2026%3A0001", "/officer/campaign/xrootd"):
        status, _, body = get(app, url, **FILE_USER)
        assert status == 200 and [name for name in others if name in body] == [], url
    _, _, body = get(app, "/officer/", **FILE_USER)
    assert [row[0].split()[0] for row in table_rows(body, "sites")] == ["T2_D", READ]
    assert 'id="scope">your sites: t2_d, T2_E<' in body
    _, _, body = get(app, "/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s"
                     % (date(0), date(4)), **FILE_USER)
    days = [cli_json(world, "adoption", "xrootd >= 1:5.7.1", "--site", site, "--from", date(0),
                     "--to", date(4)) for site in ("T2_D", READ)]
    assert table_rows(body, "adoption") == [
        [d["date"]] + [str(d[k] + e[k]) for k in ("hosts_ok", "hosts_behind", "sites_ok",
                                                  "sites_behind")] for d, e in zip(*days)]
    _, _, body = get(app, "/officer/campaigns", **FILE_USER)
    assert table_rows(body, "campaigns")[0][4:8] == ["1", "0", "1", "0"]
    # and so does its JSON
    for url in ("/officer/", "/officer/advisories", "/officer/advisory/ALSA-2026:0001",
                "/officer/campaigns", "/officer/campaign/xrootd", "/officer/campaign/kernel"):
        status, headers, body = get(app, url, "format=json&per_page=1000&baseline=osg",
                                    **FILE_USER)
        text = body + "".join("\n%s: %s" % pair for pair in headers.items())
        assert status == 200 and [name for name in others if name in text] == [], url
    overview, _ = json_of(app, "/officer/", "baseline=osg", FILE_USER)
    assert [row["site"] for row in overview["sites"]] == ["T2_D", READ]
    assert [row["site"] for row in overview["stale"]] == ["T2_D", READ]
    assert [row["site"] for row in overview["compliance"]] == ["T2_D", READ]
    assert json_of(app, "/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s"
                   % (date(0), date(4)), FILE_USER)[0] == [
        dict(d, **{k: d[k] + e[k] for k in ("hosts_ok", "hosts_behind", "sites_ok",
                                            "sites_behind")}) for d, e in zip(*days)]
    campaigns, _ = json_of(app, "/officer/campaigns", "", FILE_USER)
    assert [campaigns[0][k] for k in ("overdue", "open", "unknown", "done")] == [1, 0, 1, 0]
    campaign, _ = json_of(app, "/officer/campaign/xrootd", "", FILE_USER)
    assert sorted(row["site"] for row in campaign["status"]) == ["T2_D", READ]
    assert [row["site"] for row in campaign["notices"]] == ["T2_D", READ]


# ---------------------------------------------------------------- renames and merges

def test_a_reader_follows_its_site_through_a_merge_and_a_rename(database_url, tmp_path,
                                                                collector_keys):
    """The file and GOCDB name T2_OLD; `sites merge` joins it to T2_E, and
    the same application (no restart) serves its readers T2_E; then `sites
    rename` makes T2_E T2_NEW."""
    store = open_store(database_url)
    store.schema.init()
    listed = tmp_path / "sites.list"
    listed.write_text("T2_OLD\nT2_E\nT2_B\n")
    assert run_cli(["--db", database_url, "sites", "import", str(listed)])[0] == 0
    put(store, "T2_OLD", "o1.example.org", BASE9, 0)
    put(store, READ, "e1.example.org", BASE9, 0)
    put(store, "T2_B", "b1.example.org", BASE9, 0)
    answer = tmp_path / "contacts.xml"
    answer.write_bytes(contacts_answer({"T2_OLD": [contact(
        "Eve", "Admin", "eve@echo.example.org", EVE_LEGACY, "Site Administrator")]}))
    assert run_cli(["--db", database_url, "sites", "contacts", "import", str(answer)])[0] == 0
    store.close()
    app = create_app(officer_config(tmp_path, database_url, collector_keys,
                                    readers="T2_OLD erin\n"))

    def sites_of(who):
        status, _, body = get(app, "/officer/", **who)
        assert status == 200
        return [row[0].split()[0] for row in table_rows(body, "sites")]
    for who in (FILE_USER, EVE):
        assert sites_of(who) == ["T2_OLD"]
    assert run_cli(["--db", database_url, "sites", "merge", "T2_OLD", READ])[0] == 0
    for who in (FILE_USER, EVE):
        assert sites_of(who) == [READ]
        assert get(app, "/officer/host/%s/o1.example.org" % READ, **who)[0] == 200
        assert get(app, "/officer/site/T2_OLD", **who)[0] == 404
    # (a listed site to a name not on the list yet: forced)
    assert run_cli(["--db", database_url, "sites", "rename", READ, "T2_NEW", "--force"])[0] == 0
    for who in (FILE_USER, EVE):
        assert sites_of(who) == ["T2_NEW"]
        assert get(app, "/officer/site/T2_NEW", **who)[0] == 200
        assert get(app, "/officer/site/T2_B", **who)[0] == 404
    # and the file naming the old name still starts a collector
    create_app(officer_config(tmp_path, database_url, collector_keys, readers="T2_OLD erin\n"))
    code, out, err = run_cli(["--config", str(tmp_path / "collector.conf"), "readers",
                              "--format", "json"])
    assert code == 0, err
    assert {(r["site"], r["source"], r["written"]) for r in json.loads(out)} >= {
        ("T2_NEW", "file", "T2_OLD"), ("T2_NEW", "gocdb", None)}


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("text,line,message", [
    ("T2_E\n", 1, "'T2_E' is not SITE IDENTITY"),
    ("# ok\nT2_E erin\n\nT2/E jdoe\n", 4, "'T2/E' is not a site name"),
    ("T2_E /DC=org/CN=a/b=c\n", 1, "cannot be read as a certificate DN"),
    ("T2_E CN=a+UID=b,DC=org\n", 1, "cannot be read as a certificate DN"),
    ("T2_E erin T2_B\n", 1, "is neither a DN nor a user name"),
    ("T2_E er\u202ein\n", 1, "holds a control or invisible character"),
    ("T2_E erin\nT2_NOPE erin\n", 2, "unknown site 'T2_NOPE'"),
    # a second entry after a character that ends a line for splitlines()
    # but not for an editor, cat or grep: one line, refused whole
    ("T2_E erin   # Erin\u2028T2_A erin\n", 1, "holds a control or invisible character"),
    ("T2_E erin   # Erin\x1eT2_A erin\n", 1, "holds a control or invisible character"),
    ("T2_E erin   # Erin\x0cT2_A erin\n", 1, "holds a control or invisible character"),
    ("T2_E erin   # Erin\x85T2_A erin\n", 1, "holds a control or invisible character"),
    ("# a comment\nT2_E erin # one space: not a comment\n", 2,
     "is neither a DN nor a user name"),
])
def test_a_bad_line_stops_the_collector_naming_file_and_line(database_url, tmp_path,
                                                              collector_keys, text, line,
                                                              message):
    config = officer_config(tmp_path, database_url, collector_keys, readers=text)
    store = open_store(database_url)
    store.schema.init()
    put(store, READ, "e1.example.org", BASE9, 0)
    store.close()
    with pytest.raises(ConfigError) as err:
        create_app(config)
    where = "%s line %d: " % (tmp_path / "site-readers", line)
    assert where in str(err.value) and message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)
    code, out, err = run_cli(["--config", config, "readers"])
    assert (code, out) == (2, "") and where in err and err.count("\n") == 1


def test_a_readers_file_reads_tabs_crlf_and_a_dn_holding_a_hash():
    """A tab separates as spaces do, a CRLF ends a line, and a DN's value
    may hold " #": a comment after an entry is set off by two spaces."""
    from wlcg_collector.readers import parse_site_readers
    text = ("T2_E\terin\r\n"
            "T2_E /DC=org/DC=example/CN=Robot #2\n"
            "T2_E CN=Robot #3,DC=example,DC=org  # the third robot\n"
            "  # an indented comment\n")
    assert [(e.site, e.identity, e.line) for e in parse_site_readers(text, "f")] == [
        ("T2_E", "erin", 1), ("T2_E", "/DC=org/DC=example/CN=Robot #2", 2),
        ("T2_E", "CN=Robot #3,DC=example,DC=org", 3)]


def test_a_long_search_text_is_one_line_400(world):
    """The search box takes no more than the longest name it could find:
    a longer text (a LIKE pattern SQLite refuses past 50,000 bytes) is a
    400, in JSON when asked."""
    from wlcg_collector.limits import MAX_SEARCH
    app = world[0]
    for who in (TEAM, FILE_USER):
        status, _, body = get(app, "/officer/search", "q=" + "%25" * (MAX_SEARCH + 1), **who)
        assert status == 400 and "q: %d characters at most" % MAX_SEARCH in body
        status, _, body = get(app, "/officer/search", "format=json&q=" + "a" * 50000, **who)
        assert (status, json.loads(body)) == (400, {"error": "q: %d characters at most"
                                                   % MAX_SEARCH})
        assert get(app, "/officer/search", "q=" + "a" * MAX_SEARCH, **who)[0] == 200


def test_a_readers_file_others_may_write_or_nobody_can_read_is_refused(tmp_path,
                                                                       collector_keys):
    database_url = "sqlite:///%s" % (tmp_path / "c.db")
    config = officer_config(tmp_path, database_url, collector_keys)
    path = str(tmp_path / "site-readers")
    os.chmod(path, 0o666)
    with pytest.raises(ConfigError) as err:
        create_app(config)
    assert "%s is writable by others" % path in str(err.value)
    os.remove(path)
    with pytest.raises(ConfigError) as err:
        create_app(config)
    assert "cannot read config file %s" % path in str(err.value)


def test_roles_that_are_not_text_are_refused(tmp_path, collector_keys):
    config = officer_config(tmp_path, "sqlite:///%s" % (tmp_path / "c.db"), collector_keys,
                            readers=None, roles="Site Administrator, Site\u200bSecurity")
    code, out, err = run_cli(["--config", config, "readers"])
    assert code == 2 and "[officer] site_reader_roles: " in err and "invisible" in err


# ---------------------------------------------------------------- the command

def test_the_readers_command_says_who_reads_what_and_whence(world):
    rows = cli_json(world, "readers")
    assert [(r["site"], r["identity"], r["source"], r["role"], r["line"]) for r in rows] == [
        ("*", DN_2253, "team", None, None), ("*", "jdoe", "team", None, None),
        ("T2_A", "jdoe", "file", None, 4),
        ("T2_B", BOB["SSL_CLIENT_S_DN"], "gocdb", "Site Administrator", None),
        (READ, FAY_LEGACY, "file", None, 3), (READ, "erin", "file", None, 2),
        (READ, EVE_LEGACY, "gocdb", "Site Administrator", None)]
    assert [r["identity"] for r in cli_json(world, "readers", "--site", "t2_e")] == [
        DN_2253, "jdoe", FAY_LEGACY, "erin", EVE_LEGACY]
    table = cli(world, "readers", "--site", "T2_B")
    assert "SITE" in table.splitlines()[0] and "Bob Bravo" in table and "erin" not in table
    assert cli(world, "readers", "--format", "csv").splitlines()[0] == \
        "site,identity,source,role,line,written"


def test_a_readers_silent_hosts_name_no_other_site_as_their_reason(database_url, tmp_path,
                                                                    collector_keys):
    """stale's reason for a silent host may name another site (its name
    reporting there since: a typo twin); the team reads it, a reader of
    the silent host's site reads the row without it."""
    store = open_store(database_url)
    put(store, READ, "e1.example.org", BASE9, 0)
    put(store, "T2_B", "e1.example.org", BASE9, 3)  # the same name, at another site, later
    store.close()
    app = create_app(officer_config(tmp_path, database_url, collector_keys,
                                    readers="T2_E erin\n"))
    team, _ = json_of(app, "/officer/", "", TEAM)
    [row] = [row for row in team["stale"] if row["site"] == READ]
    assert "reports under site T2_B since" in row["reason"]
    status, headers, body = get(app, "/officer/", "format=json", **FILE_USER)
    assert status == 200 and "T2_B" not in body
    [row] = json.loads(body)["stale"]
    assert (row["site"], row["reason"]) == (READ, None)


def test_a_readers_silent_hosts_are_read_of_its_sites_only(world, monkeypatch):
    """A reader's stale rows read the hosts and the quarantine of its own
    sites, not the whole fleet's (its reasons may name no other site)."""
    from wlcg_collector import silence
    store = open_store(world[2])
    try:
        asked = []
        for part, name in ((store.hosts, "listed"), (store.review, "quarantined")):
            real = getattr(part, name)
            monkeypatch.setattr(part, name, lambda site=None, _real=real, _name=name, **kw: (
                asked.append((_name, site)), _real(site, **kw))[1])
        rows = silence.stale(store, 2, int(time.time()), [READ], [READ])
        assert rows and {row.site for row in rows} == {READ}
        assert asked and all(site == READ for _, site in asked), asked
    finally:
        store.close()


def test_the_contacts_are_read_again_only_after_an_import(database_url, tmp_path,
                                                          collector_keys, monkeypatch):
    """Readers by role: each request asks which import is the newest (one
    small query), the contacts themselves are read once an import; an
    import that drops a reader ends its access at once."""
    from wlcg_collector.db.contact_store import ContactStore
    store = open_store(database_url)
    put(store, READ, "e1.example.org", BASE9, 0)
    store.close()
    answer = tmp_path / "contacts.xml"
    answer.write_bytes(contacts_answer({READ: [contact(
        "Eve", "Admin", "eve@echo.example.org", EVE_LEGACY, "Site Administrator")]}))
    assert run_cli(["--db", database_url, "sites", "contacts", "import", str(answer)])[0] == 0
    app = create_app(officer_config(tmp_path, database_url, collector_keys, readers=None))
    reads = []
    real = ContactStore.holding
    monkeypatch.setattr(ContactStore, "holding",
                        lambda part, roles: reads.append(roles) or real(part, roles))
    for _ in range(5):
        assert get(app, "/officer/site/%s" % READ, **EVE)[0] == 200
        stranger = {"SSL_CLIENT_S_DN": "CN=Mallory,DC=example,DC=org",
                    "SSL_CLIENT_VERIFY": "SUCCESS"}
        assert get(app, "/officer/", **stranger)[0] == 403  # a stranger's DN: no read either
    assert len(reads) == 1
    answer.write_bytes(contacts_answer({READ: [contact(
        "Omar", "Ops", "omar@echo.example.org", "/DC=org/DC=example/OU=Echo/CN=Omar Ops",
        "Site Administrator")]}))
    assert run_cli(["--db", database_url, "sites", "contacts", "import", str(answer)])[0] == 0
    assert get(app, "/officer/site/%s" % READ, **EVE)[0] == 403
    assert len(reads) == 2

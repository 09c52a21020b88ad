"""The officer's pages as JSON for scripts, in-process on both back ends:
each page's JSON is its command's `--format json` for the same question,
lists come a page at a time, the Accept header, a client with no cookie,
the access rules, and errors as JSON."""

import json
import time

import pytest

from helpers import make_host_key, make_report, run_cli, write_config, wsgi_call
from test_officer import BASELINE, DAY, T0, date, store_advisory, store_fleet
from test_pages import DN_2253, DN_LEGACY, HOSTILE, OFFICER
from wlcg_collector import create_app
from wlcg_collector.campaigns import ADVISORY, REQUIREMENT
from wlcg_collector.crypto import encrypt, sign
from wlcg_collector.db import open_store
from wlcg_collector.ingest import ingest
from wlcg_collector.report import parse_report

SECURITY = "critical,important,moderate,low,unknown"  # the pages' default severities, named


def get(app, path, query="", **environ_extra):
    status, headers, body, log = wsgi_call(app, method="GET", path=path, query=query,
                                           content_length=False, environ_extra=environ_extra)
    assert "Traceback" not in log
    return status, headers, body.decode("utf-8")


def get_json(app, path, query=""):
    """The JSON a page answers the officer (format=json)."""
    status, headers, body = get(app, path, "format=json" + ("&" + query if query else ""),
                                **OFFICER)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(body)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, module_database_url, collector_keys):
    """(the application, its config file) over the test fleet with a list
    of sites, a host of hostile text, a quarantined report, the baseline,
    the advisory and two campaigns (one closed): built once a module and
    back end, since the pages only read."""
    tmp_path = tmp_path_factory.mktemp("page-json")
    store = open_store(module_database_url)
    store.schema.init()
    store_fleet(store)
    store.writer.store_report(parse_report(make_report(
        "T2_EVIL", "evil.example.org", [("bash", "0:5.1-1", "x86_64")], ts=T0 + 4 * DAY,
        system=HOSTILE)), T0 + 4 * DAY, "192.0.2.1")
    # a signed host, then a report it did not sign: kept aside for review
    cert, key = make_host_key(tmp_path, "t", "/CN=signed.example.org")
    packages = [("bash", "0:5.1-1", "x86_64")]
    ingest(store, encrypt(sign(make_report("T2_T", "signed.example.org", packages, ts=T0),
                               cert, key), collector_keys[1]),
           [collector_keys], "192.0.2.1", received=T0 + 10)
    assert ingest(store, encrypt(make_report("T2_T", "signed.example.org", packages, ts=T0 + 60),
                                 collector_keys[1]), [collector_keys], "203.0.113.9",
                  received=T0 + 70).outcome == "quarantined"
    store.baselines.add("osg", BASELINE, T0)
    store_advisory(store)
    campaign = store.campaigns.add("xrootd", ADVISORY, "ALSA-2026:0001", None, T0 + 7200,
                                   T0 + 2 * DAY, T0, "jdoe")
    store.campaigns.record_notice(campaign, "T2_D", "notice", T0 + DAY,
                                  ["csirt@d.example.org"], "<n1@example.org>", "jdoe")
    store.campaigns.add("kernel", REQUIREMENT, "kernel >= 5.14.0-500", None, T0,
                        T0 + 3 * DAY, T0, "jdoe")
    store.close()
    config = write_config(tmp_path / "collector.conf", module_database_url, [collector_keys])
    with open(config, "a") as handle:
        handle.write("[officer]\nallow = %s\n    jdoe\nstale_days = 2\n" % DN_2253)
    sites = tmp_path / "sites.list"
    sites.write_text("T2_A\nT2_B\nT2_C\nT2_Z\n")  # T2_D, T2_EVIL and T2_T: not on it
    for args in (["sites", "import", str(sites)], ["campaign", "close", "kernel", "--by", "jdoe"]):
        code, _, err = run_cli(["--config", config] + args)
        assert code == 0, err
    return create_app(config), config


@pytest.fixture
def frozen(monkeypatch):
    """One clock for the page and the command: what is worked out up to
    now (silence, days exposed, a campaign's days) is the same."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)


def command_json(config, args):
    code, out, err = run_cli(["--config", config] + args + ["--format", "json"])
    assert code == 0, err
    return json.loads(out)


AT = date(1)
ADOPTION = ["adoption", "xrootd >= 1:5.7.1", "--from", date(0), "--to", date(4)]
# (page, query, the commands whose JSON it answers: their arguments, or a
# part's literal value)
QUESTIONS = [
    ("/officer/", "", {"sites": ["sites"], "unknown": ["sites", "--unknown"],
                       "stale": ["stale", "--days", "2"]}),
    ("/officer/", "baseline=osg&stale=3.5",
     {"sites": ["sites"], "unknown": ["sites", "--unknown"], "stale": ["stale", "--days", "3.5"],
      "compliance": ["compare", "osg", "--summary"]}),
    ("/officer/site/T2_A", "", {"hosts": ["hosts", "--site", "T2_A"]}),
    ("/officer/site/t2_b", "baseline=osg",
     {"hosts": ["hosts", "--site", "t2_b"], "compliance": ["compare", "osg", "--site", "t2_b"]}),
    ("/officer/host/T2_A/a1.example.org", "",
     {"state": ["state", "a1.example.org", "--site", "T2_A"],
      "history": ["history", "a1.example.org", "--site", "T2_A"]}),
    ("/officer/host/T2_A/a1.example.org", "at=" + AT,
     {"state": ["state", "a1.example.org", "--site", "T2_A", "--at", AT],
      "history": ["history", "a1.example.org", "--site", "T2_A"]}),
    ("/officer/baseline/osg", "", ["compare", "osg"]),
    ("/officer/baseline/osg@1", "site=T2_B&at=" + date(2),
     ["compare", "osg@1", "--site", "T2_B", "--at", date(2)]),
    ("/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s" % (date(0), date(4)),
     ADOPTION),
    ("/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s&site=T2_B"
     % (date(0), date(4)), ADOPTION + ["--site", "T2_B"]),
    ("/officer/quarantine", "", ["quarantine"]),
    ("/officer/quarantine", "site=T2_T", ["quarantine", "--site", "T2_T"]),
    ("/officer/advisories", "", {"advisories": ["advisories", "list", "--severity", SECURITY],
                                 "vulnerable": ["vulnerable"],
                                 "sites": ["vulnerable", "--summary"],
                                 "hosts": ["vulnerable", "--hosts"]}),
    ("/officer/advisories", "severity=important",
     {"advisories": ["advisories", "list", "--severity", "important,important"],
      "vulnerable": ["vulnerable", "--severity", "important,important"],
      "sites": ["vulnerable", "--severity", "important,important", "--summary"],
      "hosts": ["vulnerable", "--severity", "important,important", "--hosts"]}),
    ("/officer/advisory/ALSA-2026:0001", "",
     {"advisory": ["advisories", "show", "ALSA-2026:0001"],
      "exposure": ["exposure", "ALSA-2026:0001"],
      "curve": ["exposure", "ALSA-2026:0001", "--curve"]}),
    ("/officer/campaigns", "", ["campaign", "list"]),
    ("/officer/campaign/xrootd", "",
     {"status": ["campaign", "status", "xrootd"],
      "burndown": ["campaign", "status", "xrootd", "--burndown"],
      "notices": ["campaign", "log", "xrootd"]}),
    ("/officer/campaign/kernel", "",  # closed: the status it kept, no burn-down
     {"status": ["campaign", "status", "kernel"], "burndown": [],
      "notices": ["campaign", "log", "kernel"]}),
]


@pytest.mark.parametrize("path,query,commands", QUESTIONS)
def test_each_page_answers_its_commands_json(fleet, frozen, path, query, commands):
    app, config = fleet
    answer = get_json(app, path, "per_page=1000" + ("&" + query if query else ""))
    if isinstance(commands, list):
        assert answer and answer == command_json(config, commands)
        return
    assert answer == {part: command_json(config, args) if args else args
                      for part, args in commands.items()}
    assert any(isinstance(value, list) and value for value in answer.values())


def test_the_overview_has_compares_summary(fleet):
    """compare --summary: a line a site, its tier with a list loaded."""
    app, config = fleet
    compliance = {row["site"]: row for row in get_json(app, "/officer/", "baseline=osg")[
        "compliance"]}
    assert compliance["T2_A"] == {"site": "T2_A", "hosts": 2, "applicable": 2, "behind": 1,
                                  "compliant": "50.0%", "tier": None}
    assert compliance["T2_B"]["compliant"] == "0.0%"
    code, out, err = run_cli(["--config", config, "compare", "osg", "--summary"])
    assert code == 0, err
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["SITE", "HOSTS", "APPLICABLE", "BEHIND", "COMPLIANT", "TIER"]
    assert ["T2_A", "2", "2", "1", "50.0%", "-"] in lines and len(lines) == 1 + len(compliance)


def test_the_overviews_stale_says_why(fleet, frozen):
    """stale's columns and reasons, as the command prints them: a host's
    report held in the quarantine, and the listed site never heard of."""
    app, config = fleet
    stale = get_json(app, "/officer/", "per_page=1000")["stale"]
    assert stale == command_json(config, ["stale", "--days", "2"])
    assert all(list(row) == ["site", "host", "last_report", "silent_for", "reason"]
               for row in stale)
    held = [row for row in stale if row["site"] == "T2_T"]
    assert held and held[0]["reason"].startswith("1 report(s) held in the quarantine (unsigned)")
    assert stale[-1] == {"site": "T2_Z", "host": None, "last_report": None, "silent_for": None,
                         "reason": "on the list of sites, never reported"}


def test_the_baseline_page_marks_hosts_judged_on_an_old_report(fleet, frozen):
    """As compare does ([officer] stale_days = 2: d1 and signed last reported
    on day 0, c-deb on day 1): a column in JSON and CSV, a note in the page."""
    app, config = fleet
    rows = get_json(app, "/officer/baseline/osg", "per_page=1000")
    assert {row["host"] for row in rows if row["stale"]} == {
        "d1.example.org", "c-deb.example.org", "signed.example.org"}
    status, _, body = get(app, "/officer/baseline/osg", "format=csv", **OFFICER)
    assert body.splitlines()[0].split(",")[-1] == "stale"
    status, _, body = get(app, "/officer/baseline/osg", **OFFICER)
    silent = (int(time.time()) - (T0 + 3700)) // DAY
    assert body.count('d1.example.org</a> <span class="silent">(silent %d d)</span>'
                      % silent) == 2  # behind on two requirements
    assert body.count('class="silent"') == 2


def test_lists_come_a_page_at_a_time(fleet):
    """Every row once, in the command's order, with the total; the last
    page holds the rest, and a page past it nothing."""
    app, _ = fleet
    every = get_json(app, "/officer/baseline/osg", "per_page=1000")
    assert len(every) > 12
    pages, number = [], 0
    while True:
        number += 1
        status, headers, body = get(app, "/officer/baseline/osg",
                                    "format=json&per_page=5&page=%d" % number, **OFFICER)
        assert status == 200
        assert (headers["X-Total"], headers["X-Page"], headers["X-Per-Page"]) == (
            str(len(every)), str(number), "5")
        if not json.loads(body):
            break
        pages.append(json.loads(body))
    assert [row for page in pages for row in page] == every
    assert len(pages) == -(-len(every) // 5) and number == len(pages) + 1
    assert all(len(page) == 5 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 5
    status, headers, body = get(app, "/officer/baseline/osg", "format=json&page=1000000000",
                                **OFFICER)
    assert status == 200 and json.loads(body) == [] and headers["X-Total"] == str(len(every))
    # unless asked, PER_PAGE a page
    status, headers, _ = get(app, "/officer/baseline/osg", "format=json", **OFFICER)
    assert headers["X-Per-Page"] == "100" and headers["X-Page"] == "1"


def test_every_list_of_a_page_of_parts_is_paged_alike(fleet):
    app, _ = fleet
    every = get_json(app, "/officer/host/T2_A/a1.example.org", "per_page=1000")
    assert (len(every["state"]), len(every["history"])) == (6, 7)
    status, headers, body = get(app, "/officer/host/T2_A/a1.example.org",
                                "format=json&per_page=4&page=2", **OFFICER)
    assert status == 200
    assert json.loads(body) == {"state": every["state"][4:], "history": every["history"][4:]}
    assert (headers["X-Total-State"], headers["X-Total-History"]) == ("6", "7")
    assert headers["X-Total"] == "7"  # the longest part's
    # an object that is no list is answered whole on every page
    status, headers, body = get(app, "/officer/advisory/ALSA-2026:0001",
                                "format=json&per_page=1&page=50", **OFFICER)
    answer = json.loads(body)
    assert answer["advisory"]["ident"] == "ALSA-2026:0001"
    assert answer["exposure"] == answer["curve"] == [] and "X-Total-Advisory" not in headers


@pytest.mark.parametrize("query", [
    "page=0", "page=x", "page=-1", "page=1.5", "page=%D9%A3", "per_page=0", "per_page=1001",
    "per_page=ten", "per_page=%C2%B2", "page=1000000001", "page=" + "9" * 5000])
def test_bad_paging_is_400_in_one_line(fleet, query):
    app, _ = fleet
    status, headers, body = get(app, "/officer/quarantine", "format=json&" + query, **OFFICER)
    assert status == 400
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    error = json.loads(body)["error"]
    assert query.split("=")[0] in error and "\n" not in error and len(error) < 120


ACCEPT = [
    ("application/json", True),
    ("application/json, text/html", True),
    ("text/html;q=0.5, application/json", True),
    ("application/*", True),
    ("Application/JSON; charset=utf-8", True),
    # a browser's
    ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
     False),
    ("*/*", False),
    ("application/json;q=0.5, text/html", False),
    ("application/json;q=0", False),
    ("application/json;q=nan", False),
    ("", False),
]


def test_the_accept_header(fleet):
    """JSON for a client that prefers it to HTML; HTML for a browser, and
    for a client that takes anything."""
    app, _ = fleet
    for accept, json_answer in ACCEPT:
        status, headers, body = get(app, "/officer/quarantine", HTTP_ACCEPT=accept, **OFFICER)
        assert status == 200
        if json_answer:
            assert headers["Content-Type"] == "application/json; charset=utf-8", accept
            assert json.loads(body)[0]["host"] == "signed.example.org"
        else:
            assert headers["Content-Type"] == "text/html; charset=utf-8", accept
            assert body.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("environ", [
    {"REMOTE_USER": "jdoe"},
    {"SSL_CLIENT_S_DN": DN_LEGACY, "SSL_CLIENT_VERIFY": "SUCCESS"},
])
def test_a_script_needs_no_cookie(fleet, environ):
    """As a script calls it: its identity from the server (SSO or client
    certificate), JSON asked in the Accept header, no cookie, and the same
    security headers as the pages."""
    app, _ = fleet
    status, headers, body = get(app, "/officer/site/T2_A", HTTP_ACCEPT="application/json",
                                **environ)
    assert status == 200
    assert [host["host"] for host in json.loads(body)["hosts"]] == ["a1.example.org",
                                                                    "a2.example.org"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store" and "Set-Cookie" not in headers


@pytest.mark.parametrize("environ", [
    {},
    {"REMOTE_USER": "mallory"},
    {"REMOTE_USER": DN_2253},
    {"SSL_CLIENT_S_DN": DN_2253, "SSL_CLIENT_VERIFY": "FAILED:expired"},
    {"SSL_CLIENT_S_DN": DN_2253},
    {"HTTP_COOKIE": "wlcg_officer=wrong"},
])
def test_who_may_not_read_gets_no_json(fleet, environ):
    app, _ = fleet
    for path, query, _ in QUESTIONS:
        for asked in ({"QUERY_STRING": "format=json&" + query},
                      {"QUERY_STRING": query, "HTTP_ACCEPT": "application/json"}):
            status, headers, body, _ = wsgi_call(app, method="GET", path=path,
                                                 content_length=False,
                                                 environ_extra=dict(environ, **asked))
            assert status == 403, path
            assert headers["Content-Type"] == "application/json; charset=utf-8"
            assert json.loads(body) == {
                "error": "the officer's pages need an authenticated member of the team or "
                         "reader of a site"}


@pytest.mark.parametrize("path,query,status,message", [
    ("/officer/site/T2_NOWHERE", "", 404, "unknown site"),
    ("/officer/host/T2_A/nowhere.example.org", "", 404, "unknown host"),
    ("/officer/host/T2_A/a1.example.org", "at=yesterday", 400, "not an ISO 8601"),
    # before its first report (day 0, 01:00), as `state --at` refuses it
    ("/officer/host/T2_A/a1.example.org", "at=" + date(0), 404, "nothing is known of it at"),
    ("/officer/", "stale=soon", 400, "is not a number"),
    ("/officer/", "baseline=nope", 404, "unknown baseline"),
    ("/officer/baseline/osg@x", "", 400, "bad baseline revision"),
    ("/officer/baseline/osg", "site=T2_NOWHERE", 404, "unknown site"),
    ("/officer/adoption", "", 400, "name a requirement"),
    ("/officer/adoption", "requirement=xrootd+%3D>+1", 400, "unknown operator"),
    ("/officer/advisories", "severity=dire", 400, "severity='dire'"),
    ("/officer/advisories", "tag=nope", 404, "nope"),
    ("/officer/advisory/ALSA-0000:0000", "", 404, "ALSA-0000:0000"),
    ("/officer/campaign/nope", "", 404, "unknown campaign"),
    ("/officer/nope", "", 404, "no such page"),
    ("/officer/static/../../config.py", "", 404, "no such page"),
])
def test_errors_are_json_when_json_was_asked(fleet, path, query, status, message):
    app, _ = fleet
    got, headers, body = get(app, path, "format=json&" + query, **OFFICER)
    assert got == status, body
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Frame-Options"] == "DENY"
    error = json.loads(body)["error"]
    assert message in error and "\n" not in error


def test_read_only_in_json_too(fleet):
    app, _ = fleet
    status, headers, body = get(app, "/officer/", "format=json", REQUEST_METHOD="POST",
                                CONTENT_LENGTH="0", **OFFICER)
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert json.loads(body) == {"error": "these pages are read-only"}


def test_a_format_the_page_has_not_is_400(fleet):
    app, _ = fleet
    status, headers, body = get(app, "/officer/site/T2_A", "format=csv", **OFFICER)
    assert status == 400 and "format=&#39;csv&#39;: json" in body
    status, headers, body = get(app, "/officer/baseline/osg", "format=csv", **OFFICER)
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"


def test_hostile_text_is_no_markup_in_json(fleet):
    """What a host wrote comes back as it was, and the body holds no
    '<', '>' or '&' a client guessing the type could take for markup."""
    app, _ = fleet
    status, _, body = get(app, "/officer/site/T2_EVIL", "format=json", **OFFICER)
    assert status == 200
    assert json.loads(body)["hosts"][0]["system"] == HOSTILE
    assert not {"<", ">", "&"} & set(body)

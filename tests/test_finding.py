"""Finding things on the officer's pages: the search box (a host, a site,
a package, an advisory, a CVE; 303 to the one match, else the matches by
kind; a site reader's of its sites only, in HTML and JSON), the sites in
the CLI's order, compliance painted by band, the baseline page's sort
links, and which requirements each host of a site is behind."""

import json
import urllib.parse

import pytest

from helpers import make_report, write_config
from test_officer import BASELINE, DAY, T0, store_advisory, store_fleet
from test_pages import DN_2253, get, table_rows
from wlcg_collector import create_app
from wlcg_collector.db import open_store
from wlcg_collector.drawing import compliance_band
from wlcg_collector.report import parse_report

TEAM = {"SSL_CLIENT_S_DN": DN_2253, "SSL_CLIENT_VERIFY": "SUCCESS"}
READER = {"REMOTE_USER": "erin"}  # reads T2_A


@pytest.fixture(scope="module")
def app(tmp_path_factory, module_database_url, collector_keys):
    """The test_officer fleet, and two sites named in lower case (as
    `pic` and `praguelcg2` are), on a Debian host and a host meeting
    the baseline (none of whose requirements names the Debian host); built once a module and back end (the pages only read)."""
    directory = tmp_path_factory.mktemp("finding")
    store = open_store(module_database_url)
    store.schema.init()
    store_fleet(store)
    for site, host, system, packages in (
            ("praguelcg2", "p1.farm.cz", "Debian GNU/Linux 12", [("libc6", "2.36-9", "amd64")]),
            ("pic", "w1.pic.es", "AlmaLinux 9.4", [("bash", "0:5.1.8-9.el9", "x86_64"),
                                                   ("xrootd", "1:5.7.1-1.el9", "x86_64"),
                                                   ("kernel", "0:5.14.0-503.el9", "x86_64")])):
        store.writer.store_report(parse_report(make_report(
            site, host, packages, ts=T0 + 4 * DAY, system=system,
            packager="dpkg" if system.startswith("Debian") else "rpm")), T0 + 4 * DAY,
            "192.0.2.1")
    store.baselines.add("osg", BASELINE, T0)
    store_advisory(store)
    store.close()
    readers = directory / "site-readers"
    readers.write_text("T2_A erin\n")
    config = write_config(directory / "collector.conf", module_database_url, [collector_keys])
    with open(str(config), "a") as handle:
        handle.write("[officer]\nallow = %s\nstale_days = 2\nsite_readers = %s\n"
                     % (DN_2253, readers))
    return create_app(str(config))


def found(app, query, who=TEAM):
    """(status, Location or the page) of a search."""
    status, headers, body = get(app, "/officer/search", urllib.parse.urlencode(query), **who)
    return status, headers.get("Location", body)


def test_one_match_is_a_redirect(app):
    assert found(app, {"q": "a1.example.org"}) == (303, "/officer/host/T2_A/a1.example.org")
    assert found(app, {"q": "t2_b"}) == (303, "/officer/site/T2_B")
    assert found(app, {"q": "praguelcg2"}) == (303, "/officer/site/praguelcg2")
    assert found(app, {"q": "ALSA-2026:0001"}) == (303, "/officer/advisory/ALSA-2026%3A0001")
    assert found(app, {"q": "cve-2026-0001"}) == (303, "/officer/advisory/CVE-2026-0001")
    # a10 would be found by "a1" too: the name typed whole is the one
    assert found(app, {"q": " w1.pic.es "}) == (303, "/officer/host/pic/w1.pic.es")


def test_several_matches_are_listed_by_kind(app):
    status, body = found(app, {"q": "example"})
    assert status == 200
    assert [row for row in body.split('id="hosts">')[1].split("</ul>")[0].split("<li>")[1:]]
    names = [li.split("</a>")[0].rsplit(">", 1)[1]
             for li in body.split('id="hosts">')[1].split("</ul>")[0].split("<li>")[1:]]
    assert names == ["a1.example.org", "a2.example.org", "b1.example.org", "b2.example.org",
                     "c-deb.example.org", "c-el7.example.org", "d1.example.org"]
    status, body = found(app, {"q": "T2"})
    assert status == 200 and 'id="hosts"' not in body
    assert body.count('href="/officer/site/T2_') == 4
    status, body = found(app, {"q": "no-such-thing"})
    assert status == 200 and 'id="nothing"' in body


def test_a_package_lists_its_hosts_now_a_page_at_a_time(app):
    status, body = found(app, {"q": "xrootd"})
    assert status == 200
    rows = table_rows(body, "package")
    # a1 and a2 upgraded, b1 on day 3, b2 and d1 still old, c-el7 on EL7, w1 at pic
    assert [row[:2] for row in rows] == [
        ["pic", "w1.pic.es"], ["T2_A", "a1.example.org"], ["T2_A", "a2.example.org"],
        ["T2_B", "b1.example.org"], ["T2_B", "b2.example.org"], ["T2_C", "c-el7.example.org"],
        ["T2_D", "d1.example.org"]]
    status, body = found(app, {"q": "xrootd", "per_page": "3", "page": "3"})
    assert table_rows(body, "package") == [rows[6]]
    assert "7 installed package(s), page 3 of 3" in body and 'rel="prev"' in body
    status, headers, text = get(app, "/officer/search", "q=xrootd&per_page=3&format=json",
                                **TEAM)
    answer = json.loads(text)
    assert status == 200 and headers["X-Total-Package"] == "7"
    assert [[r["site"], r["host"], r["version"], r["arch"]] for r in answer["package"]] == \
        rows[:3]


def test_a_reader_finds_only_its_sites(app):
    status, body = found(app, {"q": "example"}, READER)
    assert status == 200 and "b1.example" not in body and "T2_B" not in body
    assert 'href="/officer/host/T2_A/a1.example.org"' in body
    # another site's host: nothing found (the text typed is shown back, nothing more)
    status, body = found(app, {"q": "b1.example.org"}, READER)
    assert status == 200 and 'id="nothing"' in body and "T2_B" not in body
    assert found(app, {"q": "T2"}, READER) == (303, "/officer/site/T2_A")
    status, body = found(app, {"q": "xrootd"}, READER)
    assert [row[0] for row in table_rows(body, "package")] == ["T2_A", "T2_A"]
    for query in ("q=xrootd&format=json", "q=example&format=json", "q=T2&format=json"):
        status, headers, text = get(app, "/officer/search", query, **READER)
        assert status == 200
        for other in ("T2_B", "T2_C", "T2_D", "pic", "b1.example"):
            assert other not in text and other not in str(headers)
    assert json.loads(get(app, "/officer/search", "q=xrootd&format=json", **READER)[2])[
        "package"][0]["host"] == "a1.example.org"


def test_every_page_has_the_search_box(app):
    for path in ("/officer/", "/officer/site/T2_A", "/officer/host/T2_A/a1.example.org",
                 "/officer/baseline/osg", "/officer/advisories", "/officer/campaigns"):
        _, _, body = get(app, path, **TEAM)
        assert '<form method="get" action="/officer/search"' in body and 'name="q"' in body
        assert "<script" not in body


def overview_sites(body):
    return [row[0].split()[0] for row in table_rows(body, "sites")]


def test_the_overview_lists_sites_in_the_order_of_the_cli(app):
    _, _, body = get(app, "/officer/", "sort=site", **TEAM)
    assert overview_sites(body) == ["pic", "praguelcg2", "T2_A", "T2_B", "T2_C", "T2_D"]
    _, _, body = get(app, "/officer/", "sort=site&order=desc", **TEAM)
    assert overview_sites(body) == ["T2_D", "T2_C", "T2_B", "T2_A", "praguelcg2", "pic"]


def test_compliance_is_painted_by_band(app):
    _, _, body = get(app, "/officer/", "baseline=osg", **TEAM)
    cells = {}
    for row in body.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]:
        site = row.split("</a>")[0].rsplit(">", 1)[1]
        cells[site] = row.split('<td class="num band-')[1].split("</td>")[0]
    assert cells["pic"] == 'full">100.0%'
    assert cells["T2_A"] == 'poor">50.0%' and cells["T2_B"] == 'low">0.0%'
    # a share of none (no host the baseline judges): neutral, as are 98 % and 0 % apart
    assert [compliance_band(share) for share in (None, 100, 98, 80, 50, 0)] == [
        "band-na", "band-full", "band-high", "band-fair", "band-poor", "band-low"]
    # the baseline page's summary, too
    _, _, body = get(app, "/officer/baseline/osg", **TEAM)
    summary = body.split('id="summary"')[1].split("</tbody>")[0]
    for row in summary.split("<tr")[2:]:
        site = row.split("</a>")[0].rsplit(">", 1)[1]
        assert row.split('<td class="num band-')[1].split("</td>")[0] == cells[site], site
    _, _, css = get(app, "/officer/static/style.css", **TEAM)
    for band in ("full", "high", "fair", "poor", "low", "na"):
        assert "td.band-%s {" % band in css


def test_the_baseline_page_sorts_by_its_columns(app):
    _, _, body = get(app, "/officer/baseline/osg", "sort=compliant&order=desc", **TEAM)
    rows = table_rows(body, "summary")
    # (site, hosts, applicable, behind, compliant: n/a last)
    shares = [float(row[4].rstrip("%")) for row in rows if row[4] != "n/a"]
    assert shares == sorted(shares, reverse=True) and shares[0] == 100.0
    assert [row[4] for row in rows[len(shares):]] == ["n/a"] * (len(rows) - len(shares))
    assert rows[0][0] == "pic"
    header = body.split('id="summary"')[1].split("</thead>")[0]
    assert 'href="/officer/baseline/osg@1?sort=compliant&amp;order=asc"' in header
    assert 'href="/officer/baseline/osg@1?sort=site&amp;order=asc"' in header
    _, _, body = get(app, "/officer/baseline/osg", "sort=site&order=desc", **TEAM)
    assert [row[0] for row in table_rows(body, "summary")][:2] == ["T2_D", "T2_C"]


def test_the_site_page_says_which_requirements_a_host_is_behind(app):
    _, _, body = get(app, "/officer/site/T2_B", "baseline=osg", **TEAM)
    assert {row[0]: row[6] for row in table_rows(body, "hosts")} == {
        "b1.example.org": "1 behind: kernel >= 5.14.0-500",
        "b2.example.org": "1 behind: xrootd >= 1:5.7.1"}

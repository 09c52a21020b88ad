"""The officer's pages in a real browser: headless Chromium (Debian's
chromium and chromium-driver, driven with Selenium; no browser download at
run time) loads each page from a running `wlcg-collector serve` with a small
ingested fleet, through the token link the server prints; the test checks
what a person would see and keeps a screenshot of each page in pytest's
temporary directory (browser-screenshots*/ under the run's base: pytest
keeps the last three runs), never in the checkout."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from helpers import ROOT, make_report, write_config
from test_officer import BASELINE, DAY, T0, date, store_advisory, store_fleet
from test_pages import HOSTILE
from wlcg_collector.report import parse_report
from wlcg_collector.db import open_store

CHROMIUM = shutil.which("chromium", path="/usr/bin:/bin")
CHROMEDRIVER = shutil.which("chromedriver", path="/usr/bin:/bin")


def need_chromium():
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are needed: in CI the browser tests "
                        "must run")
        pytest.skip("chromium or chromium-driver is not installed")


@pytest.fixture(scope="module")
def served(tmp_path_factory, collector_keys):
    need_chromium()
    directory = tmp_path_factory.mktemp("browser")
    url = "sqlite:///%s" % (directory / "fleet.db")
    store = open_store(url)
    store.schema.init()
    store_fleet(store)
    store.writer.store_report(parse_report(make_report(
        "T2_EVIL", "evil.example.org",
        [("<img_src=x_onerror=document.title='pwned'>", "0:1-1", "x86_64")],
        ts=T0 + 4 * DAY, system=HOSTILE)), T0 + 4 * DAY, "192.0.2.1")
    # a Debian host of 300 packages, one upgraded on day 4: its history
    # would sit below every package
    many = [("lib%03d" % i, "1.0-1", "amd64") for i in range(300)]
    for day in (3, 4):
        store.writer.store_report(parse_report(make_report(
            "T2_C", "big.example.org", [("bash", "5.2.15-%d" % day, "amd64")] + many,
            ts=T0 + day * DAY, system="Debian GNU/Linux 12", packager="dpkg")),
            T0 + day * DAY, "192.0.2.1")
    store.baselines.add("osg", BASELINE, T0)
    store_advisory(store)
    store_contacts(store)
    store.campaigns.add("xrootd", "advisory", "ALSA-2026:0001", None, T0 + 7200, T0 + 2 * DAY,
                        T0, HOSTILE[:64])
    store.close()
    yield from serve(directory, url, collector_keys)


def serve(directory, url, collector_keys):
    """`wlcg-collector serve` on the database: (base URL, token) until
    the module is done."""
    config = write_config(directory / "c.conf", url, [collector_keys])
    proc = subprocess.Popen([sys.executable, "-m", "wlcg_collector", "--config", config,
                             "serve", "--port", "0"], stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    proc.stderr.readline()
    link = re.search(r"officer pages: (\S+)", proc.stderr.readline().decode()).group(1)
    base, token = link.split("/officer/?token=")
    yield base, token
    proc.terminate()
    proc.wait(timeout=10)


def store_contacts(store):
    """Whom T2_B names, and a T2_EVIL whose contact's name and DN are
    script (GOCDB is one more stranger to the pages)."""
    from wlcg_collector.contacts import CONTACTS, SECURITY, Contact, ContactSite
    store.contacts.replace(CONTACTS, [
        ContactSite("T2_B", [Contact("Site Administrator", "Bo", "Beta", "bo@b.example.org",
                                     "/DC=org/DC=example/CN=Bo Beta")], None),
        ContactSite("T2_EVIL", [Contact("Site Security Officer", HOSTILE, "Evil",
                                        "evil@evil.example.org", "/CN=" + HOSTILE)], None)],
        "contacts.xml", 0, T0, "officer")
    store.contacts.replace(SECURITY, [ContactSite("T2_B", None, "csirt@b.example.org")],
                           "security.xml", 0, T0, "officer")


@pytest.fixture(scope="module")
def browser(served, tmp_path_factory):
    yield from chromium(served, tmp_path_factory)


def chromium(served, tmp_path_factory):
    """A headless Chromium that has followed the server's token link."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="wlcg-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                 "--user-data-dir=" + profile):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.screenshots = str(tmp_path_factory.mktemp("browser-screenshots"))
    base, token = served
    driver.get("%s/officer/?token=%s" % (base, token))  # the link sets the cookie
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def load(browser, served, path, name):
    """Open the page as a person would, keep a screenshot, return the driver."""
    browser.get(served[0] + path)
    assert browser.current_url.startswith(served[0] + "/officer/")
    browser.save_screenshot(os.path.join(browser.screenshots, name + ".png"))
    return browser


def cells(driver, table_id):
    from selenium.webdriver.common.by import By
    rows = driver.find_elements(By.CSS_SELECTOR, "#%s tbody tr" % table_id)
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def test_overview(browser, served):
    driver = load(browser, served, "/officer/?baseline=osg&stale=2", "overview")
    assert driver.title.startswith("Sites")
    rows = {row[0].split()[0]: row for row in cells(driver, "sites")}
    assert set(rows) == {"T2_A", "T2_B", "T2_C", "T2_D", "T2_EVIL"}
    assert rows["T2_A"][1:] == ["2", rows["T2_A"][2], "0", "50.0%", "1"]
    assert rows["T2_D"][0] == "T2_D silent" and rows["T2_D"][4] == "0.0%"
    assert os.path.getsize(os.path.join(driver.screenshots, "overview.png")) > 5000
    # sorting by a column header, as a click would
    from selenium.webdriver.common.by import By
    driver.find_element(By.LINK_TEXT, "Hosts").click()
    driver.find_element(By.PARTIAL_LINK_TEXT, "Hosts").click()
    assert [row[0].split()[0] for row in cells(driver, "sites")][-2:] == ["T2_D", "T2_EVIL"]


def test_site_and_host(browser, served):
    driver = load(browser, served, "/officer/site/T2_B?baseline=osg", "site")
    # (the fleet's reports are unsigned, as pakiti-client's: marked so)
    assert {row[0]: (row[1], row[6]) for row in cells(driver, "hosts")} == {
        "b1.example.org": ("unsigned", "1 behind: kernel >= 5.14.0-500"),
        "b2.example.org": ("unsigned", "1 behind: xrootd >= 1:5.7.1")}
    driver = load(browser, served, "/officer/host/T2_A/a1.example.org", "host")
    assert ["xrootd", "1:5.7.1-1.el9", "x86_64"] in cells(driver, "packages")
    assert "upgraded xrootd.x86_64 1:5.6.9-1.el9 → 1:5.7.1-1.el9" in driver.page_source
    driver = load(browser, served, "/officer/host/T2_A/a1.example.org?at=%sT12:00:00Z"
                  % date(0), "host-at")
    assert ["xrootd", "1:5.6.9-1.el9", "x86_64"] in cells(driver, "packages")


def test_a_hosts_history_is_seen_without_scrolling(browser, served):
    driver = load(browser, served, "/officer/host/T2_C/big.example.org", "host-history")
    from selenium.webdriver.common.by import By
    change = driver.find_element(By.CSS_SELECTOR, "#timeline li li")
    assert change.text == "upgraded bash.amd64 5.2.15-3 → 5.2.15-4"
    top = driver.execute_script("return arguments[0].getBoundingClientRect().bottom", change)
    assert 0 < top <= driver.execute_script("return window.innerHeight")
    # the packages below it, a link away
    driver.find_element(By.PARTIAL_LINK_TEXT, "packages below").click()
    # (rows counted in one request: a cell's text is a request of its own)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#packages tbody tr")) == 301
    assert driver.execute_script("return window.scrollY") > 0


def test_site_contacts(browser, served):
    driver = load(browser, served, "/officer/site/T2_B", "site-contacts")
    from selenium.webdriver.common.by import By
    assert driver.find_element(By.ID, "csirt").text == "CSIRT: csirt@b.example.org"
    assert cells(driver, "contacts") == [["Site Administrator", "Bo Beta", "bo@b.example.org",
                                          "/DC=org/DC=example/CN=Bo Beta"]]
    # a contact made of script is shown as text, and runs nothing
    driver = load(browser, served, "/officer/site/T2_EVIL", "evil-contacts")
    assert cells(driver, "contacts") == [["Site Security Officer", HOSTILE + " Evil",
                                          "evil@evil.example.org", "/CN=" + HOSTILE]]
    assert driver.find_element(By.ID, "csirt").text == "CSIRT: none imported"
    assert driver.execute_script("return document.body.getAttribute('data-pwned')") is None
    driver = load(browser, served, "/officer/site/T2_A", "no-contacts")
    assert driver.find_element(By.ID, "contacts").text.startswith("None imported")


def test_baseline(browser, served):
    driver = load(browser, served, "/officer/baseline/osg", "baseline")
    assert ["T2_B", "2", "2", "2", "0.0%"] in cells(driver, "summary")
    assert len(cells(driver, "behind")) == 6
    from selenium.webdriver.common.by import By
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR,
                                                                   ".downloads a")]
    assert any("format=csv" in link for link in links)
    assert any("format=json" in link for link in links)


def test_adoption_chart_is_drawn(browser, served):
    driver = load(browser, served, "/officer/adoption?requirement=xrootd+>%%3D+1:5.7.1"
                  "&from=%s&to=%s" % (date(0), date(4)), "adoption")
    from selenium.webdriver.common.by import By
    chart = driver.find_element(By.ID, "chart")
    assert chart.size["width"] > 500 and chart.size["height"] > 200  # laid out and visible
    lines = driver.find_elements(By.CSS_SELECTOR, "#chart polyline")
    assert [line.get_attribute("class") for line in lines] == ["ok", "behind"]
    # the day's counts: every other corner of the steps
    ok_y = [float(xy.split(",")[1]) for xy in lines[0].get_attribute("points").split()][::2]
    assert len(ok_y) == 5 and ok_y[0] > ok_y[-1]  # more hosts meet it (y grows downwards)
    assert cells(driver, "adoption")[-1] == [date(4), "3", "3", "1", "3"]


def test_hostile_host_runs_no_script(browser, served):
    from selenium.common.exceptions import NoAlertPresentException
    for path, name in (("/officer/site/T2_EVIL", "evil-site"),
                       ("/officer/host/T2_EVIL/evil.example.org", "evil-host")):
        driver = load(browser, served, path, name)
        assert driver.execute_script("return document.body.getAttribute('data-pwned')") is None
        assert "pwned" not in driver.title
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text
        assert HOSTILE in driver.find_element("tag name", "body").text or \
            "<img_src=x_onerror=" in driver.find_element("tag name", "body").text


def test_advisories_and_one_advisory(browser, served):
    from selenium.webdriver.common.by import By
    driver = load(browser, served, "/officer/advisories", "advisories")
    assert driver.title.startswith("Advisories")
    [row] = cells(driver, "advisories")
    assert row[:2] == ["ALSA-2026:0001", "important"] and row[3:6] == ["CVE-2026-0001", "1", "1"]
    driver.find_element(By.LINK_TEXT, "ALSA-2026:0001").click()
    browser.save_screenshot(os.path.join(browser.screenshots, "advisory.png"))
    assert driver.title.startswith("ALSA-2026:0001")
    assert driver.find_element(By.ID, "counts").text == "1 host(s) exposed now, 3 ever."
    chart = driver.find_element(By.ID, "chart")
    assert chart.size["width"] > 500 and chart.size["height"] > 200
    hosts = driver.find_element(By.CSS_SELECTOR, "#chart polyline.behind").get_attribute("points")
    ys = [float(xy.split(",")[1]) for xy in hosts.split()][::2]  # the days' corners
    # three hosts exposed on day 0, one from day 1 on (y grows downwards)
    assert len(ys) >= 5 and ys[-5] < ys[-4] == ys[-1]
    sites = {row[0]: row[1:] for row in cells(driver, "sites")}
    # (exposed in their first reports, after the publication: at least)
    assert sites["T2_A"] == ["2", "0", "\u2265 1.0", "\u2265 1.0"]
    assert sites["T2_D"][:2] == ["1", "1"]
    assert [row[:2] for row in cells(driver, "exposed")] == [["T2_D", "d1.example.org"]]


def test_campaign(browser, served):
    driver = load(browser, served, "/officer/campaigns", "campaigns")
    from selenium.webdriver.common.by import By
    assert [row[:2] + row[4:8] for row in cells(driver, "campaigns")] == [
        ["xrootd", "advisory ALSA-2026:0001", "0", "0", "1", "1"]]
    driver.find_element(By.LINK_TEXT, "xrootd").click()
    driver.save_screenshot(os.path.join(browser.screenshots, "campaign.png"))
    assert [row[:2] for row in cells(driver, "sites")] == [["T2_D", "unknown"], ["T2_A", "done"]]
    chart = driver.find_element(By.ID, "chart")
    assert chart.size["width"] > 500 and chart.size["height"] > 200
    assert [line.get_attribute("class") for line in driver.find_elements(
        By.CSS_SELECTOR, "#chart polyline")] == ["behind", "sites"]
    deadline = driver.find_element(By.ID, "deadline")
    # two days after the start's day, of five drawn: half way across
    x = float(deadline.get_attribute("x1"))
    assert 40 + (760 - 80) * 0.4 < x < 40 + (760 - 80) * 0.6
    assert HOSTILE[:64] in driver.find_element(By.TAG_NAME, "main").text  # shown, as text
    assert driver.execute_script("return document.body.getAttribute('data-pwned')") is None


@pytest.fixture(scope="module")
def served_decisions(tmp_path_factory, collector_keys):
    """The fleet with the officer's decisions: a tag (hostile description, a
    URL), a tag whose URL is no link, and d1 (exposed, silent since day 0)
    excepted, with a hostile reason."""
    need_chromium()
    directory = tmp_path_factory.mktemp("decisions")
    url = "sqlite:///%s" % (directory / "fleet.db")
    store = open_store(url)
    store.schema.init()
    store_fleet(store)
    store_advisory(store)
    store.tags.add("EGI-Critical", "https://wiki.egi.eu/wiki/SEC03", "act " + HOSTILE, T0,
                   "jdoe")
    store.tags.apply("EGI-Critical", [("cve", "CVE-2026-0001")], T0, "jdoe")
    store.tags.add("Local", "javascript:document.title='pwned'", None, T0, "jdoe")
    store.tags.apply("Local", [("advisory", "ALSA-2026:0001")], T0, "jdoe")
    store.exceptions.add("ALSA-2026:0001", None, "xrootd", None, "T2_D", "d1.example.org",
                         "being retired " + HOSTILE, T0 + 2 * DAY, "jdoe")
    store.close()
    yield from serve(directory, url, collector_keys)


@pytest.fixture
def decisions_browser(browser, served, served_decisions):
    """The module's Chromium let in to the decisions' server (its token
    link sets the cookie: both servers are 127.0.0.1, and a cookie does
    not tell ports apart), then let in to the first server's again. One
    browser started, not two (a Chromium's start is seconds of CPU)."""
    base, token = served_decisions
    browser.get("%s/officer/?token=%s" % (base, token))
    yield browser
    base, token = served
    browser.get("%s/officer/?token=%s" % (base, token))


def test_tags_and_exceptions_on_the_advisory_pages(decisions_browser, served_decisions):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    driver = load(decisions_browser, served_decisions, "/officer/advisories", "tagged")
    [row] = cells(driver, "advisories")
    # d1 excepted: nobody is exposed, one host excepted; both tags shown
    assert row[:2] == ["ALSA-2026:0001", "important"]
    assert row[3:7] == ["CVE-2026-0001", "0", "0", "1"] and row[8] == "EGI-Critical Local"
    assert driver.find_element(By.ID, "excepted").text.startswith("Excepted: 1 host(s)")
    driver.find_element(By.LINK_TEXT, "EGI-Critical").click()
    assert "tag=EGI-Critical" in driver.current_url
    assert driver.find_element(By.ID, "tag").text == (
        "EGI-Critical: act %s https://wiki.egi.eu/wiki/SEC03" % HOSTILE)
    assert driver.find_element(By.LINK_TEXT, "https://wiki.egi.eu/wiki/SEC03").get_attribute(
        "href") == "https://wiki.egi.eu/wiki/SEC03"
    # the form keeps the tag: choosing a severity filters within it
    from selenium.webdriver.support.ui import Select, WebDriverWait
    Select(driver.find_element(By.NAME, "severity")).select_by_value("low")
    driver.find_element(By.CSS_SELECTOR, "form.controls button").click()
    # (a form's submission may still be under way when click() returns)
    WebDriverWait(driver, 10).until(lambda d: "severity=" in d.current_url)
    assert "tag=EGI-Critical" in driver.current_url and "severity=low" in driver.current_url
    assert cells(driver, "advisories") == [["No host is exposed to a stored advisory."]]
    driver = load(decisions_browser, served_decisions, "/officer/advisory/ALSA-2026:0001",
                  "excepted")
    assert driver.find_element(By.ID, "counts").text == (
        "0 host(s) exposed now, 3 ever. Excepted: 1 (not counted as exposed).")
    assert [r[:5] for r in cells(driver, "excepted")] == [
        ["T2_D", "d1.example.org", "xrootd", "1:5.6.9-1.el9", "1"]]
    assert cells(driver, "excepted")[0][5] == "being retired " + HOSTILE
    [listed] = cells(driver, "exceptions")
    assert listed[0:2] == ["1", "ALSA-2026:0001"] and listed[-1] == "in force"
    tags = driver.find_element(By.ID, "tags")
    assert "javascript:document.title='pwned'" in tags.text
    assert [a.get_attribute("href") for a in tags.find_elements(By.TAG_NAME, "a")
            if "javascript" in (a.get_attribute("href") or "")] == []
    assert driver.execute_script("return document.body.getAttribute('data-pwned')") is None
    assert "pwned" not in driver.title
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text
    # d1 was exposed from day 0 until the exception: the curve drops to none
    hosts = driver.find_element(By.CSS_SELECTOR, "#chart polyline.behind").get_attribute(
        "points")
    ys = [float(xy.split(",")[1]) for xy in hosts.split()][::2]
    assert ys[-5] < ys[-4] < ys[-3] == ys[-1]

"""The officer's pages in a real browser: headless Chromium (Debian's
chromium, no download at run time) loads each page from a running
`wlcg-collector serve` with a small ingested fleet, through the token link
the server prints; the test reads the DOM Chromium built and keeps a
screenshot of each page in build/screenshots/."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from helpers import ROOT, make_report, write_config
from test_officer import BASELINE, DAY, T0, date, store_fleet
from test_pages import HOSTILE
from wlcg_collector.report import parse_report
from wlcg_collector.storage import open_store

CHROMIUM = shutil.which("chromium", path="/usr/bin:/bin") or shutil.which(
    "chromium-browser", path="/usr/bin:/bin")
SCREENSHOTS = os.path.join(ROOT, "build", "screenshots")


@pytest.fixture(scope="module")
def served(tmp_path_factory, collector_keys):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: in CI the browser tests must run")
        pytest.skip("chromium is not installed")
    directory = tmp_path_factory.mktemp("browser")
    url = "sqlite:///%s" % (directory / "fleet.db")
    store = open_store(url)
    store.init_schema()
    store_fleet(store)
    store.store_report(parse_report(make_report(
        "T2_EVIL", "evil.example.org",
        [("<img_src=x_onerror=document.title='pwned'>", "0:1-1", "x86_64")],
        ts=T0 + 4 * DAY, system=HOSTILE)), T0 + 4 * DAY, "192.0.2.1")
    store.add_baseline("osg", BASELINE, T0)
    store.close()
    config = write_config(directory / "c.conf", url, [collector_keys])
    proc = subprocess.Popen([sys.executable, "-m", "wlcg_collector", "--config", config,
                             "serve", "--port", "0"], stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    proc.stderr.readline()
    link = re.search(r"officer pages: (\S+)", proc.stderr.readline().decode()).group(1)
    base, token = link.split("/officer/?token=")
    os.makedirs(SCREENSHOTS, exist_ok=True)
    yield base, token
    proc.terminate()
    proc.wait(timeout=10)


def chromium(*args):
    profile = tempfile.mkdtemp(prefix="wlcg-chromium-")
    try:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + profile, "--window-size=1280,1000"]
            + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout.decode()


def load(served, path, name):
    """The DOM Chromium built for the page, and a screenshot of it."""
    base, token = served
    separator = "&" if "?" in path else "?"
    url = "%s%s%stoken=%s" % (base, path, separator, token)
    chromium("--screenshot=%s" % os.path.join(SCREENSHOTS, name + ".png"), url)
    return chromium("--dump-dom", url)


def test_overview(served):
    dom = load(served, "/officer/?baseline=osg&stale=2", "overview")
    assert "<title>Sites" in dom
    rows = dom.split('<table id="sites">')[1].split("</table>")[0]
    for site in ("T2_A", "T2_B", "T2_C", "T2_D"):
        assert ">%s</a>" % site in rows
    assert '<tr class="stale">' in rows and "50.0%" in rows
    assert os.path.getsize(os.path.join(SCREENSHOTS, "overview.png")) > 5000


def test_site_and_host(served):
    dom = load(served, "/officer/site/T2_B?baseline=osg", "site")
    assert "b1.example.org" in dom and "b2.example.org" in dom and "behind" in dom
    dom = load(served, "/officer/host/T2_A/a1.example.org", "host")
    assert "1:5.7.1-1.el9" in dom and "upgraded xrootd.x86_64" in dom
    dom = load(served, "/officer/host/T2_A/a1.example.org?at=%sT12:00:00Z" % date(0),
               "host-at")
    packages = dom.split('id="packages"')[1].split("</table>")[0]
    assert "1:5.6.9-1.el9" in packages and "1:5.7.1-1.el9" not in packages


def test_baseline(served):
    dom = load(served, "/officer/baseline/osg", "baseline")
    summary = dom.split('id="summary"')[1].split("</table>")[0]
    assert re.search(r"T2_B</a></td><td[^>]*>2</td><td[^>]*>2</td><td[^>]*>0.0%", summary)
    assert "format=csv" in dom and "format=json" in dom


def test_adoption_chart_is_drawn(served):
    dom = load(served, "/officer/adoption?requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s"
               % (date(0), date(4)), "adoption")
    assert '<svg id="chart"' in dom
    points = re.findall(r'<polyline class="(ok|behind)" points="([^"]+)"', dom)
    assert [kind for kind, _ in points] == ["ok", "behind"]
    assert all(len(p.split()) == 5 for _, p in points)
    ok_y = [float(xy.split(",")[1]) for xy in points[0][1].split()]
    assert ok_y[0] > ok_y[-1]  # the number of hosts meeting it rises (y grows downwards)


def test_hostile_host_runs_no_script(served):
    for path, name in (("/officer/site/T2_EVIL", "evil-site"),
                       ("/officer/host/T2_EVIL/evil.example.org", "evil-host")):
        dom = load(served, path, name)
        assert "data-pwned" not in dom.split("<body")[1].split(">")[0]
        assert "<title>pwned" not in dom
        assert "&lt;script&gt;document.body.setAttribute" in dom or \
            "&lt;img_src=x_onerror" in dom

"""The exposure and adoption charts draw counts as steps: a count holds
until the day it changes, where the line goes straight up or down. A
diagonal from 3 to 1 across a day would read as hosts fixing themselves
gradually. Checked on the SVG matplotlib writes for --plot and on the
polylines of the officer's pages."""

import re
import xml.etree.ElementTree as ET

import pytest

from helpers import wsgi_call, write_config
from test_officer import DAY, T0, date, store_advisory, store_fleet
from wlcg_collector import create_app, drawing, plot
from wlcg_collector.advisories.exposure import ExposureDay
from wlcg_collector.analysis import AdoptionDay

SVG = "{http://www.w3.org/2000/svg}"
# matplotlib's tab:red and tab:green
RED, GREEN = "#d62728", "#2ca02c"
OFFICER_DN = "CN=Jane Officer,OU=Users,OU=Organic Units,DC=cern,DC=ch"

# 3 hosts exposed on days 0 and 1, 1 from day 2 on
EXPOSURE = [ExposureDay(T0 + n * DAY, hosts, sites)
            for n, (hosts, sites) in enumerate([(3, 2), (3, 2), (1, 1), (1, 1)])]
ADOPTION = [AdoptionDay(T0 + n * DAY, ok, 3 - ok, min(ok, 1), 2 - min(ok, 1))
            for n, ok in enumerate([0, 0, 2, 2])]


def segments(points):
    return list(zip(points, points[1:]))


def assert_steps(points):
    """Every segment horizontal or vertical, and at least one of each."""
    assert len(points) > 1
    for (x1, y1), (x2, y2) in segments(points):
        assert x1 == pytest.approx(x2) or y1 == pytest.approx(y2), \
            "diagonal from %r to %r" % ((x1, y1), (x2, y2))
    assert any(y1 != pytest.approx(y2) for (_, y1), (_, y2) in segments(points))
    assert any(x1 != pytest.approx(x2) for (x1, _), (x2, _) in segments(points))


def changes(points):
    """[(x, up)] of each vertical segment that moves (up: the count grows,
    SVG's y grows downwards)."""
    return [(x1, y2 < y1) for (x1, y1), (_, y2) in segments(points)
            if y1 != pytest.approx(y2)]


# ---------------------------------------------------------------- --plot (matplotlib)

def plotted_lines(path, color):
    """[points] of each data line of this colour in matplotlib's SVG: its
    paths clipped to the axes (markers, legend samples and grid lines
    apart)."""
    lines = []
    for element in ET.parse(str(path)).iter(SVG + "path"):
        style = element.get("style", "")
        if element.get("clip-path") and "stroke: %s" % color in style:
            commands = re.findall(r"[A-Za-z]", element.get("d"))
            assert set(commands) <= {"M", "L"}, element.get("d")
            numbers = [float(n) for n in re.findall(r"-?[0-9.]+", element.get("d"))]
            lines.append(list(zip(numbers[::2], numbers[1::2])))
    return lines


def x_of_day(line, day, days):
    """The x of a day on a line that runs from the first day to the last."""
    first, last = line[0][0], line[-1][0]
    return first + (last - first) * day / (days - 1)


def test_plotted_exposure_changes_in_steps(tmp_path):
    path = tmp_path / "exposure.svg"
    plot.plot_exposure(EXPOSURE, "ALSA-2026:0001", str(path))
    hosts, sites = plotted_lines(path, RED)
    for line in (hosts, sites):
        assert_steps(line)
        # the one change: down, on day 2
        [(x, up)] = changes(line)
        assert not up and x == pytest.approx(x_of_day(line, 2, len(EXPOSURE)))


def test_plotted_adoption_changes_in_steps(tmp_path):
    path = tmp_path / "adoption.svg"
    plot.plot_adoption(ADOPTION, "xrootd >= 1:5.7.1", str(path))
    behind = plotted_lines(path, RED)
    meeting = plotted_lines(path, GREEN)
    assert len(behind) == len(meeting) == 2  # hosts and sites
    for lines, grows in ((behind, False), (meeting, True)):
        for line in lines:
            assert_steps(line)
            [(x, up)] = changes(line)
            assert up == grows and x == pytest.approx(x_of_day(line, 2, len(ADOPTION)))


# ---------------------------------------------------------------- the pages' SVG

def polyline(points):
    return [tuple(float(v) for v in xy.split(",")) for xy in points.split()]


def test_page_chart_changes_in_steps():
    drawn = drawing.line_chart(EXPOSURE, ("hosts", "sites"))
    for key in ("hosts", "sites"):
        line = polyline(drawn["lines"][key])
        assert_steps(line)
        days = line[::2]  # corner i is point 2i
        assert len(days) == len(EXPOSURE)
        [(x, up)] = changes(line)
        assert not up and x == days[2][0]
        assert days[1][1] < days[2][1] == days[3][1]
    drawn = drawing.chart(ADOPTION)
    for key in ("ok", "behind"):
        line = polyline(drawn[key])
        assert_steps(line)
        [(x, up)] = changes(line)
        assert up == (key == "ok") and x == line[4][0]


@pytest.fixture
def officer_pages(store, database_url, collector_keys, tmp_path):
    """The pages over the officer tests' fleet and its advisory."""
    store_fleet(store)
    store_advisory(store)
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    with open(config, "a") as handle:
        handle.write("[officer]\nallow = %s\n" % OFFICER_DN)
    app = create_app(config)

    def polylines(path, query=""):
        status, _, body, _ = wsgi_call(app, method="GET", path=path, query=query,
                                       content_length=False,
                                       environ_extra={"SSL_CLIENT_S_DN": OFFICER_DN,
                                                      "SSL_CLIENT_VERIFY": "SUCCESS"})
        assert status == 200, body
        return {name: polyline(points) for name, points in
                re.findall(r'<polyline class="(\w+)" points="([^"]*)"', body.decode())}
    return polylines


def test_pages_draw_steps(officer_pages):
    # hosts meeting xrootd >= 1:5.7.1: 0, 2, 2, 3, 3 (behind: 6, 4, 4, 3, 3)
    lines = officer_pages("/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s"
                          % (date(0), date(4)))
    assert set(lines) == {"ok", "behind"}
    for name, line in lines.items():
        assert_steps(line)
        days = line[::2]
        assert len(days) == 5
        # the changes on days 1 and 3, in the right direction
        assert changes(line) == [(days[1][0], name == "ok"), (days[3][0], name == "ok")]
    # hosts exposed to the advisory: three on day 0, one from day 1 on
    lines = officer_pages("/officer/advisory/ALSA-2026%3A0001")
    assert set(lines) == {"behind", "sites"}
    hosts = lines["behind"]
    assert_steps(hosts)
    assert_steps(lines["sites"])
    days = hosts[::2]
    assert changes(hosts) == [(days[-4][0], False)]
    assert days[-5][1] < days[-4][1] == days[-1][1]

"""What changed since a time over many hosts is read package row by package
row only when those hosts are much of the fleet: that read takes every
host's changes, so a site's hosts in a larger fleet are read host by host
(a site of 250 hosts among 4,000 on MariaDB: 10 s so, 1.7 s by host)."""

from helpers import make_report
from test_first_report_statements import spy_statements
from wlcg_collector import analysis
from wlcg_collector.db import fleet
from wlcg_collector.db.fleet_statements import FleetSQL
from wlcg_collector.report import parse_report

T0 = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86400


def put(store, site, host, version, day):
    ts = T0 + day * DAY
    packages = [("p%d" % index, "0:%d.0-1.el9" % version, "x86_64") for index in range(3)]
    store.writer.store_report(parse_report(make_report(site, host, packages, ts=ts)),
                              ts + 10, "192.0.2.1")


def test_a_site_among_a_larger_fleet_is_read_host_by_host(store, monkeypatch):
    for site, count in (("T2_SMALL", 3), ("T2_LARGE", 9)):
        for number in range(count):
            host = "wn%02d.example.org" % number
            put(store, site, host, 1, 0)
            put(store, site, host, 2, 2)
    monkeypatch.setattr(fleet, "HOSTS_READ_BY_HOST", 1)  # more hosts than that
    by_package = FleetSQL.SELECT_CHANGED_INSTALLS_BY_PACKAGE.split(" (")[0]  # ...package_id IN

    def changes(site):
        sent = spy_statements(store, monkeypatch)
        rows = analysis.fleet_changes(store, T0 + DAY, site)
        monkeypatch.undo()
        monkeypatch.setattr(fleet, "HOSTS_READ_BY_HOST", 1)
        return rows, any(statement.startswith(by_package) for statement in sent)

    site_rows, site_by_package = changes("T2_SMALL")
    fleet_rows, fleet_by_package = changes(None)
    assert not site_by_package  # 3 hosts of 12: each host's own rows
    assert fleet_by_package     # the whole fleet: package row by package row
    assert len(site_rows) == 3 * 3
    assert site_rows == [row for row in fleet_rows if row.site == "T2_SMALL"]

"""A changed report's bookkeeping of the per-day bounds (quotas.py) is a
few statements whatever the scopes it counts on: one read of its host's,
sender's and site's rows before the work (on MariaDB, with the host's
row), one statement that counts the report on all of them, and one read
of what they hold then (on MariaDB, whose INSERT answers the rows it
wrote, none: the count says it). The whole report is a few statements
more: its host's open set is read with its row, and on MariaDB written
with it (open_sets.py)."""

from helpers import make_report
from test_first_report_statements import spy_statements
from wlcg_collector.report import parse_report
from wlcg_collector.statuses import CHANGED

T0 = 1767225600
DAY = 86400
PACKAGES = 500
# the read before the work (MariaDB: the host's row's statement), the
# count, the read after it (MariaDB: the count answers it)
QUOTA_STATEMENTS = {"sqlite": 3, "mysql": 2}
# the whole changed report, the quotas' among them: site, host and its
# open set (MariaDB: and the quotas' read), quotas, package rows found,
# made (5 new builds), intervals closed and opened, the open set (SQLite:
# on its own), report, host row
BOUND = {"sqlite": 13, "mysql": 9}


def packages(version=0):
    # 1 % of the packages change from one version to the next
    return [("pkg-%04d" % i, "0:1.%d-%d.el9" % (i, version if i < PACKAGES // 100 else 0),
             "x86_64") for i in range(PACKAGES)]


def send(store, version, at, host="wn01.example.org"):
    report = parse_report(make_report("T2_TEST", host, packages(version), ts=at))
    return store.writer.store_report(report, at + 60, "192.0.2.1")


def usage(store):
    return sorted(store.db.read("SELECT scope, day, reports, new_rows FROM quota_usage"))


def test_a_changed_report_counts_its_quotas_in_a_few_statements(store, monkeypatch):
    assert send(store, 0, T0).outcome == CHANGED
    sent = spy_statements(store, monkeypatch)
    assert send(store, 1, T0 + 3600).outcome == CHANGED
    quota = [s for s in sent if "quota_usage" in s]
    assert len(quota) == QUOTA_STATEMENTS[store.db.dialect.name], quota
    assert len(sent) <= BOUND[store.db.dialect.name], sent
    opened = PACKAGES // 100
    assert usage(store) == [("host", T0, 1, opened), ("sender", T0, 1, opened),
                            ("site", T0, 1, opened)]


def test_the_count_adds_to_the_days_rows_and_starts_again_the_next_day(store):
    opened = PACKAGES // 100
    assert send(store, 0, T0).outcome == CHANGED
    assert send(store, 1, T0 + 3600).outcome == CHANGED
    assert send(store, 2, T0 + 7200).outcome == CHANGED
    assert send(store, 0, T0 + 3600, host="wn02.example.org").outcome == CHANGED
    assert send(store, 1, T0 + 7200, host="wn02.example.org").outcome == CHANGED
    rows = usage(store)
    assert rows == sorted([("host", T0, 2, 2 * opened), ("host", T0, 1, opened),
                           ("sender", T0, 3, 3 * opened), ("site", T0, 3, 3 * opened)])
    assert send(store, 3, T0 + DAY + 3600).outcome == CHANGED
    rows = usage(store)
    assert ("host", T0 + DAY, 1, opened) in rows
    assert ("sender", T0 + DAY, 1, opened) in rows and ("site", T0 + DAY, 1, opened) in rows


def test_a_changed_reports_known_lines_are_not_split_into_fields(store, monkeypatch):
    """A changed report in the stored form is looked up by its lines: the
    packages the process knows are found by the line's text, and only the
    lines of the new builds are split into (name, version, arch); the
    report's packages as tuples are never made."""
    from wlcg_collector import report as report_module
    from wlcg_collector.db import packages as packages_module
    assert send(store, 0, T0).outcome == CHANGED
    split, asked = [], []
    for module in (report_module, packages_module):
        real = getattr(module, "split_lines", None)
        monkeypatch.setattr(module, "split_lines",
                            lambda lines, real=real: split.extend(lines) or real(lines),
                            raising=False)
    every = report_module.Report.packages
    monkeypatch.setattr(report_module.Report, "packages",
                        property(lambda self: asked.append(1) or every.fget(self)))
    assert send(store, 1, T0 + 3600).outcome == CHANGED
    assert asked == []
    assert split == ["\t".join(p) for p in packages(1)[:PACKAGES // 100]]
    monkeypatch.undo()
    host = store.hosts.find("wn01.example.org")
    assert store.hosts.state(host.id) == packages(1)

"""What changed since a time is read in several statements (a chunk of
hosts or of package rows each): all of them in one snapshot, so that a
report stored meanwhile is seen whole or not at all, never its closed
intervals without the ones it opened."""

import pytest

from helpers import make_report
from wlcg_collector.db import fleet, open_store
from wlcg_collector.report import parse_report

T0 = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86400
OTHERS = [("a%d" % index, "0:1.0-1.el9", "x86_64") for index in range(6)]
OLD = [("p1", "0:1.0-1.el9", "x86_64"), ("p2", "0:1.0-1.el9", "x86_64")]
NEW = [("p1", "0:2.0-1.el9", "x86_64"), ("p2", "0:2.0-1.el9", "x86_64")]


def put(store, host, packages, day):
    ts = T0 + day * DAY
    store.writer.store_report(parse_report(make_report("T2_SNAP", host, packages, ts=ts)),
                              ts + 10, "192.0.2.1")


@pytest.mark.parametrize("by_host", [0, 10 ** 6], ids=["by-package", "by-host"])
def test_a_report_stored_during_the_read_is_seen_whole_or_not_at_all(store, monkeypatch,
                                                                     by_host):
    put(store, "first.example.org", OTHERS, 0)   # the lowest host and package ids
    put(store, "second.example.org", OLD, 0)
    hosts = sorted(store.hosts.find(name, "T2_SNAP").id
                   for name in ("first.example.org", "second.example.org"))
    monkeypatch.setattr(fleet, "HOSTS_READ_BY_HOST", by_host)
    real_chunks, writer = fleet.chunks, open_store(store.db.dialect.describe())

    def one_at_a_time(items):
        # after the first chunk is read, another writer stores the second
        # host's upgrade of p1 and p2 (read in later chunks)
        for number, chunk in enumerate(real_chunks(items, 1)):
            if number == 1:
                put(writer, "second.example.org", NEW, 2)
            yield chunk
    monkeypatch.setattr(fleet, "chunks", one_at_a_time)
    try:
        assert store.fleet.changed_intervals(hosts, T0 + DAY) == {}
    finally:
        writer.close()
    monkeypatch.setattr(fleet, "chunks", real_chunks)
    after = store.fleet.changed_intervals(hosts, T0 + DAY)
    assert sorted((i.name, i.version, i.removed is None) for i in after[hosts[1]]) == [
        ("p1", "0:1.0-1.el9", False), ("p1", "0:2.0-1.el9", True),
        ("p2", "0:1.0-1.el9", False), ("p2", "0:2.0-1.el9", True)]


KERNELS = [("kernel", "0:5.%d-1.el9" % minor, "x86_64") for minor in range(4)]


def test_what_the_changes_read_besides_the_intervals_is_of_the_same_snapshot(store,
                                                                            monkeypatch):
    """The builds of the package asked about and the versions kept beside a
    replaced one are read with the changed intervals: a report stored
    between those reads showed an upgrade of the package as its removal, or
    a version installed beside a kept one as an upgrade."""
    from wlcg_collector import analysis
    put(store, "first.example.org", OTHERS, 0)
    put(store, "second.example.org", OTHERS + OLD + KERNELS[:2], 0)
    put(store, "second.example.org", OTHERS + NEW + KERNELS[:1] + KERNELS[2:3], 2)
    newer = [("p1", "0:3.0-1.el9", "x86_64"), NEW[1]]
    writer = open_store(store.db.dialect.describe())

    def after(method, packages, day, call=1):
        real, calls = getattr(store.fleet, method), []

        def hooked(*args, **kwargs):
            result = real(*args, **kwargs)
            calls.append(method)
            if len(calls) == call:  # another writer stores a report once this is read
                put(writer, "second.example.org", OTHERS + packages, day)
            return result
        monkeypatch.setattr(store.fleet, method, hooked)

    def actions(package=None):
        return [(row.action, row.name, row.old, row.new)
                for row in analysis.fleet_changes(store, T0 + DAY, package=package)]
    try:
        # the builds of p1 are read (for the hosts that changed, then for
        # their intervals), then p1 is upgraded to a new build
        after("packages_named", newer + KERNELS[:1] + KERNELS[2:3], 3, call=2)
        upgrade = ("upgraded", "p1", "0:1.0-1.el9", "0:2.0-1.el9")
        assert actions("p1") in ([upgrade], [upgrade, ("upgraded", "p1", "0:2.0-1.el9",
                                                        "0:3.0-1.el9")])
        monkeypatch.undo()
        # the changed intervals are read (5.1 replaced by 5.2 beside 5.0,
        # which stayed); then 5.0 goes
        after("changed_intervals", newer + KERNELS[2:3], 4)
        assert actions("kernel")[:2] == [("installed", "kernel", None, "0:5.2-1.el9"),
                                         ("removed", "kernel", "0:5.1-1.el9", None)]
    finally:
        writer.close()

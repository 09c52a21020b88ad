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

"""Each host's open set (host_sets, schema 12) is the set of package rows of
its open intervals, after every path that opens or closes them: ingest,
a rollback, a merge of sites (hosts joined, a host set aside), an
accepted report from the quarantine, a bulk load, the upgrade from
schema 11. A changed report is compared with it: its host's open
intervals are not read."""

import os

from helpers import ROOT, make_report
from test_first_report_statements import spy_statements
from wlcg_collector import trust
from wlcg_collector.db import SCHEMA_VERSION, open_store
from wlcg_collector.db.open_sets import HASH_BYTES, ids_of, pack, unpack
from wlcg_collector.db.records import BulkHost
from wlcg_collector.report import parse_report
from wlcg_collector.statuses import CHANGED, UNCHANGED

T0 = 1767225600
DAY = 86400


def packages(day, count=40):
    """A host's set on a day: a package goes, one comes, one is upgraded."""
    return [("pkg-%03d" % i, "0:1.%d-%d.el9" % (i, day if i % 10 == 3 else 1), "x86_64")
            for i in range(day, count + day)]


def send(store, day, site="T2_TEST", host="wn01.example.org", signer=None, rules=None):
    report = parse_report(make_report(site, host, packages(day), ts=T0 + day * DAY),
                          lazy=True)
    return store.writer.store_report(report, T0 + day * DAY + 60, "192.0.2.1", signer=signer,
                                     rules=rules or trust.Rules())


def stored_sets(store):
    """{host id: [package ids]} of host_sets."""
    return {host_id: list(unpack(ids)) for host_id, ids
            in store.db.read("SELECT host_id, ids FROM host_sets")}


def assert_open_sets_exact(store):
    """Every host's stored open set is its open intervals' package rows;
    no row for a host that has none, nor for a host that is gone."""
    open_rows = {}
    for host_id, package_id in store.db.read(
            "SELECT host_id, package_id FROM installs WHERE removed IS NULL"):
        open_rows.setdefault(host_id, []).append(package_id)
    expected = {host_id: sorted(ids) for host_id, ids in open_rows.items()}
    assert stored_sets(store) == expected
    hosts = {row[0]: row[1] and bytes(row[1])
             for row in store.db.read("SELECT id, set_hash FROM hosts")}
    assert set(expected) <= set(hosts)
    # each written with its host's set_hash as it is (open_sets.ids_of)
    for host_id, value in store.db.read("SELECT host_id, ids FROM host_sets"):
        assert bytes(value)[:HASH_BYTES] == (hosts[host_id] or bytes(HASH_BYTES))


def test_pack_and_unpack_keep_the_set_sorted():
    ids = [7, 1, 4294967295, 300000, 2]
    set_hash = b"h" * HASH_BYTES
    assert list(unpack(pack(ids, set_hash))) == sorted(ids)
    # the host's set_hash, then the ids little-endian, 4 bytes each
    assert pack([1, 2], set_hash) == set_hash + b"\x01\x00\x00\x00\x02\x00\x00\x00"
    assert pack([1], None) == bytes(HASH_BYTES) + b"\x01\x00\x00\x00"
    assert list(unpack(pack([], None))) == []


def test_a_value_is_read_only_for_the_set_it_was_written_with():
    set_hash = b"h" * HASH_BYTES
    value = pack([3, 1, 2], set_hash)
    assert list(ids_of(value, set_hash, 3)) == [1, 2, 3]
    assert list(ids_of(pack([5], None), None, 1)) == [5]
    assert ids_of(value, b"g" * HASH_BYTES, 3) is None  # written with another set
    assert ids_of(value, None, 3) is None
    assert ids_of(value, set_hash, 4) is None  # not an id a package
    assert ids_of(value[:-1], set_hash, 3) is None  # cut short
    assert ids_of(None, set_hash, 3) is None


def test_ingest_keeps_the_open_set(store):
    for day in range(4):
        assert send(store, day).outcome == CHANGED
        assert_open_sets_exact(store)
    send(store, 3)  # the same block again: a duplicate
    send(store, 2)  # older than the host's latest: recorded, never applied
    assert_open_sets_exact(store)
    assert len(stored_sets(store)) == 1


def test_a_changed_report_does_not_read_the_hosts_open_intervals(store, monkeypatch):
    send(store, 0)
    sent = spy_statements(store, monkeypatch)
    assert send(store, 1).outcome == CHANGED
    assert not [s for s in sent if "installs" in s and s.lstrip().upper().startswith("SELECT")]
    assert_open_sets_exact(store)


def test_a_host_without_its_open_set_has_its_intervals_read_once(store):
    """A host left without its row (none of the paths does; an interrupted
    upgrade could) is compared with its open intervals, and gets its row."""
    send(store, 0)
    send(store, 1)
    store.db.transaction(lambda cursor: cursor.execute("DELETE FROM host_sets"))
    assert send(store, 2).outcome == CHANGED
    assert_open_sets_exact(store)
    assert len(stored_sets(store)) == 1


def test_a_rollback_rebuilds_the_open_set(store):
    for day in range(4):
        send(store, day)
    host = store.hosts.find("wn01.example.org")
    store.review.rollback(host, T0 + DAY + 60)
    assert_open_sets_exact(store)
    assert stored_sets(store)[host.id] and store.hosts.state(host.id) == sorted(
        packages(1), key=lambda p: (p[0], p[2], p[1]))
    assert send(store, 4).outcome == CHANGED  # and the next report starts from there
    assert_open_sets_exact(store)


def test_a_merge_joins_the_open_sets_of_a_host_under_two_names(store):
    send(store, 0, site="T2_TYPO")
    send(store, 1, site="T2_TYPO")
    send(store, 2, site="T2_RIGHT")
    send(store, 3, site="T2_RIGHT")
    send(store, 0, site="T2_TYPO", host="wn02.example.org")
    assert len(stored_sets(store)) == 3
    done = store.sites.move("T2_TYPO", "T2_RIGHT", "merge", T0 + 5 * DAY, "officer")
    assert done.merged == 1
    assert_open_sets_exact(store)
    assert len(stored_sets(store)) == 2
    assert send(store, 4, site="T2_RIGHT").outcome == CHANGED
    assert_open_sets_exact(store)


def test_a_host_set_aside_by_a_merge_takes_its_open_set_along(store):
    rules = trust.Rules()
    one = trust.Signer(trust.HOST_KEY, b"\x01" * 32, None)
    two = trust.Signer(trust.HOST_KEY, b"\x02" * 32, None)
    send(store, 0, site="T2_TYPO", signer=one, rules=rules)
    send(store, 1, site="T2_RIGHT", signer=two, rules=rules)
    done = store.sites.move("T2_TYPO", "T2_RIGHT", "merge", T0 + 5 * DAY, "officer")
    assert len(done.set_aside) == 1
    assert_open_sets_exact(store)
    assert len(stored_sets(store)) == 1


def test_an_accepted_report_writes_the_open_set(store):
    one = trust.Signer(trust.HOST_KEY, b"\x01" * 32, None)
    two = trust.Signer(trust.HOST_KEY, b"\x02" * 32, None)
    send(store, 0, signer=one)
    assert send(store, 1, signer=two).outcome == "quarantined"
    [entry] = store.review.quarantined()
    entry = store.review.quarantined_one(entry.id)
    assert store.review.accept(entry, parse_report(entry.report), T0 + 2 * DAY,
                               "officer").outcome == CHANGED
    assert_open_sets_exact(store)
    assert send(store, 2, signer=two).outcome == CHANGED
    assert_open_sets_exact(store)


def test_a_bulk_load_writes_the_open_sets(store):
    rows = packages(0) + packages(5)[-5:]
    hosts = [BulkHost("T2_TEST", "wn%02d.example.org" % n, "rpm", "AlmaLinux 9.4", "5.14.0",
                      "x86_64", {}, 40, T0, T0 + DAY) for n in range(3)]
    intervals = [(h, p, T0, None if (h + p) % 7 else T0 + DAY)
                 for h in range(3) for p in range(len(rows))]
    store.testing.bulk_load("rpm", rows, hosts, iter(intervals))
    assert_open_sets_exact(store)
    assert len(stored_sets(store)) == 3
    # and a report to a loaded host changes what is open on it, not more
    assert send(store, 2, host="wn01.example.org").outcome == CHANGED
    assert_open_sets_exact(store)


def test_the_upgrade_to_schema_12_makes_every_hosts_open_set(fresh_database_url):
    store = open_store(fresh_database_url)
    try:
        dialect = store.db.dialect.name
        store.schema.run_file(os.path.join(ROOT, "tests", "fixtures", "schema-v11",
                                           dialect + ".sql"))
        assert store.schema.version() == 11
        for day in range(3):
            for host in ("wn01.example.org", "wn02.example.org"):
                _put_as_schema_11(store, day, host)
        assert store.schema.init() == (11, SCHEMA_VERSION)  # and on to the latest
        assert_open_sets_exact(store)
        assert len(stored_sets(store)) == 2
        assert send(store, 3).outcome == CHANGED
        assert_open_sets_exact(store)
    finally:
        store.close()


def _put_as_schema_11(store, day, host):
    """A changed report as a collector of schema 11 stored it: its intervals
    only (written here as that collector wrote them)."""
    sql = store.db.dialect.compile
    found = store.db.read_one(sql("SELECT id FROM hosts WHERE name = {p}"), (host,))

    def work(cursor):
        if found is None:
            cursor.execute(sql(
                "INSERT INTO hosts (site, name, packager, facts, package_count, first_report, "
                "last_report, last_received) VALUES ('T2_TEST', {p}, 'rpm', '{}', 0, {p}, {p}, "
                "{p})"), (host, T0, T0, T0))
            cursor.execute(sql("SELECT id FROM hosts WHERE name = {p}"), (host,))
        else:
            cursor.execute(sql("SELECT id FROM hosts WHERE name = {p}"), (host,))
        host_id = cursor.fetchone()[0]
        from wlcg_collector.db.packages import package_key
        wanted = set()
        for name, version, arch in packages(day):
            key = package_key("rpm", name, version, arch)
            cursor.execute(sql("SELECT id FROM packages WHERE key_hash = {p}"), (key,))
            row = cursor.fetchone()
            if row is None:
                cursor.execute(sql("INSERT INTO packages (packager, name, version, arch, "
                                   "key_hash) VALUES ('rpm', {p}, {p}, {p}, {p})"),
                               (name, version, arch, key))
                cursor.execute(sql("SELECT id FROM packages WHERE key_hash = {p}"), (key,))
                row = cursor.fetchone()
            wanted.add(row[0])
        cursor.execute(sql("SELECT package_id FROM installs WHERE host_id = {p} "
                           "AND removed IS NULL"), (host_id,))
        current = {row[0] for row in cursor.fetchall()}
        at = T0 + day * DAY
        for package_id in current - wanted:
            cursor.execute(sql("UPDATE installs SET removed = {p} WHERE host_id = {p} "
                               "AND package_id = {p} AND removed IS NULL"),
                           (at, host_id, package_id))
        for package_id in wanted - current:
            cursor.execute(sql("INSERT INTO installs (host_id, package_id, installed) "
                               "VALUES ({p}, {p}, {p})"), (host_id, package_id, at))
        cursor.execute(sql("UPDATE hosts SET last_report = {p}, set_hash = {p} "
                           "WHERE id = {p}"), (at, b"x" * 32, host_id))
    store.db.transaction(work)


def test_a_rollback_across_a_change_of_packager_hashes_the_set_as_it_was(store):
    """A host reinstalled with another packager, then rolled back to before
    it: its facts are those of then, and so is the packager its set hash
    is made with, so that the next report of the set it is back to is the
    same set (unchanged), not a change of nothing."""
    send(store, 0)
    report = parse_report(make_report("T2_TEST", "wn01.example.org",
                                      [("bash", "5.2.15-2+b2", "amd64")], ts=T0 + DAY,
                                      packager="dpkg", system="Debian GNU/Linux 12"))
    assert store.writer.store_report(report, T0 + DAY + 60, "192.0.2.1",
                                     rules=trust.Rules()).outcome == CHANGED
    host = store.hosts.find("wn01.example.org")
    assert host.packager == "dpkg"
    store.review.rollback(host, T0 + 60)
    assert_open_sets_exact(store)
    again = parse_report(make_report("T2_TEST", "wn01.example.org", packages(0),
                                     ts=T0 + 2 * DAY), lazy=True)
    assert store.writer.store_report(again, T0 + 2 * DAY + 60, "192.0.2.1",
                                     rules=trust.Rules()).outcome == UNCHANGED

"""Each host's open set (host_sets) against what could make it drift from
the open intervals: a report refused half-way (a quota counted after the
set was computed, a digest stored already, a bad package line in a
batch), reports of one second, a batch holding a body twice or a body
stored by an earlier batch, an upgrade from schema 11 interrupted and run
again, and a value in host_sets that is not the host's (a backup of
another time restored, a value cut short). Every one on both back ends."""

import os
import time

import pytest

from helpers import ROOT, make_report
from test_open_sets import T0, DAY, _put_as_schema_11, assert_open_sets_exact, packages, \
    send, stored_sets
from wlcg_collector import trust
from wlcg_collector.db import SCHEMA_VERSION, open_sets, open_store
from wlcg_collector.db.errors import QuotaExceeded
from wlcg_collector.db.quotas import Limits
from wlcg_collector.db.records import PendingReport
from wlcg_collector.report import ReportError, parse_report
from wlcg_collector.statuses import CHANGED, DUPLICATE, UNCHANGED

HOST = "wn01.example.org"


def text(day, host=HOST, site="T2_TEST", ts=None, extra=()):
    return make_report(site, host, packages(day) + list(extra),
                       ts=T0 + day * DAY if ts is None else ts)


def pending(body, received=None):
    return PendingReport(parse_report(body, lazy=True),
                         T0 + 10 * DAY if received is None else received, "192.0.2.1")


def open_state(store, host=HOST):
    """The host's packages now, from its open intervals."""
    return sorted(store.hosts.state(store.hosts.find(host).id))


def as_sent(day, extra=()):
    return sorted(tuple(p) for p in packages(day) + list(extra))


def assert_one_open_interval_a_package(store):
    assert not store.db.read("SELECT host_id, package_id FROM installs WHERE removed IS NULL "
                             "GROUP BY host_id, package_id HAVING COUNT(*) > 1")


def set_value(store, host_id, value):
    sql = store.db.dialect.compile
    store.db.transaction(lambda cursor: cursor.execute(
        sql("UPDATE host_sets SET ids = {p} WHERE host_id = {p}"), (value, host_id)))


# -- a report refused half-way leaves the set as its intervals are

def test_a_quota_counted_after_the_set_was_computed_leaves_it_untouched(store):
    send(store, 0)
    limits = Limits(new_rows_per_host=3)
    report = parse_report(text(5), lazy=True)  # five days on: more new rows than three
    with pytest.raises(QuotaExceeded):
        store.writer.store_report(report, T0 + 5 * DAY + 60, "192.0.2.1", limits=limits)
    assert_open_sets_exact(store)
    assert open_state(store) == as_sent(0)
    assert send(store, 1).outcome == CHANGED
    assert_open_sets_exact(store)
    assert open_state(store) == as_sent(1)


def test_a_digest_stored_already_found_after_the_set_was_changed(store):
    """The same body again after another report of the same second changed
    the host: the set is computed and written, then its digest is found on
    the audit trail and the transaction rolls back."""
    first = text(0, ts=T0)
    second = text(1, ts=T0)  # the same second, another set
    for body in (first, second):
        assert store.writer.store_report(parse_report(body, lazy=True), T0 + 60,
                                         "192.0.2.1").outcome == CHANGED
    assert store.writer.store_report(parse_report(first, lazy=True), T0 + 70,
                                     "192.0.2.1").outcome == DUPLICATE
    assert_open_sets_exact(store)
    assert open_state(store) == as_sent(1)
    # and in a batch
    results = store.writer.store_reports([pending(first), pending(text(2, ts=T0))])
    assert [r.outcome for r in results] == [DUPLICATE, CHANGED]
    assert_open_sets_exact(store)
    assert open_state(store) == as_sent(2)
    assert_one_open_interval_a_package(store)


def test_reports_of_one_second_back_and_forth(store):
    """A package removed and installed again within one second: no
    interval that ends where it begins, and the set is the last one's."""
    for n, day in enumerate([0, 1, 0, 2, 0, 0]):
        extra = [("extra", "0:%d-1" % n, "noarch")]
        result = store.writer.store_report(parse_report(text(day, ts=T0, extra=extra),
                                                        lazy=True), T0 + 60 + n, "192.0.2.1",
                                           limits=Limits(changed_reports_per_host=10))
        assert result.outcome == CHANGED
        assert_open_sets_exact(store)
    assert open_state(store) == as_sent(0, [("extra", "0:5-1", "noarch")])
    assert not store.db.read("SELECT 1 FROM installs WHERE removed IS NOT NULL "
                             "AND removed <= installed")
    assert_one_open_interval_a_package(store)


# -- the batch path

def test_a_batch_with_one_body_twice_stores_it_once(store):
    results = store.writer.store_reports([pending(text(0)), pending(text(1)), pending(text(0)),
                                          pending(text(1))])
    assert [r.outcome for r in results] == [CHANGED, CHANGED, DUPLICATE, DUPLICATE]
    assert sorted(r[0] for r in store.db.read("SELECT duplicates FROM reports")) == [1, 1]
    assert_open_sets_exact(store)
    assert open_state(store) == as_sent(1)


def test_a_body_of_an_earlier_batch_twice_in_a_later_one(store):
    assert [r.outcome for r in store.writer.store_reports([pending(text(0))])] == [CHANGED]
    results = store.writer.store_reports([pending(text(0)), pending(text(1)),
                                          pending(text(0))])
    assert [r.outcome for r in results] == [DUPLICATE, CHANGED, DUPLICATE]
    assert sorted(r[0] for r in store.db.read("SELECT duplicates FROM reports")) == [0, 2]
    assert_open_sets_exact(store)


def test_a_bad_report_in_a_batch_fails_alone(store):
    """A package line read only when its report is stored (lazy parsing)
    fails the batch's transaction; every other report is stored once, the
    resent one counted once, and each host's set is its intervals'."""
    store.writer.store_reports([pending(text(0)), pending(text(0, host="wn02.example.org"))])
    bad = make_report("T2_TEST", HOST, packages(3) + [("bad name", "0:1-1", "x86_64")],
                      ts=T0 + 3 * DAY)
    batch = [pending(text(1)), pending(text(0, host="wn02.example.org")),
             pending(text(1, host="wn02.example.org")), pending(bad), pending(text(2))]
    results = store.writer.store_reports(batch)
    assert [getattr(r, "outcome", None) for r in results] == [CHANGED, DUPLICATE, CHANGED, None,
                                                              CHANGED]
    assert isinstance(results[3], ReportError)
    assert sorted(r[0] for r in store.db.read("SELECT duplicates FROM reports")) == [0] * 4 + [1]
    assert_open_sets_exact(store)
    assert open_state(store) == as_sent(2)
    assert open_state(store, "wn02.example.org") == as_sent(1)


def test_a_site_renamed_between_two_batches_of_its_hosts(store):
    store.writer.store_reports([pending(text(0, site="T2_OLD")),
                                pending(text(0, host="wn02.example.org", site="T2_OLD"))])
    store.sites.move("T2_OLD", "T2_NEW", "rename", T0 + DAY, "officer")
    results = store.writer.store_reports([pending(text(1, site="T2_OLD")),
                                          pending(text(1, host="wn02.example.org",
                                                       site="T2_NEW"))])
    assert [(r.outcome, r.site.site) for r in results] == [(CHANGED, "T2_NEW")] * 2
    assert len(store.db.read("SELECT id FROM hosts")) == 2
    assert_open_sets_exact(store)


# -- the upgrade from schema 11, interrupted

def test_the_upgrade_interrupted_and_run_again(fresh_database_url, monkeypatch):
    store = open_store(fresh_database_url)
    try:
        store.schema.run_file(os.path.join(ROOT, "tests", "fixtures", "schema-v11",
                                           store.db.dialect.name + ".sql"))
        hosts = ["wn%02d.example.org" % n for n in range(4)]
        for day in range(2):
            for host in hosts:
                _put_as_schema_11(store, day, host)
        monkeypatch.setattr(open_sets, "RANGE", 1)
        rebuild_range, done = open_sets.rebuild_range, []

        def stop_after_two(*args):
            if len(done) == 2:
                raise RuntimeError("the upgrade's process is stopped")
            rebuild_range(*args)
            done.append(args)
        monkeypatch.setattr(open_sets, "rebuild_range", stop_after_two)
        with pytest.raises(RuntimeError):
            store.schema.init()
        monkeypatch.setattr(open_sets, "rebuild_range", rebuild_range)
        assert store.schema.init() == (12, SCHEMA_VERSION)  # and on to the latest
        assert len(stored_sets(store)) == 2  # two hosts made, two left to their reports
        for host in hosts:
            report = parse_report(text(2, host=host), lazy=True)
            assert store.writer.store_report(report, T0 + 2 * DAY + 60,
                                             "192.0.2.1").outcome == CHANGED
            assert open_state(store, host) == as_sent(2)
        assert_open_sets_exact(store)
        assert_one_open_interval_a_package(store)
    finally:
        store.close()


# -- a value in host_sets that is not the host's

def test_a_restored_backup_of_another_size_is_not_trusted(store):
    """host_sets restored from a backup of another day (the operator's
    mistake): the host's next changed report must still leave exactly
    its packages open."""
    send(store, 0)
    [(host_id, old)] = store.db.read("SELECT host_id, ids FROM host_sets")
    send(store, 1, host=HOST)
    extra = [("extra", "0:1-1", "noarch")]
    report = parse_report(text(2, extra=extra), lazy=True)
    assert store.writer.store_report(report, T0 + 2 * DAY + 60, "192.0.2.1").outcome == CHANGED
    set_value(store, host_id, bytes(old))  # 40 ids; the host has 41 open
    assert store.writer.store_report(parse_report(text(3), lazy=True), T0 + 3 * DAY + 60,
                                     "192.0.2.1").outcome == CHANGED
    assert open_state(store) == as_sent(3)
    assert_one_open_interval_a_package(store)
    assert_open_sets_exact(store)


def test_a_value_cut_short_is_read_as_no_value(store):
    send(store, 0)
    [(host_id, value)] = store.db.read("SELECT host_id, ids FROM host_sets")
    set_value(store, host_id, bytes(value)[:-1])
    assert send(store, 1).outcome == CHANGED
    assert open_state(store) == as_sent(1)
    assert_open_sets_exact(store)


def test_an_unchanged_report_never_reads_the_value(store):
    send(store, 0)
    [(host_id, _)] = store.db.read("SELECT host_id, ids FROM host_sets")
    set_value(store, host_id, b"\xff")
    report = parse_report(text(0, ts=T0 + DAY), lazy=True)
    assert store.writer.store_report(report, T0 + DAY + 60, "192.0.2.1").outcome == UNCHANGED


def test_signed_reports_of_one_host_and_its_replays(store):
    signer = trust.Signer(trust.HOST_KEY, b"\x01" * 32, None)
    for day in (0, 1):
        assert send(store, day, signer=signer).outcome == CHANGED
    assert send(store, 0, signer=signer).outcome in (DUPLICATE, "replayed")
    assert_open_sets_exact(store)


def test_a_collector_of_schema_11_still_running_after_the_upgrade(store):
    """A collector process of the version before (Apache not yet reloaded
    after init-db, or another collector host not yet upgraded) stores a
    changed report: it writes the intervals and the host's row, never
    host_sets. The host's next report through this version must still
    leave exactly its packages open, though the set it found had as
    many ids as the host has packages."""
    send(store, 0)
    _put_as_schema_11(store, 1, HOST)  # 40 packages, as on day 0
    assert send(store, 2).outcome == CHANGED
    assert open_state(store) == as_sent(2)
    assert_one_open_interval_a_package(store)
    assert_open_sets_exact(store)


def test_a_restored_backup_of_the_same_size_is_not_trusted(store):
    send(store, 0)
    [(host_id, old)] = store.db.read("SELECT host_id, ids FROM host_sets")
    send(store, 1)
    set_value(store, host_id, bytes(old))  # 40 ids, as now, but of day 0
    assert send(store, 2).outcome == CHANGED
    assert open_state(store) == as_sent(2)
    assert_one_open_interval_a_package(store)
    assert_open_sets_exact(store)


# -- writers of the same hosts in several processes, while the officer
# renames their site back and forth, rolls hosts back and the upgrade's
# rebuild of every open set runs again

CONCURRENT_HOSTS = ["c%d.example.org" % n for n in range(3)]
STEPS = 60


def _concurrent_set(host_index, step):
    return [("pkg-%02d" % i, "0:1.%d-%d.el9" % (i, 1 + (step + host_index + i) % 3), "x86_64")
            for i in range(10 + step % 4)]


def _concurrent_writer(args):
    url, worker = args
    store = open_store(url)
    limits = Limits(changed_reports_per_host=10 ** 6, new_rows_per_host=10 ** 9)
    stored = 0
    try:
        for step in range(worker, STEPS, 3):
            for host_index, host in enumerate(CONCURRENT_HOSTS):
                body = make_report("T2_A", host, _concurrent_set(host_index, step),
                                   ts=T0 + step * 60)
                store.writer.store_report(parse_report(body, lazy=True), T0 + step * 60 + 1,
                                          "192.0.2.%d" % worker, limits=limits)
                stored += 1
    finally:
        store.close()
    return stored


def _officer(url):
    store = open_store(url)
    try:
        names, done = ("T2_A", "T2_B"), []
        for turn in range(40):
            time.sleep(0.01)  # (the writers' reports come between)
            old, new = names[turn % 2], names[1 - turn % 2]
            try:
                store.sites.move(old, new, "rename", T0 + STEPS * 60, "officer")
                done.append("moved")
            except Exception as exc:
                done.append(repr(exc))
            for host in CONCURRENT_HOSTS:
                try:
                    found = store.hosts.find(host)
                    store.review.rollback(found, max(found.first_report,
                                                     found.last_report - 120))
                    done.append("rolled back")
                except Exception as exc:
                    done.append(repr(exc))
            open_sets.rebuild_all(store.db)
    finally:
        store.close()
    return done


def test_writers_of_one_host_while_the_officer_works(database_url):
    """(Each host is there before: a host's first report made at a name
    while a rename of it commits can be left at the old name on MariaDB,
    a matter of renames apart from the open sets.)"""
    import multiprocessing
    store = open_store(database_url)
    try:
        for host_index, host in enumerate(CONCURRENT_HOSTS):
            store.writer.store_report(parse_report(make_report(
                "T2_A", host, _concurrent_set(host_index, 0), ts=T0 - 60), lazy=True), T0 - 59,
                "192.0.2.9")
        context = multiprocessing.get_context("fork")
        with context.Pool(4) as pool:
            officer = pool.apply_async(_officer, (database_url,))
            stored = pool.map(_concurrent_writer, [(database_url, w) for w in range(3)])
            done = officer.get(timeout=300)
        assert done.count("moved") == 40 and done.count("rolled back") == 120, done
        assert sum(stored) == STEPS * len(CONCURRENT_HOSTS)
        assert_open_sets_exact(store)
        assert_one_open_interval_a_package(store)
        from wlcg_collector.report import package_set_hash
        for host in CONCURRENT_HOSTS:
            found = store.hosts.find(host)
            state = [tuple(p) for p in store.hosts.state(found.id)]
            [(set_hash,)] = store.db.read(store.db.dialect.compile(
                "SELECT set_hash FROM hosts WHERE id = {p}"), (found.id,))
            assert bytes(set_hash) == package_set_hash("rpm", sorted(state))
    finally:
        store.close()

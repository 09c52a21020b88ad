"""compare now with the holders kept between runs (compliance_cache.py):
always the answer a full compare gives, reading again only the hosts whose
sets changed."""

import json
import os
import shlex

import pytest

from helpers import ROOT, make_report, run_cli
from wlcg_collector import analysis, compliance_cache
from wlcg_collector.baselines import parse_baseline
from wlcg_collector.compliance_cache import (current_compliance, decode_holders,
                                             encode_holders)
from wlcg_collector.db import StoreError, open_store
from wlcg_collector.db.database import PARTS_PER_CONNECTION
from wlcg_collector.db.site_store import RENAME
from wlcg_collector.report import parse_report

DAY = 86400
T0 = 1700000000 - 1700000000 % DAY
X_OLD, X_NEW = ("xrootd", "1:5.6.9-1.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")
K_OLD = ("kernel", "0:5.14.0-427.13.1.el9_4", "x86_64")
K_NEW = ("kernel", "0:5.14.0-503.11.1.el9_5", "x86_64")
BASH = ("bash", "0:5.1.8-9.el9", "x86_64")
BASELINE = """\
[system: el9]
xrootd >= 1:5.7.1-1.el9
kernel >= 5.14.0-500
[all]
bash >= 5
"""


class Clock(object):
    """Report times that only go forward."""

    def __init__(self):
        self.now = T0

    def __call__(self):
        self.now += 60
        return self.now


def report(store, clock, site, host, packages, system="AlmaLinux 9.4"):
    ts = clock()
    return store.writer.store_report(parse_report(make_report(site, host, packages, ts=ts,
                                                              system=system)), ts, "192.0.2.1")


def small_grid(store, clock):
    """80 hosts on 4 sites (ids over two 64-bit words), of varied sets."""
    for n in range(80):
        packages = [X_NEW if n % 3 == 0 else X_OLD, BASH] + ([K_OLD] if n % 5 else []) + \
            ([K_NEW] if n % 7 == 0 else [])
        report(store, clock, "T2_S%d" % (n % 4), "h%02d.example.org" % n, packages,
               system="CentOS Linux 7" if n % 13 == 0 else "AlmaLinux 9.4")


def same_answer(store, requirements, warnings=None):
    """The kept compare (a ComplianceAnswer), checked against a full one;
    its warnings go on the list `warnings`, if given."""
    kept = current_compliance(store, requirements)
    fresh = analysis.compliance(store, requirements, None)
    assert kept.compliance.rows() == fresh.rows()
    assert kept.compliance.summary() == fresh.summary()
    assert kept.compliance.behind_counts() == fresh.behind_counts()
    assert kept.compliance.hosts_behind(3) == fresh.hosts_behind(3)
    if warnings is not None:
        warnings.extend(kept.warnings)
    return kept


def build_small_grid(url):
    """small_grid in a database of its own: the clock's time after it."""
    store = open_store(url)
    try:
        clock = Clock()
        small_grid(store, clock)
        return clock.now
    finally:
        store.close()


@pytest.fixture
def grid(database_url, built_databases):
    """small_grid, built once a process and back end, copied to the test's
    database."""
    clock = Clock()
    clock.now = built_databases.copy(build_small_grid, database_url)
    store = open_store(database_url)
    yield store, clock, parse_baseline(BASELINE, "osg")
    store.close()


def test_nothing_changed_reads_the_kept_holders(grid):
    store, clock, requirements = grid
    assert same_answer(store, requirements).recomputed is None  # the first: a full run
    assert same_answer(store, requirements).recomputed == []
    row = store.holders.cached(compliance_cache.names_hash(requirements))
    assert row is not None
    hosts = store.fleet.hosts_at(analysis.FAR_FUTURE)
    assert compliance_cache.decode_sets(row.set_reports) == {host.id: host.set_report
                                                        for host in hosts}
    assert store.fleet.set_reports() == {host.id: host.set_report for host in hosts}


def test_a_set_changed_while_the_holders_are_read_is_read_again(grid, monkeypatch):
    """A report lands after the holders were read and before the hosts
    (a full read, which reads them at once), or after the hosts and
    before the changed hosts' holders (a kept row brought up to date):
    what is kept must not vouch for that host's new set."""
    store, clock, requirements = grid
    read_both, read_holders = store.fleet.hosts_and_holders, store.fleet.holder_bitmaps

    def a_report(host):
        assert report(store, clock, "T2_S0", host, [X_NEW, BASH, K_NEW]).outcome == "changed"

    def holders_then_a_report_then_hosts(packages, at, hosts=True):
        _, holders = read_both(packages, at, hosts=False)
        a_report("h04.example.org")
        return store.fleet.hosts_at(at), holders

    def a_report_then_holders(packages, at, host_ids=None):
        a_report("h08.example.org")
        return read_holders(packages, at, host_ids)
    for name, patch, host in (("hosts_and_holders", holders_then_a_report_then_hosts,
                               "h04.example.org"),
                              ("holder_bitmaps", a_report_then_holders, "h08.example.org")):
        same_answer(store, requirements)
        if name == "hosts_and_holders":  # nothing kept: a full read
            store.db.transaction(lambda cursor: cursor.execute("DELETE FROM holders_cache"))
        else:  # one host to read again
            assert report(store, clock, "T2_S1", "h05.example.org", [BASH]).outcome == "changed"
        monkeypatch.setattr(store.fleet, name, patch)
        assert current_compliance(store, requirements).recomputed == (
            None if name == "hosts_and_holders" else [("T2_S1", "h05.example.org")])
        monkeypatch.undo()
        assert same_answer(store, requirements).recomputed == [("T2_S0", host)]


def test_a_host_that_comes_during_a_run_waits_for_the_next(grid, monkeypatch):
    store, clock, requirements = grid
    same_answer(store, requirements)
    store.db.transaction(lambda cursor: cursor.execute("DELETE FROM holders_cache"))
    vouch = store.fleet.set_reports

    def vouched_then_a_new_host():
        found = vouch()
        report(store, clock, "T2_S3", "late.example.org", [X_OLD, BASH])
        return found
    monkeypatch.setattr(store.fleet, "set_reports", vouched_then_a_new_host)
    result = current_compliance(store, requirements)
    monkeypatch.setattr(store.fleet, "set_reports", vouch)
    assert "late.example.org" not in {host.name for host in result.compliance.hosts}
    assert result.recomputed is None
    assert same_answer(store, requirements).recomputed == [("T2_S3", "late.example.org")]


def test_only_the_hosts_whose_sets_changed_are_read_again(grid):
    store, clock, requirements = grid
    same_answer(store, requirements)
    # an upgrade at one site
    assert report(store, clock, "T2_S1", "h01.example.org", [X_NEW, BASH, K_NEW]).outcome \
        == "changed"
    assert same_answer(store, requirements).recomputed == [("T2_S1", "h01.example.org")]
    # a report that changes nothing changes no set_report
    report(store, clock, "T2_S1", "h01.example.org", [X_NEW, BASH, K_NEW])
    assert same_answer(store, requirements).recomputed == []
    # a new host at a new site; a package removed
    report(store, clock, "T2_NEW", "n1.example.org", [X_OLD, BASH])
    report(store, clock, "T2_S2", "h02.example.org", [BASH])
    assert same_answer(store, requirements).recomputed == [("T2_NEW", "n1.example.org"),
                                                           ("T2_S2", "h02.example.org")]
    # the same packages under another system: nothing to read again, as the
    # baseline's scope is taken from the hosts as they are now
    assert report(store, clock, "T2_S3", "h03.example.org", [X_NEW, BASH, K_OLD],
                  system="CentOS Linux 7").outcome == "unchanged"
    kept = same_answer(store, requirements)
    assert kept.recomputed == []
    assert not any(row[1] == "h03.example.org" and row[2] == "kernel"
                   for row in kept.compliance.rows())


def test_a_rollback_has_the_host_read_again(grid):
    """Each rollback, a second one too, changes the host's set_report: it
    becomes the report that made the set the host is back to."""
    store, clock, requirements = grid
    report(store, clock, "T2_S2", "h06.example.org", [X_OLD, BASH])
    first = clock()
    report(store, clock, "T2_S2", "h06.example.org", [X_NEW, BASH])
    second = clock()
    report(store, clock, "T2_S2", "h06.example.org", [X_NEW, BASH, K_NEW])
    same_answer(store, requirements)
    host = store.hosts.find("h06.example.org", "T2_S2")
    wanted = ("T2_S2", "h06.example.org", "xrootd", "x86_64", X_OLD[1],
              "xrootd >= 1:5.7.1-1.el9", "behind")
    for back_to, behind in ((second, False), (first, True)):
        assert store.review.rollback(host, back_to).reports_rolled_back == 1
        kept = same_answer(store, requirements)
        assert kept.recomputed == [("T2_S2", "h06.example.org")]
        assert (wanted in kept.compliance.rows()) is behind


def test_renames_and_many_changed_hosts_start_again(grid, monkeypatch):
    store, clock, requirements = grid
    same_answer(store, requirements)
    store.sites.move("T2_S3", "T2_RENAMED", RENAME, clock(), "officer")
    assert same_answer(store, requirements).recomputed is None
    assert same_answer(store, requirements).recomputed == []
    monkeypatch.setattr(compliance_cache, "FEW_HOSTS", 1)
    report(store, clock, "T2_S0", "h00.example.org", [X_OLD, BASH])
    report(store, clock, "T2_S1", "h01.example.org", [X_OLD, BASH])
    assert same_answer(store, requirements).recomputed is None  # two hosts > one


def test_baselines_of_the_same_names_share_what_is_kept(grid):
    store, clock, requirements = grid
    same_answer(store, requirements)
    other = parse_baseline("bash >= 6\nkernel >= 5.14.0-600\nxrootd >= 1:5.6\n", "other")
    assert same_answer(store, other).recomputed == []
    fewer = parse_baseline("bash >= 6\n", "fewer")
    assert same_answer(store, fewer).recomputed is None  # other names: its own row


def test_unreadable_or_refused_kept_holders_cost_a_full_run(grid, monkeypatch):
    store, clock, requirements = grid
    same_answer(store, requirements)
    for column, what in (("holders", "holders"), ("set_reports", "sets")):
        store.db.transaction(lambda cursor: cursor.execute(store.db.dialect.compile(
            "UPDATE holders_cache SET %s = {p}" % column), (b"junk",)))
        warnings = []
        assert same_answer(store, requirements, warnings).recomputed is None
        assert len(warnings) == 1 and "\n" not in warnings[0]
        assert warnings[0].startswith("compare's kept holders not used: kept %s unreadable"
                                      % what)
        assert same_answer(store, requirements).recomputed == []  # kept again, good this time

    class Refusing(object):
        def cached(self, key):
            return None

        def keep(self, key, kept):
            raise StoreError("holders_cache: packet too large")

    class RefusingStore(object):
        holders = Refusing()
    kept = current_compliance(store, requirements, RefusingStore())
    assert kept.compliance.rows() == analysis.compliance(store, requirements, None).rows()
    assert kept.warnings == ["compare's holders not kept: holders_cache: packet too large"]
    # too big to keep: not kept, and nothing said
    store.db.transaction(lambda cursor: cursor.execute("DELETE FROM holders_cache"))
    monkeypatch.setattr(compliance_cache, "KEPT_LIMIT", 10)
    warnings = []
    assert same_answer(store, requirements, warnings).recomputed is None
    assert same_answer(store, requirements, warnings).recomputed is None
    assert warnings == []


def test_warnings_come_back_as_data_and_nothing_is_printed(grid, capsys):
    """compare now is officer logic: what went wrong with a kept row comes
    back for the command or the pages to show, and the Compliance carries
    no attribute of the cache's."""
    store, clock, requirements = grid
    same_answer(store, requirements)
    store.db.transaction(lambda cursor: cursor.execute(store.db.dialect.compile(
        "UPDATE holders_cache SET holders = {p}"), (b"junk",)))
    capsys.readouterr()
    answer = current_compliance(store, requirements)
    kept = compliance_cache.keep_holders(store, [("osg", requirements)])
    assert capsys.readouterr() == ("", "")
    assert answer.recomputed is None and not hasattr(answer.compliance, "recomputed")
    assert [w.split(":")[0] for w in answer.warnings] == ["compare's kept holders not used"]
    assert kept.warnings == []  # (the row was kept again, good, by the compare)


def test_the_command_and_the_pages_print_the_warnings_as_before(grid, tmp_path, capsys):
    from wlcg_collector.pages import OfficerPages
    from wlcg_collector.readers import SiteReaders

    class Config(object):
        stale_days, os_streams, officer_allow, site_readers = 14, [], [], SiteReaders()
    store, clock, requirements = grid
    store.baselines.add("osg", BASELINE, clock())
    warned = "wlcg-collector: warning: compare's kept holders not used: kept holders unreadable"
    for show in (lambda: run_cli(["--db", store.db.dialect.describe(), "compare", "osg"])[2],
                 lambda: OfficerPages(Config(), store).compliance(requirements) and
                 capsys.readouterr().err):
        same_answer(store, requirements)
        store.db.transaction(lambda cursor: cursor.execute(store.db.dialect.compile(
            "UPDATE holders_cache SET holders = {p}"), (b"junk",)))
        capsys.readouterr()
        err = show()
        assert err.startswith(warned) and len(err.splitlines()) == 1


def test_only_the_newest_rows_are_kept(grid, monkeypatch):
    store, clock, requirements = grid
    monkeypatch.setattr("wlcg_collector.db.holders_cache.HOLDERS_KEPT", 2)
    for text in ("bash >= 5\n", "kernel >= 5\n", "xrootd >= 5\n"):
        clock()
        current_compliance(store, parse_baseline(text, "b"), now=clock.now)
    kept = store.db.read("SELECT COUNT(*) FROM holders_cache")[0][0]
    assert kept == 2
    assert store.holders.cached(compliance_cache.names_hash(parse_baseline(
        "bash >= 5\n", "b"))) is None  # the oldest went


def test_holders_bytes_round_trip_and_refuse_garbage():
    won = {7: 1 << 8 * 3, 9: 0, 12: (1 << 8 * 64) | 1}
    assert decode_holders(encode_holders(won, 65)) == won
    for data in (b"", b"junk", compliance_cache.zlib.compress(b"\x01\x00\x00\x00"),
                 encode_holders(won, 65)[:-3],
                 compliance_cache.zlib.compress(
                     compliance_cache.zlib.decompress(encode_holders(won, 65)) + b"x")):
        with pytest.raises(ValueError):
            decode_holders(data)


def test_compare_command_keeps_its_holders(grid, tmp_path):
    store, clock, requirements = grid
    path = tmp_path / "osg.txt"
    path.write_text(BASELINE)
    db = store.db.dialect.describe()
    first = run_cli(["--db", db, "compare", str(path), "--format", "json"])
    assert first[0] == 0 and first[2] == ""
    assert store.holders.cached(compliance_cache.names_hash(requirements)) is not None
    report(store, clock, "T2_S1", "h05.example.org", [X_NEW, BASH, K_NEW])
    second = run_cli(["--db", db, "compare", str(path), "--format", "json"])
    fresh = analysis.compliance(store, requirements, None).rows()
    assert [tuple(r[c] for c in analysis.COMPLIANCE_COLUMNS) for r in json.loads(second[1])] \
        == [tuple(r) for r in fresh]
    assert json.loads(second[1]) != json.loads(first[1])
    # a past date or one site: worked out directly, the same as before
    assert run_cli(["--db", db, "compare", str(path), "--site", "T2_S1", "--format",
                    "json"])[0] == 0


def test_sets_bytes_round_trip_and_refuse_garbage():
    data = compliance_cache.encode_sets({3: 17, 2 ** 40: 0})
    assert compliance_cache.decode_sets(data) == {3: 17, 2 ** 40: 0}
    assert compliance_cache.decode_sets(compliance_cache.encode_sets({})) == {}
    for bad in (b"", b"junk", data[:-2], compliance_cache.zlib.compress(
            compliance_cache.zlib.decompress(data) + b"x")):
        with pytest.raises(ValueError):
            compliance_cache.decode_sets(bad)


def test_a_stored_baseline_is_kept_when_added(grid, tmp_path):
    """The officer's first compare of a stored baseline reads no host."""
    store, clock, requirements = grid
    path = tmp_path / "osg.txt"
    path.write_text(BASELINE)
    code, out, err = run_cli(["--db", store.db.dialect.describe(), "baseline", "add", "osg", path])
    assert (code, out, err) == (0, "baseline osg revision 1: 3 requirement(s)\n", "")
    assert store.holders.cached(compliance_cache.names_hash(requirements)) is not None
    assert same_answer(store, requirements).recomputed == []


def test_a_baseline_stored_while_its_holders_cannot_be_kept_is_stored(grid, tmp_path,
                                                                      monkeypatch):
    store, clock, requirements = grid
    path = tmp_path / "osg.txt"
    path.write_text(BASELINE)

    def refuse(*args, **kwargs):
        raise StoreError("database unavailable")
    monkeypatch.setattr(compliance_cache, "current_holders", refuse)
    code, out, err = run_cli(["--db", store.db.dialect.describe(), "baseline", "add", "osg", path])
    assert code == 0 and out == "baseline osg revision 1: 3 requirement(s)\n"
    assert err == "wlcg-collector: warning: compare's holders not kept: database unavailable\n"
    assert store.baselines.get("osg").revision == 1


def test_baseline_keep_brings_every_stored_baseline_up_to_date(grid, tmp_path):
    store, clock, requirements = grid
    db = store.db.dialect.describe()
    for name, text in (("osg", BASELINE), ("bash-only", "bash >= 6\n"),
                       ("osg-again", "bash >= 6\nkernel >= 5.14.0-600\nxrootd >= 1:5.6\n")):
        (tmp_path / name).write_text(text)
        clock()
        store.baselines.add(name, text, clock.now)  # stored, not kept
    report(store, clock, "T2_S1", "h05.example.org", [X_NEW, BASH, K_NEW])
    code, out, err = run_cli(["--db", db, "baseline", "keep"])
    assert code == 0 and err == ""
    lines = out.splitlines()
    # newest first; baselines of the same names share one row, read once
    assert [line.split(":")[0] for line in lines] == ["osg-again, osg", "bash-only"]
    assert all("the whole fleet read (80 hosts)" in line for line in lines)
    for name, text in (("osg", BASELINE), ("bash-only", "bash >= 6\n")):
        assert same_answer(store, parse_baseline(text, name)).recomputed == []
    report(store, clock, "T2_S2", "h06.example.org", [X_OLD, BASH])
    code, out, err = run_cli(["--db", db, "baseline", "keep", "osg"])
    assert (code, err) == (0, "")
    assert out.startswith("osg: 1 host(s) read again, ")
    assert same_answer(store, requirements).recomputed == []
    assert run_cli(["--db", db, "baseline", "keep", "--quiet"]) == (0, "", "")
    code, out, err = run_cli(["--db", db, "baseline", "keep", "osg", "nope"])
    assert (code, out, err) == (1, "", "wlcg-collector: unknown baseline(s): nope: stored "
                                       "ones are bash-only, osg, osg-again\n")
    code, out, err = run_cli(["--db", db, "baseline", "keep", "osgg", "nope"])
    assert (code, out, err) == (1, "", "wlcg-collector: unknown baseline(s): nope, osgg (did "
                                       "you mean osg?)\n")


def test_baseline_keep_says_which_baselines_it_cannot_keep(grid, monkeypatch):
    store, clock, requirements = grid
    monkeypatch.setattr(compliance_cache, "HOLDERS_KEPT", 1)
    kept = compliance_cache.keep_holders(
        store, [("new", requirements), ("old", parse_baseline("bash >= 6\n", "old"))])
    assert [names for names, _, _ in kept.done] == [["new"]]
    assert kept.warnings == ["holders not kept for old: only the 1 newest baselines' package "
                             "names are kept"]
    assert store.holders.cached(compliance_cache.names_hash(requirements)) is not None
    # a stored text that no longer parses is named, the others are kept
    store.baselines.add("good", "kernel >= 6\n", clock())
    store.baselines.add("broken", "xrootd ?? 5\n", clock())
    code, out, err = run_cli(["--db", store.db.dialect.describe(), "baseline", "keep"])
    assert code == 0
    assert err.startswith("wlcg-collector: warning: broken@1:1: ") and len(err.splitlines()) == 1
    assert out.startswith("good: the whole fleet read (80 hosts), ")


def test_the_timer_keeps_every_stored_baseline_quietly(grid):
    """What wlcg-collector-baselines.service runs, as it runs it."""
    store, clock, requirements = grid
    store.baselines.add("osg", BASELINE, clock())
    with open(os.path.join(ROOT, "conf", "wlcg-collector-baselines.service")) as unit:
        command = [line.split("=", 1)[1] for line in unit.read().splitlines()
                   if line.startswith("ExecStart=")]
    assert len(command) == 1
    argv = shlex.split(command[0])
    assert argv[0] == "/usr/bin/wlcg-collector"
    assert run_cli(["--db", store.db.dialect.describe()] + argv[1:]) == (0, "", "")
    assert same_answer(store, requirements).recomputed == []


@pytest.mark.parametrize("connections", [1, 3])
def test_a_whole_fleet_read_in_parts_gives_the_same_answer(grid, connections, monkeypatch):
    """read_connections threads, each reading PARTS_PER_CONNECTION parts of
    the package rows in turn: every row read once, the answer unchanged."""
    store, clock, requirements = grid
    middle = clock()
    report(store, clock, "T2_S1", "h05.example.org", [X_NEW, BASH, K_NEW])
    report(store, clock, "T2_S2", "h06.example.org", [K_OLD])
    expected = {at: analysis.compliance(store, requirements, at).rows() for at in (middle, None)}
    other = open_store(store.db.dialect.describe(), read_connections=connections)
    parts = []
    real = other.db.dialect.holder_bitmaps

    def holder_bitmaps(cursor, package_ids, at):
        parts.append(sorted(package_ids))
        return real(cursor, package_ids, at)
    monkeypatch.setattr(other.db.dialect, "holder_bitmaps", holder_bitmaps)
    try:
        for at, rows in expected.items():
            del parts[:]
            assert analysis.compliance(other, requirements, at).rows() == rows
            rows_read = sorted(p for part in parts for p in part)
            assert rows_read == sorted(other.fleet.packages_named({r.name for r in requirements}))
            assert len(parts) == min(len(rows_read), PARTS_PER_CONNECTION * connections)
    finally:
        other.close()


def test_a_stored_baseline_found_current_is_not_pushed_out(grid, monkeypatch):
    """Only the newest rows are kept; baseline keep makes a row it found
    current count as new, so that compares of other names do not push it
    out between two runs."""
    store, clock, requirements = grid
    monkeypatch.setattr("wlcg_collector.db.holders_cache.HOLDERS_KEPT", 2)
    key = compliance_cache.names_hash(requirements)
    compliance_cache.keep_holders(store, [("osg", requirements)], now=clock())
    current_compliance(store, parse_baseline("bash >= 6\n", "x1"), now=clock())
    done = compliance_cache.keep_holders(store, [("osg", requirements)], now=clock()).done
    assert done[0][1].changed == []  # found current: not written, touched
    assert store.holders.cached(key).computed == clock.now
    current_compliance(store, parse_baseline("kernel >= 6\n", "x2"), now=clock())
    assert store.holders.cached(key) is not None
    assert same_answer(store, requirements).recomputed == []

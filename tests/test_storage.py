"""Storage and history on SQLite and on a real MariaDB: a host's package
sets over simulated days, duplicates, out-of-order arrival, shared rows."""

import time

import pytest

from helpers import make_report
from wlcg_collector import analysis, trust
from wlcg_collector.analysis import compliance
from wlcg_collector.silence import stale
from wlcg_collector.baselines import parse_baseline
from wlcg_collector.db import SCHEMA_VERSION, StoreError, UnknownHost
from wlcg_collector.history import changes
from wlcg_collector.report import is_site_name, parse_report
from wlcg_collector.site_names import site_order
from wlcg_collector.statuses import QUARANTINED
from wlcg_collector.topology import ListedSite

DAY = 86400
T0 = 1767225600  # 2026-01-01T00:00:00Z


def put(store, packages, day, host="wn01.example.org", site="T2_TEST", received=None,
        packager="rpm", **headers):
    report = parse_report(make_report(site, host, packages, ts=T0 + day * DAY,
                                      packager=packager, **headers))
    when = received if received is not None else T0 + day * DAY + 60
    return store.writer.store_report(report, when, "192.0.2.1")


def history(store, host="wn01.example.org", site=None, since=None):
    found = store.hosts.find(host, site)
    return changes(found.packager, store.hosts.intervals(found.id, since), since)


KERNEL1 = ("kernel", "0:5.14.0-427.13.1.el9_4", "x86_64")
KERNEL2 = ("kernel", "0:5.14.0-503.11.1.el9_5", "x86_64")
BASH = ("bash", "0:5.1.8-9.el9", "x86_64")
XROOTD_OLD = ("xrootd", "1:5.6.9-1.el9", "x86_64")
XROOTD_NEW = ("xrootd", "1:5.7.1-1.el9", "x86_64")
SCITOKENS = ("python3-scitokens", "0:1.8.1-1.el9", "noarch")
GLIBC64 = ("glibc", "0:2.34-100.el9", "x86_64")
GLIBC32 = ("glibc", "0:2.34-100.el9", "i686")

DAYS = [
    [BASH, KERNEL1, XROOTD_OLD, SCITOKENS, GLIBC64],                # 0: first report
    [BASH, KERNEL1, KERNEL2, XROOTD_NEW, SCITOKENS, GLIBC64],       # 1: kernel added, upgrade
    [BASH, KERNEL2, XROOTD_OLD, GLIBC64],                           # 2: kernel gone, downgrade, removal
    [BASH, KERNEL2, XROOTD_OLD, SCITOKENS, GLIBC32],                # 3: reinstall, arch change
]

_t = [T0 + day * DAY for day in range(4)]
EXPECTED_HISTORY = [
    (_t[0], "installed", "bash", "x86_64", None, BASH[1]),
    (_t[0], "installed", "glibc", "x86_64", None, GLIBC64[1]),
    (_t[0], "installed", "kernel", "x86_64", None, KERNEL1[1]),
    (_t[0], "installed", "python3-scitokens", "noarch", None, SCITOKENS[1]),
    (_t[0], "installed", "xrootd", "x86_64", None, XROOTD_OLD[1]),
    (_t[1], "installed", "kernel", "x86_64", None, KERNEL2[1]),
    (_t[1], "upgraded", "xrootd", "x86_64", XROOTD_OLD[1], XROOTD_NEW[1]),
    (_t[2], "removed", "kernel", "x86_64", KERNEL1[1], None),
    (_t[2], "removed", "python3-scitokens", "noarch", SCITOKENS[1], None),
    (_t[2], "downgraded", "xrootd", "x86_64", XROOTD_NEW[1], XROOTD_OLD[1]),
    (_t[3], "installed", "glibc", "i686", None, GLIBC32[1]),
    (_t[3], "removed", "glibc", "x86_64", GLIBC64[1], None),
    (_t[3], "installed", "python3-scitokens", "noarch", None, SCITOKENS[1]),
]


def test_history_over_several_days(store):
    outcomes = [put(store, packages, day).outcome for day, packages in enumerate(DAYS)]
    assert outcomes == ["changed"] * 4
    assert history(store) == EXPECTED_HISTORY
    host = store.hosts.find("wn01.example.org").id
    for day, packages in enumerate(DAYS):
        # the state during each day, and at the very second of its report
        assert store.hosts.state(host, T0 + day * DAY + 3600) == sorted(packages, key=sort_key)
        assert store.hosts.state(host, T0 + day * DAY) == sorted(packages, key=sort_key)
    assert store.hosts.state(host, T0 - 1) == []
    assert store.hosts.state(host) == sorted(DAYS[-1], key=sort_key)
    assert history(store, since=_t[2]) == history(store)[7:]


def sort_key(package):
    name, version, arch = package
    return (name, arch, version)


def test_unchanged_report_costs_one_report_row(store):
    put(store, DAYS[0], 0)
    before = store.testing.row_counts()
    for day in range(1, 6):
        assert put(store, DAYS[0], day).outcome == "unchanged"
    after = store.testing.row_counts()
    assert after["installs"] == before["installs"]
    assert after["packages"] == before["packages"]
    assert after["reports"] == before["reports"] + 5
    [row] = store.hosts.listed()
    assert row.last_report == T0 + 5 * DAY  # last report moves on
    assert row.first_report == T0 and row.packages == len(DAYS[0])


def test_same_report_twice_changes_nothing(store):
    report = parse_report(make_report(packages=DAYS[0], ts=T0))
    assert store.writer.store_report(report, T0 + 5, "192.0.2.1").outcome == "changed"
    before = store.testing.row_counts()
    assert store.writer.store_report(report, T0 + 50, "192.0.2.9").outcome == "duplicate"
    assert store.testing.row_counts() == before


def test_older_report_is_recorded_but_never_rewrites(store):
    put(store, DAYS[0], 0)
    put(store, DAYS[2], 2)
    state = store.hosts.state(store.hosts.find("wn01.example.org").id)
    events = history(store)
    assert put(store, DAYS[1], 1, received=T0 + 3 * DAY).outcome == "older"
    host = store.hosts.find("wn01.example.org")
    assert store.hosts.state(host.id) == state
    assert history(store) == events
    reports = store.hosts.reports(host.id)
    assert len(reports) == 3
    assert [(r.changed, r.applied) for r in reports] == [(1, 1), (1, 1), (0, 0)]
    assert host.first_report == T0 and host.last_report == T0 + 2 * DAY


def test_same_host_name_at_two_sites(store):
    put(store, DAYS[0], 0, site="T2_ALPHA", host="ce01.example.org")
    put(store, DAYS[3], 0, site="T2_BETA", host="ce01.example.org")
    with pytest.raises(UnknownHost) as err:
        store.hosts.find("ce01.example.org")
    assert "T2_ALPHA, T2_BETA" in str(err.value)
    alpha = store.hosts.find("ce01.example.org", "T2_ALPHA")
    beta = store.hosts.find("ce01.example.org", "T2_BETA")
    assert (alpha.site, beta.site) == ("T2_ALPHA", "T2_BETA") and alpha.id != beta.id
    assert store.hosts.get("T2_BETA", "CE01.example.org") == beta
    assert store.hosts.state(alpha.id) == sorted(DAYS[0], key=sort_key)
    assert store.hosts.state(beta.id) == sorted(DAYS[3], key=sort_key)
    assert [(s.site, s.hosts) for s in store.sites.reported()] == [("T2_ALPHA", 1), ("T2_BETA", 1)]
    assert store.sites.exists("T2_ALPHA") and not store.sites.exists("T2_GAMMA")
    with pytest.raises(UnknownHost) as err:
        store.hosts.find("ce01.example.org", "T2_GAMMA")
    assert str(err.value) == "unknown site 'T2_GAMMA'"
    with pytest.raises(UnknownHost) as err:
        store.hosts.get("T2_ALPHA", "ce02.example.org")
    assert str(err.value) == "unknown host 'ce02.example.org' at site 'T2_ALPHA'"
    with pytest.raises(UnknownHost) as err:
        store.hosts.find("nowhere.example.org")
    assert err.value.suggestions == ()
    # what was probably meant is apart from the message, which the pages
    # show as it is: a reader of one site must not see another's names
    with pytest.raises(UnknownHost) as err:
        store.hosts.find("ce01.example.orgg")
    assert str(err.value) == "unknown host 'ce01.example.orgg'"
    assert err.value.suggestions == ("ce01.example.org",)
    assert err.value.line() == "unknown host 'ce01.example.orgg': did you mean ce01.example.org?"
    with pytest.raises(UnknownHost) as err:
        store.hosts.get("T2_BETTA", "ce01.example.org")
    assert str(err.value) == "unknown site 'T2_BETTA'"
    assert err.value.suggestions == ("T2_BETA",)
    with pytest.raises(UnknownHost) as err:
        analysis.require_site(store, "T2-ALPHA")
    assert (str(err.value), err.value.suggestions) == ("unknown site 'T2-ALPHA'", ("T2_ALPHA",))


def test_package_rows_are_shared(store):
    for index in range(5):
        put(store, DAYS[0], 0, host="wn%02d.example.org" % index)
    counts = store.testing.row_counts()
    assert counts["packages"] == len(DAYS[0])
    assert counts["installs"] == 5 * len(DAYS[0])
    assert counts["hosts"] == 5


def test_host_names_are_case_insensitive(store):
    put(store, DAYS[0], 0, host="WN01.Example.ORG")
    assert put(store, DAYS[0], 1, host="wn01.example.org").outcome == "unchanged"
    assert store.hosts.find("Wn01.example.org").name == "wn01.example.org"


def test_future_ts_is_replaced_by_the_receive_time(store):
    received = T0 + 1000
    report = parse_report(make_report(packages=DAYS[0], ts=received + 3600))
    store.writer.store_report(report, received, "192.0.2.1")
    assert store.hosts.reports(store.hosts.find("wn01.example.org").id)[0].collected == received
    # within the allowed skew, the host's own time is kept
    report = parse_report(make_report(packages=DAYS[1], ts=received + 2000 + 120))
    store.writer.store_report(report, received + 2000, "192.0.2.1")
    assert store.hosts.reports(store.hosts.find("wn01.example.org").id)[1].collected == \
        received + 2120


def test_report_without_ts_uses_receive_time(store):
    report = parse_report(make_report(packages=DAYS[0]))
    store.writer.store_report(report, T0 + 77, "192.0.2.1")
    assert store.hosts.listed()[0].last_report == T0 + 77


def test_dpkg_host(store):
    packages = [("bash", "5.2.15-2+b2", "amd64"), ("libc6", "2.36-9+deb12u4", "amd64"),
                ("tzdata", "2024a-0+deb12u1", "all")]
    put(store, packages, 0, packager="dpkg")
    newer = [("bash", "5.2.15-2+b7", "amd64"), packages[1], ("tzdata", "2024a-0+deb12u1~1", "all")]
    put(store, newer, 1, packager="dpkg")
    events = history(store)[3:]
    assert [(e[1], e[2]) for e in events] == [("upgraded", "bash"), ("downgraded", "tzdata")]


def test_init_schema_is_idempotent_and_checked(store):
    assert store.schema.init() == (SCHEMA_VERSION, SCHEMA_VERSION)
    store.schema.check()


def test_check_schema_on_empty_database(fresh_database_url):
    """Storage says what it found; the start-up check says what to run."""
    from wlcg_collector import check_schema
    from wlcg_collector.db import open_store
    from wlcg_collector.db.errors import SchemaNotCurrent
    empty = open_store(fresh_database_url)
    try:
        with pytest.raises(SchemaNotCurrent) as err:
            empty.schema.check()
        assert (str(err.value), err.value.version) == ("database has no schema", None)
        with pytest.raises(StoreError) as err:
            check_schema(empty)
        assert str(err.value) == "database has no schema: run wlcg-collector init-db"
    finally:
        empty.close()


def test_a_second_set_at_the_same_time_replaces_the_first(store):
    """Two different sets collected at the same second: the packages only
    in the first never had an interval (none begins and ends at once)."""
    put(store, DAYS[0], 0)
    assert put(store, DAYS[1], 0, received=T0 + 120).outcome == "changed"
    host = store.hosts.find("wn01.example.org").id
    assert store.hosts.state(host) == sorted(DAYS[1], key=sort_key)
    intervals = store.hosts.intervals(host)
    assert sorted((n, v, a) for n, v, a, start, end in intervals) == sorted(DAYS[1])
    assert all(start == T0 and end is None for _, _, _, start, end in intervals)


def test_package_ids_are_remembered_only_after_a_commit(store, monkeypatch):
    """A transaction that made package rows and then failed leaves no id
    behind: the next report makes the rows again and stores right."""
    def broken(*args):
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(store.db.dialect, "insert_installs", broken)
    with pytest.raises(RuntimeError):
        put(store, DAYS[0], 0)
    assert len(store.writer.package_ids) == 0
    assert store.testing.row_counts()["packages"] == 0
    monkeypatch.undo()
    put(store, DAYS[0], 0)
    assert len(store.writer.package_ids) == len(DAYS[0])
    put(store, DAYS[1], 1, host="wn02.example.org")
    for host, day in (("wn01.example.org", 0), ("wn02.example.org", 1)):
        assert store.hosts.state(store.hosts.find(host).id) == sorted(DAYS[day], key=sort_key)
    assert store.testing.orphan_intervals() == 0


def test_package_ids_are_bounded():
    from wlcg_collector.db.packages import PackageIds
    ids = PackageIds(limit=3)
    ids.add("rpm", {("a", "0:1-1", "x"): 1, ("b", "0:1-1", "x"): 2})
    held = ids.table("rpm")
    ids.add("rpm", {("c", "0:1-1", "x"): 3, ("d", "0:1-1", "x"): 4})
    assert ids.table("rpm") == {("c", "0:1-1", "x"): 3, ("d", "0:1-1", "x"): 4}
    # a reader holding the old table still finds what it held
    assert held == {("a", "0:1-1", "x"): 1, ("b", "0:1-1", "x"): 2}
    assert ids.table("dpkg") == {}
    assert len(ids) == 2


def test_a_store_with_no_remembered_ids_stores_the_same(database_url):
    """package_cache=0: every report looks its package ids up."""
    from wlcg_collector.db import open_store
    store = open_store(database_url, package_cache=0)
    try:
        store.schema.init()
        for day, packages in enumerate(DAYS):
            put(store, packages, day)
            assert len(store.writer.package_ids) == 0
        assert history(store) == EXPECTED_HISTORY
    finally:
        store.close()


@pytest.mark.parametrize("version,has", [
    ("5.5.5-10.11.19-MariaDB-0+deb12u1", True),
    ("5.5.5-10.5.22-MariaDB", False),
    ("10.6.0-MariaDB", True),
    ("11.4.2-MariaDB-ubu2404", True),
    ("8.0.36", True),
    ("8.0.3-rc-log", False),
    ("5.7.44-log", False),
    ("", False),
])
def test_json_table_detection(version, has):
    from wlcg_collector.db.mysql import server_has_json_table
    assert server_has_json_table(version) is has


@pytest.mark.parametrize("version,has", [
    ("5.5.5-10.11.19-MariaDB-0+deb12u1", True),
    ("5.5.5-10.5.0-MariaDB", True),
    ("5.5.5-10.4.32-MariaDB", False),
    ("11.4.2-MariaDB-ubu2404", True),
    ("8.0.36", False),
    ("", False),
])
def test_returning_detection(version, has):
    from wlcg_collector.db.mysql import server_has_returning
    assert server_has_returning(version) is has


def test_mysql_without_returning_reads_what_it_wrote(mysql_url):
    """The path for MySQL and MariaDB before 10.5 (no INSERT ... RETURNING):
    the package rows made and the day's counts are read after writing."""
    from wlcg_collector.db import open_store
    store = open_store(mysql_url)
    try:
        store.schema.init()
        assert store.db.dialect.returning is True
        store.db.dialect.returning = False
        for day, packages in enumerate(DAYS):
            put(store, packages, day)
        assert history(store) == EXPECTED_HISTORY
        # (each day's count starts again: the last day's report)
        assert store.db.read("SELECT scope, day, reports FROM quota_usage ORDER BY scope") == [
            ("host", T0 + 3 * DAY, 1), ("sender", T0 + 3 * DAY, 1), ("site", T0 + 3 * DAY, 1)]
    finally:
        store.close()


def test_mysql_without_json_table_inserts_row_by_row(mysql_url):
    """The path for MariaDB before 10.6 and MySQL 5.7, on the real server."""
    from wlcg_collector.db import open_store
    store = open_store(mysql_url)
    try:
        store.schema.init()
        assert store.db.dialect.json_table is True
        store.db.dialect.json_table = False
        for day, packages in enumerate(DAYS):
            put(store, packages, day)
        assert store.db.dialect.json_table is False
        assert history(store) == EXPECTED_HISTORY
    finally:
        store.close()


def test_hosts_at_keeps_systems_as_reported(store):
    """A host that sent no system, one that sent an empty one, and one
    whose system holds spaces, brackets and non-ASCII letters: each comes
    back as stored."""
    def report(host, system_line):
        return parse_report(("#\nhost: %s\npackager: rpm\nsite: T2_AS\n%sts: %d\n#\n"
                             "bash\t0:5.1-1\tx86_64\n#\n" % (host, system_line, T0)).encode())
    for host, line in (("a.example.org", ""), ("b.example.org", "system:\n"),
                       ("c.example.org", "system: Rocky Linux 9.4 (Blue Onyx) ñ\n")):
        store.writer.store_report(report(host, line), T0, "192.0.2.1")
    hosts = store.fleet.hosts_at(T0)
    assert [h[1:5] for h in hosts] == [
        ("T2_AS", "a.example.org", "rpm", None),
        ("T2_AS", "b.example.org", "rpm", ""),
        ("T2_AS", "c.example.org", "rpm", "Rocky Linux 9.4 (Blue Onyx) ñ")]
    assert all(isinstance(h[0], int) for h in hosts)
    # the report that made each one's set: its first
    assert [h.set_report for h in hosts] == [r.id for h in hosts
                                             for r in store.hosts.reports(h.id)]
    assert store.fleet.hosts_at(T0 - 1) == []
    assert store.fleet.hosts_at(T0, site="T2_OTHER") == []


# site names that three orders put apart: their upper case (site_order,
# MariaDB's collation), their lower case (SQLite's NOCASE: '_' before the
# letters) and Python's own ('t2_B' after every 'T')
MIXED_SITES = ["T2_a", "T2A", "t2_B", "T2-Z", "T2~x", "T2.9", "t2[1]", "T2^", "T2`q", "T2{}"]


def mixed_sites(letter):
    """MIXED_SITES beginning with another letter, in the same case."""
    return [(letter if site[0] == "T" else letter.lower()) + site[1:] for site in MIXED_SITES]


def test_every_listing_orders_sites_alike_on_both_back_ends(store):
    """Sites in MariaDB's order (site_names.site_order: as their upper
    case), on SQLite too, whose NOCASE would put '_' before the letters;
    and in Python's sorts, whose own order would put 't2_B' after every
    'T'."""
    sites = MIXED_SITES
    for index, site in enumerate(sites):
        for host in ("wn%d.example.org" % index, "Wn.example.org", "_x.example.org"):
            store.writer.store_report(parse_report(("#\nhost: %s\npackager: rpm\nsite: %s\n"
                                                    "ts: %d\n#\nbash\t0:5.1-1\tx86_64\n#\n"
                                                    % (host, site, T0)).encode()), T0, "192.0.2.1")
    ordered = sorted(store.db.read("SELECT site, name FROM hosts"),
                     key=lambda row: (site_order(row[0]), row[1]))
    assert len(ordered) == 30
    if store.db.dialect.name == "mysql":  # the rule is the server's own
        assert store.db.read("SELECT site, name FROM hosts ORDER BY site, name") == ordered
    order = []
    for site, _ in ordered:
        if site not in order:
            order.append(site)
    assert [order.index(s) for s in sorted(sites, key=site_order)] == list(range(10))
    assert [(h.site, h.name) for h in store.fleet.hosts_at(T0)] == ordered
    assert [(h.site, h.name) for h in store.hosts.listed()] == ordered
    assert [(h.site, h.name) for h in store.sites.hosts()] == ordered
    assert [(h.site, h.name) for h in store.sites.hosts(sites)] == ordered
    assert [s.site for s in store.sites.reported()] == order
    assert [row[0] for row in store.sites.overview(T0)] == order
    assert [s.site for s in stale(store, 1, T0 + 30 * 86400)] == order
    result = compliance(store, parse_baseline("bash >= 6\n", "b"), None)
    assert [s.site for s in result.summary()] == order
    assert [h.name for h in store.fleet.hosts_at(T0, site="t2_b")] == [
        name for site, name in ordered if site == "t2_B"]


def test_the_list_aliases_keys_and_held_reports_are_in_site_order(store):
    """The other listings of sites, in site_order on both back ends as the
    hosts are (above): the list of sites, the aliases renames leave, the
    pinned site keys, the reports held for unknown sites, and the sites a
    host name is known at."""
    for old, new in zip(mixed_sites("R"), mixed_sites("N")):
        put(store, [BASH], 0, site=old)
        store.sites.move(old, new, "rename", T0 + DAY, "officer")
    assert [a.alias for a in store.sites.aliases()] == sorted(mixed_sites("R"), key=site_order)
    for site in MIXED_SITES:
        put(store, [BASH], 0, host="wn.example.org", site=site)
        store.db.transaction(lambda cursor: cursor.execute(
            store.db.sql.INSERT_SITE_KEY, (site, b"k" * 32, T0, "officer")))
    in_order = sorted(MIXED_SITES, key=site_order)
    assert [k.site for k in store.review.site_keys()] == in_order
    with pytest.raises(UnknownHost) as caught:
        store.hosts.find("wn.example.org")
    assert "known at several sites (%s)" % ", ".join(in_order) in str(caught.value)
    store.sites.import_list([ListedSite(site, None, None, None, None) for site in MIXED_SITES],
                            "test", "plain", T0 + DAY, "officer")
    assert [row.name for row in store.sites.rows()] == in_order
    for site in mixed_sites("U"):
        report = parse_report(make_report(site, "wn.example.org", [BASH], ts=T0 + DAY))
        assert store.writer.store_report(report, T0 + DAY, "192.0.2.1", rules=trust.Rules(
            unknown_sites="quarantine")).outcome == QUARANTINED
    assert [held[0] for held in store.sites.quarantined(trust.UNKNOWN_SITE)] == sorted(
        mixed_sites("U"), key=site_order)


def test_sql_and_python_order_site_names_alike(store):
    """site_order_sql over a site column of either back end orders every
    printable ASCII character as site_order does in Python."""
    names = [prefix + chr(code) for prefix in ("", "T2") for code in range(0x21, 0x7f)
             if is_site_name(prefix + chr(code))]
    hosts = [(site, "h%03d.example.org" % number) for number, site in enumerate(names)]

    def insert(cursor):
        for site, name in hosts:
            cursor.execute(store.db.sql.INSERT_HOST, (site, name, "rpm", T0, T0, T0, "officer"))
    store.db.transaction(insert)
    assert len(names) == 179  # (not / % ? #, nor a lone '.')
    assert [(h.site, h.name) for h in store.sites.hosts()] == sorted(
        hosts, key=lambda host: (site_order(host[0]), host[1]))


def test_a_question_mark_or_percent_in_a_literal_is_kept(store):
    """Only {p} is a placeholder: '?', '%' and '%s' inside literals stay
    text on both dialects, with and without other parameters."""
    sql = store.db.dialect.compile("SELECT '?', '%', '%s', 'a%%b', {p}")
    assert store.db.read(sql, (7,)) == [("?", "%", "%s", "a%%b", 7)]
    assert store.db.read(store.db.dialect.compile("SELECT '?%'")) == [("?%",)]


def test_bulk_load_leaves_what_ingest_leaves(database_url, tmp_path):
    """A history written by bulk_load reads back exactly as the same history
    ingested report by report."""
    from wlcg_collector.db import open_store
    from wlcg_collector.db.records import BulkHost
    packages = sorted({p for day in DAYS for p in day})
    ingested = open_store("sqlite:///%s" % (tmp_path / "ingested.db"))
    loaded = open_store(database_url)
    try:
        ingested.schema.init()
        loaded.schema.init()
        shape = loaded.testing.schema_shape()
        for day, day_packages in enumerate(DAYS):
            put(ingested, day_packages, day)
        index = {p: i for i, p in enumerate(packages)}
        intervals = [(0, index[(i.name, i.version, i.arch)], i.installed, i.removed)
                     for i in ingested.hosts.intervals(ingested.hosts.find("wn01.example.org").id)]
        host = BulkHost("T2_TEST", "wn01.example.org", "rpm", "AlmaLinux 9.4", "5.14.0",
                        "x86_64", {}, len(DAYS[-1]), T0, T0 + 3 * DAY)
        host_ids, package_ids = loaded.testing.bulk_load(
            "rpm", packages, [host], iter(intervals),
            [(0, T0 + day * DAY, len(DAYS[day])) for day in range(4)])
        assert len(host_ids) == 1 and len(package_ids) == len(packages)
        assert history(loaded) == EXPECTED_HISTORY
        assert loaded.testing.row_counts() == ingested.testing.row_counts()
        assert loaded.testing.schema_shape() == shape  # the indexes a bulk load drops are back
        # and it takes reports afterwards
        assert put(loaded, DAYS[0], 4).outcome == "changed"
        assert loaded.testing.orphan_intervals() == 0
    finally:
        ingested.close()
        loaded.close()


def test_a_mysql_deadlock_is_retried(mysql_url):
    """A real InnoDB deadlock: this store's transaction locks host A then
    B, another client (which has written more, so InnoDB rolls this one
    back) holds B and wants A. The transaction is retried and succeeds."""
    import threading
    import pymysql
    from helpers import MYSQL
    from wlcg_collector.db import open_store
    store = open_store(mysql_url)
    store.schema.init()
    try:
        for index in range(20):
            put(store, DAYS[0], 0, host="h%02d.example.org" % index)
        lock = store.db.sql.LOCK_HOST
        holds_b, attempts, failures = threading.Event(), [], []

        def other():
            conn = pymysql.connect(database=store.db.dialect.params["database"], **MYSQL)
            try:
                with conn.cursor() as cursor:
                    # (READ COMMITTED, as the store's: a scan passes over the
                    # row the store has locked)
                    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    conn.begin()
                    # B and 18 more rows: more written than the store's side
                    cursor.execute("UPDATE hosts SET last_received = last_received + 1 "
                                   "WHERE name <> %s", ("h00.example.org",))
                    holds_b.set()
                    time.sleep(0.3)  # let the store's transaction wait for B first
                    cursor.execute("UPDATE hosts SET last_received = 1 WHERE name = %s",
                                   ("h00.example.org",))
                    conn.commit()
            except Exception as exc:  # the test below says which side lost
                failures.append(exc)
            finally:
                conn.close()

        def work(cursor):
            attempts.append(1)
            cursor.execute(lock, ("T2_TEST", "h00.example.org"))
            if len(attempts) == 1:
                thread.start()
                holds_b.wait(10)
            cursor.execute(lock, ("T2_TEST", "h01.example.org"))
            return len(attempts)

        thread = threading.Thread(target=other)
        assert store.db.transaction(work) == 2
        thread.join(30)
        assert failures == []
        assert store.hosts.find("h00.example.org").last_received == 1
    finally:
        store.close()


def test_many_new_package_rows_are_made_before_the_hosts_transaction(store, monkeypatch):
    """A report with many new packages makes their rows in a transaction of
    their own, first (the host's transaction then holds its lock for the
    intervals only); a report the rules would quarantine makes none."""
    from wlcg_collector import trust
    many = [("p%03d" % i, "0:1.0-1.el9", "x86_64") for i in range(150)]
    report = parse_report(make_report(packages=many, ts=T0))
    quarantined = store.writer.store_report(report, T0 + 60, "192.0.2.1",
                                            rules=trust.Rules(unsigned="quarantine"))
    assert quarantined.outcome == "quarantined" and store.testing.row_counts()["packages"] == 0

    def broken(*args):
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(store.db.dialect, "insert_installs", broken)
    with pytest.raises(RuntimeError):
        store.writer.store_report(report, T0 + 60, "192.0.2.1")
    counts = store.testing.row_counts()
    assert (counts["packages"], counts["hosts"], counts["installs"]) == (150, 0, 0)
    assert len(store.writer.package_ids) == 150  # committed: remembered
    monkeypatch.undo()
    assert store.writer.store_report(report, T0 + 60, "192.0.2.1").outcome == "changed"
    assert store.hosts.state(store.hosts.find("wn01.example.org").id) == sorted(many, key=sort_key)


def test_a_block_sent_again_is_not_parsed_again(store, monkeypatch):
    """The same package block as the host's last, byte for byte: the same
    set, validated when first stored; its lines are not parsed again (the
    headers are). Another order of the same lines is parsed, and the same
    set still."""
    from wlcg_collector import report as module
    put(store, DAYS[0], 0)
    parsed = []
    real = module.parse_block
    monkeypatch.setattr(module, "parse_block", lambda *a: parsed.append(1) or real(*a))
    again = parse_report(make_report(packages=DAYS[0], ts=T0 + DAY), lazy=True)
    result = store.writer.store_report(again, T0 + DAY, "192.0.2.1")
    assert (result.outcome, result.parsed, parsed) == ("unchanged", False, [])
    host = store.hosts.find("wn01.example.org")
    assert host.packages == len(DAYS[0]) and host.last_report == T0 + DAY
    assert store.hosts.reports(host.id)[-1].packages == len(DAYS[0])
    shuffled = parse_report(make_report(packages=list(reversed(DAYS[0])), ts=T0 + 2 * DAY),
                            lazy=True)
    result = store.writer.store_report(shuffled, T0 + 2 * DAY, "192.0.2.1")
    assert (result.outcome, result.parsed, parsed) == ("unchanged", True, [1])
    # a header that changes how the block reads makes it another block
    assert parse_report(make_report(packages=DAYS[0], ts=1, version="2")).block_hash != \
        parse_report(make_report(packages=DAYS[0], ts=1)).block_hash


def test_a_bad_line_found_late_stores_nothing(store):
    """A lazily parsed report whose lines are bad: ReportError from the
    store, and nothing of it stored (not even a new host's row)."""
    from wlcg_collector.report import ReportError
    bad = parse_report(make_report("T2_BAD", "bad.example.org",
                                   packages=[("a", "0:1-1", "x86_64"), ("b", "x", "y z")],
                                   ts=T0), lazy=True)
    with pytest.raises(ReportError) as caught:
        store.writer.store_report(bad, T0, "192.0.2.1")
    assert "package line" in str(caught.value)
    counts = store.testing.row_counts()
    assert (counts["hosts"], counts["reports"], counts["packages"]) == (0, 0, 0)


def test_a_report_with_bad_lines_is_not_quarantined(store):
    """A report the rules would quarantine has its lines read before it is
    kept: one with a bad line is refused, never put before the officer."""
    from wlcg_collector import trust
    from wlcg_collector.report import ReportError
    bad = parse_report(make_report(packages=[("a", "0:1-1", "x86_64"), ("b", "x", "y z")],
                                   ts=T0), lazy=True)
    with pytest.raises(ReportError):
        store.writer.store_report(bad, T0, "192.0.2.1", rules=trust.Rules(unsigned="quarantine"))
    assert store.review.quarantined() == []

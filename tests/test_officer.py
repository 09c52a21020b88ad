"""Officer tools on a small fleet built by ingesting reports over
five simulated days, with an upgrade rolled out site by site; checked
against hand-computed expectations, on SQLite and MariaDB."""

import hashlib
import json
import time

import pytest

from helpers import ScratchMySQL, make_report, run_cli
from wlcg_collector.baselines import BaselineError, parse_baseline, parse_requirement
from wlcg_collector.db import open_store
from wlcg_collector.ingest import ingest

DAY = 86400
TODAY = int(time.time()) // DAY * DAY
T0 = TODAY - 4 * DAY  # day 0 of the fleet; day 4 is today


def date(day):
    return time.strftime("%Y-%m-%d", time.gmtime(T0 + day * DAY))


K_OLD = ("kernel", "0:5.14.0-427.13.1.el9_4", "x86_64")
K_NEW = ("kernel", "0:5.14.0-503.11.1.el9_5", "x86_64")
X_OLD = ("xrootd", "1:5.6.9-1.el9", "x86_64")
X_NEW = ("xrootd", "1:5.7.1-1.el9", "x86_64")
BASE9 = [("bash", "0:5.1.8-9.el9", "x86_64"), ("glibc", "0:2.34-100.el9", "x86_64"),
         ("glibc", "0:2.34-100.el9", "i686")]
EL7 = [("bash", "0:4.2.46-34.el7", "x86_64"), ("xrootd", "1:4.12.5-1.el7", "x86_64")]
DEB = [("bash", "5.2.15-2+b2", "amd64"), ("libc6", "2.36-9+deb12u4", "amd64")]

# (site, host, system, packager, {day: packages}); a missing day: no report
FLEET = [
    ("T2_A", "a1.example.org", "AlmaLinux 9.4", "rpm",
     {0: BASE9 + [K_OLD, X_OLD], 1: BASE9 + [K_OLD, K_NEW, X_NEW], 2: BASE9 + [K_OLD, K_NEW, X_NEW],
      3: BASE9 + [K_OLD, K_NEW, X_NEW], 4: BASE9 + [K_OLD, K_NEW, X_NEW]}),
    ("T2_A", "a2.example.org", "AlmaLinux 9.4", "rpm",
     {d: BASE9 + [K_OLD, X_OLD if d == 0 else X_NEW] for d in range(5)}),
    ("T2_B", "b1.example.org", "Rocky Linux 9.3", "rpm",
     {d: BASE9 + [K_OLD, X_OLD if d < 3 else X_NEW] for d in range(5)}),
    ("T2_B", "b2.example.org", "Rocky Linux 9.3", "rpm",
     {d: BASE9 + [K_NEW, X_OLD] for d in range(5)}),
    ("T2_C", "c-el7.example.org", "CentOS Linux 7", "rpm", {d: EL7 for d in range(5)}),
    ("T2_C", "c-deb.example.org", "Debian GNU/Linux 12", "dpkg", {0: DEB, 1: DEB}),
    ("T2_D", "d1.example.org", "AlmaLinux 9.4", "rpm", {0: BASE9 + [K_OLD, X_OLD]}),
]

BASELINE = """\
# OSG-like reference for the test fleet
[system: el9]
xrootd >= 1:5.7.1   # EPEL's xrootd has epoch 1
kernel >= 5.14.0-500
[system: el7]
xrootd >= 1:4.12.6    # the EL7 build
[all]
bash >= 4.2
"""


def store_fleet(store):
    """The fleet's reports stored directly (plaintext parsed, no HTTP)."""
    from wlcg_collector.report import parse_report
    for day in range(5):
        for site, host, system, packager, days in FLEET:
            if day in days:
                store.writer.store_report(parse_report(make_report(
                    site, host, days[day], ts=T0 + day * DAY + 3600, packager=packager,
                    system=system)), T0 + day * DAY + 3700, "192.0.2.1")


def xrootd_advisory(title="Important: xrootd security update"):
    """An OSV record for the fleet's xrootd, in the form of AlmaLinux's real
    ones (tests/fixtures/advisories/osv-almalinux): published on day 0."""
    return json.dumps({
        "id": "ALSA-2026:0001", "summary": title,
        "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "xrootd"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "0"}, {"fixed": "1:5.7.1-1.el9"}]}]}],
        "related": ["CVE-2026-0001"],
        "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0)),
        "modified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + 60)),
        "references": [{"url": "javascript:alert(1)", "type": "ADVISORY"}]}).encode()


def store_advisory(store, title="Important: xrootd security update"):
    """The fleet's advisory: a1, a2 (fixed on day 1) and d1 (never fixed:
    silent since day 0) were exposed; b2 runs Rocky Linux, another stream."""
    from wlcg_collector.advisories.formats import parse
    store.advisories.import_records(parse(xrootd_advisory(title)), T0)


def ingest_fleet(store, collector_keys, fleet=None, t0=T0, name=lambda host: host,
                 hour=3600):
    """A fleet's reports ((site, host, system, packager, {day: packages}),
    default FLEET), each made `hour` seconds into its day (t0 + day * DAY +
    hour) and received 100 s later (or `hour` seconds later, if less), through the collector's ingest. A package with
    a fourth field makes its report format 2. The reports go unencrypted
    (allow_plaintext): what is asked of the fleet is the same after
    decryption, and openssl's two runs a report were most of the time of
    the tests that build it."""
    for day in range(5):
        for site, host, system, packager, days in (FLEET if fleet is None else fleet):
            if day not in days:
                continue
            packages = days[day]
            version = "2" if any(len(p) == 4 for p in packages) else "1"
            ts = t0 + day * DAY + hour
            body = make_report(site, name(host), packages, ts=ts, packager=packager,
                               system=system, version=version)
            result = ingest(store, body, [collector_keys], "192.0.2.1", allow_plaintext=True,
                            received=ts + min(100, hour))
            assert result.outcome in ("changed", "unchanged"), (host, day, result)
    return store


@pytest.fixture
def fleet(store, collector_keys):
    """The fleet in a database of its own, for a test that writes (baselines)."""
    return ingest_fleet(store, collector_keys)


@pytest.fixture(scope="module")
def shared_fleet(module_database_url, collector_keys):
    """The fleet in one database a module and back end, for the tests that
    only read it."""
    store = open_store(module_database_url)
    store.schema.init()
    yield ingest_fleet(store, collector_keys)
    store.close()


def run(store, *args):
    return run_cli(["--db", store.db.dialect.describe()] + list(args))


def compact(rows):
    return sorted((r["host"], r["package"], r["arch"], r["status"]) for r in rows)


def test_compare_now(shared_fleet, tmp_path):
    fleet = shared_fleet
    path = tmp_path / "osg.txt"
    path.write_text(BASELINE)
    code, out, err = run(fleet, "compare", str(path), "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert set(rows[0]) == {"site", "host", "package", "arch", "installed", "requirement",
                            "status", "stale"}
    assert compact(rows) == sorted([
        ("a1.example.org", "xrootd", "x86_64", "ok"),
        ("a1.example.org", "kernel", "x86_64", "ok"),     # the newer of two kernels
        ("a1.example.org", "bash", "x86_64", "ok"),
        ("a2.example.org", "xrootd", "x86_64", "ok"),
        ("a2.example.org", "kernel", "x86_64", "behind"),
        ("a2.example.org", "bash", "x86_64", "ok"),
        ("b1.example.org", "xrootd", "x86_64", "ok"),
        ("b1.example.org", "kernel", "x86_64", "behind"),
        ("b1.example.org", "bash", "x86_64", "ok"),
        ("b2.example.org", "xrootd", "x86_64", "behind"),
        ("b2.example.org", "kernel", "x86_64", "ok"),
        ("b2.example.org", "bash", "x86_64", "ok"),
        ("c-el7.example.org", "xrootd", "x86_64", "behind"),
        ("c-el7.example.org", "bash", "x86_64", "ok"),
        ("c-deb.example.org", "bash", "amd64", "ok"),
        ("d1.example.org", "xrootd", "x86_64", "behind"),
        ("d1.example.org", "kernel", "x86_64", "behind"),
        ("d1.example.org", "bash", "x86_64", "ok"),
    ])
    behind = [r for r in rows if r["host"] == "b2.example.org" and r["status"] == "behind"]
    assert behind[0]["installed"] == X_OLD[1] and behind[0]["requirement"] == "xrootd >= 1:5.7.1"


def test_compare_table_summary_and_stored_baseline(fleet, tmp_path):
    path = tmp_path / "osg.txt"
    path.write_text(BASELINE)
    code, out, err = run(fleet, "baseline", "add", "osg", str(path))
    assert (code, out) == (0, "baseline osg revision 1: 4 requirement(s)\n"), err
    code, out, err = run(fleet, "compare", "osg")
    lines = out.splitlines()
    assert lines[0].split() == ["SITE", "HOSTS", "APPLICABLE", "BEHIND", "COMPLIANT"]
    assert [line.split() for line in lines[1:5]] == [
        ["T2_A", "2", "2", "1", "50.0%"], ["T2_B", "2", "2", "2", "0.0%"],
        ["T2_C", "2", "2", "1", "50.0%"], ["T2_D", "1", "1", "1", "0.0%"]]
    assert lines[5] == ""
    # then one line per host behind: how many requirements, which
    assert lines[6:] == [
        "SITE  HOST               BEHIND  REQUIREMENTS",
        "T2_A  a2.example.org     1       kernel >= 5.14.0-500",
        "T2_B  b1.example.org     1       kernel >= 5.14.0-500",
        "T2_B  b2.example.org     1       xrootd >= 1:5.7.1",
        "T2_C  c-el7.example.org  1       xrootd >= 1:4.12.6",
        "T2_D  d1.example.org     2       xrootd >= 1:5.7.1, kernel >= 5.14.0-500"]
    # --rows: the summary, then every (host, package) row behind
    code, out, err = run(fleet, "compare", "osg", "--rows")
    rows = out.splitlines()
    assert rows[:6] == lines[:6]
    assert rows[6].split()[:3] == ["SITE", "HOST", "PACKAGE"]
    assert len(rows) == 7 + 6  # the six behind rows
    assert all(line.split()[-1] == "behind" for line in rows[7:])


def test_compare_names_a_hosts_first_few_requirements_and_how_many_more(shared_fleet,
                                                                          tmp_path):
    """The default table names three of a host's requirements behind, in
    baseline order, then "+N more"; a requirement behind on two arches
    (glibc) counts once. --rows changes nothing in CSV and JSON: every row."""
    path = tmp_path / "el9.txt"
    path.write_text("[system: el9]\nxrootd >= 1:5.7.1\nkernel >= 5.14.0-500\nglibc >= 2.35\n"
                    "bash >= 5.2\n")
    code, out, err = run(shared_fleet, "compare", str(path))
    assert code == 0, err
    lines = out.split("\n\n")[1].splitlines()
    assert lines == [
        "SITE  HOST            BEHIND  REQUIREMENTS",
        "T2_A  a1.example.org  2       glibc >= 2.35, bash >= 5.2",
        "T2_A  a2.example.org  3       kernel >= 5.14.0-500, glibc >= 2.35, bash >= 5.2",
        "T2_B  b1.example.org  3       kernel >= 5.14.0-500, glibc >= 2.35, bash >= 5.2",
        "T2_B  b2.example.org  3       xrootd >= 1:5.7.1, glibc >= 2.35, bash >= 5.2",
        "T2_D  d1.example.org  4       xrootd >= 1:5.7.1, kernel >= 5.14.0-500, glibc >= 2.35 "
        "+1 more"]
    every = {}
    for fmt in ("json", "csv"):
        code, every[fmt], err = run(shared_fleet, "compare", str(path), "--format", fmt)
        assert code == 0, err
        assert run(shared_fleet, "compare", str(path), "--format", fmt, "--rows") == \
            (0, every[fmt], "")
    # five EL9 hosts, five rows each (glibc's two arches)
    rows = json.loads(every["json"])
    assert len(rows) == 5 * 5 and {r["status"] for r in rows} == {"ok", "behind"}
    assert [r["arch"] for r in rows if r["host"] == "d1.example.org" and
            r["package"] == "glibc"] == ["i686", "x86_64"]
    lines = every["csv"].splitlines()
    assert lines[0] == "site,host,package,arch,installed,requirement,status,stale"
    assert len(lines) == 1 + 5 * 5


def test_hosts_behind_agree_with_the_rows_behind(shared_fleet):
    """Each host's count and first requirements, worked out on masks, are
    what its rows behind say, for any number named."""
    from wlcg_collector import analysis
    requirements = parse_baseline(
        "xrootd >= 1:5.7.1\nkernel >= 5.14.0-500\nglibc >= 2.35\nbash >= 5.2\n"
        "[system: el7]\nxrootd >= 1:4.12.6\nbash >= 9\n[system: Debian*]\nlibc6 >= 2.37\n",
        "b")
    result = analysis.compliance(shared_fleet, requirements, None)
    texts = {}
    for site, host, _, _, _, requirement, _ in result.rows("behind"):
        texts.setdefault((site, host), [])
        if requirement not in texts[(site, host)]:
            texts[(site, host)].append(requirement)
    order = [text.text for text in requirements]
    for few in (1, 2, 3, 4, 10):
        assert [(h.site, h.host, h.behind, h.first) for h in result.hosts_behind(few)] == [
            (site, host, len(found), tuple(sorted(found, key=order.index)[:few]))
            for (site, host), found in sorted(texts.items(),
                                              key=lambda item: (item[0][0], item[0][1]))]
    # more than three: c-el7 (the first four lines apply to every host) and d1
    assert [(h.host, h.behind) for h in result.hosts_behind(3) if h.behind > 3] == [
        ("c-el7.example.org", 4), ("d1.example.org", 4)]


def test_compare_marks_the_hosts_judged_on_an_old_report(shared_fleet, tmp_path):
    """[officer] stale_days: d1 last reported on day 0, c-deb on day 1."""
    path = tmp_path / "osg.txt"
    path.write_text(BASELINE)
    config = tmp_path / "collector.conf"
    config.write_text("[collector]\ndatabase = %s\n[officer]\nstale_days = 2\n"
                      % shared_fleet.db.dialect.describe())

    def compare(*args):
        code, out, err = run_cli(["--config", str(config), "compare", str(path)] + list(args))
        assert code == 0, err
        return out
    rows = json.loads(compare("--format", "json"))
    assert {(r["host"], r["stale"]) for r in rows} == {
        (host, host in ("d1.example.org", "c-deb.example.org"))
        for _, host, _, _, _ in FLEET}
    assert "stale" in compare("--format", "csv").splitlines()[0].split(",")
    silent = (int(time.time()) - (T0 + 3600)) // DAY  # d1's day-0 report
    lines = compare().splitlines()
    assert lines[-1].startswith("T2_D  d1.example.org (silent %d d)  2  " % silent)
    assert "silent" not in "".join(lines[:-1])
    rows = compare("--rows").splitlines()
    assert [line.split()[1:4] for line in rows if "silent" in line] == [
        ["d1.example.org", "(silent", "%d" % silent]] * 2
    # at a past time, as things stood then: on day 3, d1 only (c-deb's
    # last report was a day old)
    rows = json.loads(compare("--at", date(3), "--format", "json"))
    assert {r["host"] for r in rows if r["stale"]} == {"d1.example.org"}


def test_compare_at_a_past_date_and_for_one_site(shared_fleet, tmp_path):
    fleet = shared_fleet
    path = tmp_path / "osg.txt"
    path.write_text(BASELINE)
    code, out, _ = run(fleet, "compare", str(path), "--at", date(2), "--site", "T2_B",
                       "--format", "json")
    assert compact(json.loads(out)) == sorted([
        ("b1.example.org", "xrootd", "x86_64", "behind"),
        ("b1.example.org", "kernel", "x86_64", "behind"),
        ("b1.example.org", "bash", "x86_64", "ok"),
        ("b2.example.org", "xrootd", "x86_64", "behind"),
        ("b2.example.org", "kernel", "x86_64", "ok"),
        ("b2.example.org", "bash", "x86_64", "ok")])
    # before day 0's reports nothing was known
    code, out, _ = run(fleet, "compare", str(path), "--at", date(0), "--format", "json")
    assert json.loads(out) == []


def test_absent_package_is_not_a_failure(shared_fleet, tmp_path):
    fleet = shared_fleet
    path = tmp_path / "deb.txt"
    path.write_text("[system: Debian*]\nxrootd-client >= 5.6\nlibc6 >= 2.36-9\n")
    code, out, _ = run(fleet, "compare", str(path), "--format", "json")
    assert sorted((r["package"], r["status"], r["installed"]) for r in json.loads(out)) == [
        ("libc6", "ok", "2.36-9+deb12u4"), ("xrootd-client", "absent", None)]


def test_baseline_history(fleet, tmp_path):
    first, second = tmp_path / "v1.txt", tmp_path / "v2.txt"
    first.write_text("xrootd >= 1:5.6.9\n")
    second.write_text("xrootd >= 1:5.7.1\n")
    assert run(fleet, "baseline", "add", "osg", str(first))[0] == 0
    assert run(fleet, "baseline", "add", "osg", str(second))[1] == \
        "baseline osg revision 2: 1 requirement(s)\n"
    code, out, _ = run(fleet, "baseline", "list", "--format", "json")
    [row] = json.loads(out)
    assert (row["name"], row["revision"], row["revisions"]) == ("osg", 2, 2)
    assert run(fleet, "baseline", "show", "osg")[1].endswith("\nxrootd >= 1:5.7.1\n")
    assert run(fleet, "baseline", "show", "osg@1")[1].endswith("\nxrootd >= 1:5.6.9\n")
    statuses = lambda ref: sorted(r["status"] for r in json.loads(
        run(fleet, "compare", ref, "--format", "json")[1]))
    assert statuses("osg@1").count("behind") == 1    # only the EL7 host's 4.12.5
    assert statuses("osg").count("behind") == 3      # b2, c-el7 and d1
    code, _, err = run(fleet, "baseline", "show", "nope")
    assert code == 1 and err == "wlcg-collector: unknown baseline 'nope': stored ones are osg\n"
    code, _, err = run(fleet, "compare", "osgg")
    assert code == 1 and err == "wlcg-collector: unknown baseline 'osgg': did you mean osg?\n"
    code, _, err = run(fleet, "baseline", "show", "osg@7")
    assert code == 1 and "revision 7" in err


def test_a_retired_baseline_keeps_its_revisions_and_leaves_every_choice(store, tmp_path,
                                                                         collector_keys):
    from helpers import wsgi_call, write_config
    from test_pages import DN_2253, OFFICER
    from wlcg_collector import create_app
    first, second = tmp_path / "v1.txt", tmp_path / "v2.txt"
    first.write_text("xrootd >= 1:5.6.9\n")
    second.write_text("xrootd >= 1:5.7.1\n")
    for name, path in (("osg", first), ("osg", second), ("wlcg", first)):
        assert run(store, "baseline", "add", name, str(path))[0] == 0
    assert run(store, "baseline", "delete", "osg") == (
        0, "baseline osg retired (revision 3); its revisions stay: osg@1 to osg@2\n", "")

    def listed(*args):
        code, out, err = run(store, "baseline", "list", "--format", "json", *args)
        assert code == 0, err
        return [(row["name"], row["revision"], row["revisions"], row.get("retired"))
                for row in json.loads(out)]
    assert listed() == [("wlcg", 1, 1, None)]
    assert listed("--all") == [("osg", 3, 3, True), ("wlcg", 1, 1, False)]
    # named alone it is retired (one line, exit 1); a revision still reads
    retired = "wlcg-collector: baseline 'osg' is retired: name one of its revisions, osg@1 to " \
              "osg@2\n"
    assert run(store, "compare", "osg") == (1, "", retired)
    assert run(store, "baseline", "show", "osg") == (1, "", retired)
    assert run(store, "compare", "osg@2", "--format", "json") == (0, "[]\n", "")
    assert run(store, "baseline", "show", "osg@1")[1].endswith("\nxrootd >= 1:5.6.9\n")
    assert run(store, "compare", "osg@3") == (
        1, "", "wlcg-collector: baseline 'osg' revision 3 retired it: name an earlier revision\n")
    assert run(store, "baseline", "delete", "osg") == (
        1, "", "wlcg-collector: baseline 'osg' is retired already\n")
    assert run(store, "baseline", "delete", "wlgc")[2] == \
        "wlcg-collector: unknown baseline 'wlgc': did you mean wlcg?\n"
    assert run(store, "baseline", "keep")[1].startswith("wlcg: ")
    assert run(store, "baseline", "keep", "osg") == (
        1, "", "wlcg-collector: retired baseline(s): osg (baseline delete; baseline add brings "
               "one back)\n")
    # the pages: no longer among the choices; its revisions still shown
    config = write_config(tmp_path / "collector.conf", store.db.dialect.describe(),
                          [collector_keys])
    with open(config, "a") as handle:
        handle.write("[officer]\nallow = %s\n" % DN_2253)
    app = create_app(config)

    def page(path, query=""):
        status, _, body, _ = wsgi_call(app, method="GET", path=path, query=query,
                                       content_length=False, environ_extra=OFFICER)
        return status, body.decode("utf-8")
    status, body = page("/officer/")
    assert status == 200 and 'value="wlcg"' in body and "osg" not in body
    assert page("/officer/baseline/osg")[0] == 404
    assert page("/officer/", "baseline=osg")[0] == 404
    assert page("/officer/baseline/osg@2")[0] == 200
    # added again: back, as a new revision
    assert run(store, "baseline", "add", "osg", str(first))[1].startswith(
        "baseline osg revision 4: ")
    assert listed() == [("osg", 4, 4, None), ("wlcg", 1, 1, None)]
    assert run(store, "compare", "osg", "--format", "json")[0] == 0
    assert 'value="osg"' in page("/officer/")[1]


def test_adoption_day_by_day(shared_fleet, tmp_path):
    fleet = shared_fleet
    code, out, err = run(fleet, "adoption", "xrootd >= 1:5.7.1", "--from", date(0), "--to",
                         date(4), "--format", "json", "--plot", str(tmp_path / "x.svg"))
    assert code == 0, err
    assert json.loads(out) == [
        {"date": date(0), "hosts_ok": 0, "hosts_behind": 6, "sites_ok": 0, "sites_behind": 4},
        {"date": date(1), "hosts_ok": 2, "hosts_behind": 4, "sites_ok": 1, "sites_behind": 3},
        {"date": date(2), "hosts_ok": 2, "hosts_behind": 4, "sites_ok": 1, "sites_behind": 3},
        {"date": date(3), "hosts_ok": 3, "hosts_behind": 3, "sites_ok": 1, "sites_behind": 3},
        {"date": date(4), "hosts_ok": 3, "hosts_behind": 3, "sites_ok": 1, "sites_behind": 3},
    ]
    svg = (tmp_path / "x.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    code, out, _ = run(fleet, "adoption", "xrootd >= 1:5.7.1", "--site", "T2_B", "--from",
                       date(2), "--to", date(3), "--format", "csv", "--plot",
                       str(tmp_path / "b.png"))
    assert out.splitlines() == ["date,hosts_ok,hosts_behind,sites_ok,sites_behind",
                                "%s,0,2,0,1" % date(2), "%s,1,1,0,1" % date(3)]
    assert (tmp_path / "b.png").read_bytes().startswith(b"\x89PNG")


def test_adoption_bad_requirement(shared_fleet):
    fleet = shared_fleet
    code, _, err = run(fleet, "adoption", "xrootd => 5")
    assert code == 2 and "unknown operator '=>'" in err


def test_changes(shared_fleet):
    fleet = shared_fleet
    code, out, _ = run(fleet, "changes", "--since", date(1), "--format", "json")
    rows = json.loads(out)
    assert set(rows[0]) == {"site", "host", "time", "action", "name", "arch", "old", "new"}
    assert [(r["host"], r["action"], r["name"]) for r in rows] == [
        ("a1.example.org", "installed", "kernel"),
        ("a1.example.org", "upgraded", "xrootd"),
        ("a2.example.org", "upgraded", "xrootd"),
        ("b1.example.org", "upgraded", "xrootd"),
    ]
    assert rows[-1]["time"] == time.strftime("%Y-%m-%dT01:00:00Z", time.gmtime(T0 + 3 * DAY))
    code, out, _ = run(fleet, "changes", "--since", date(1), "--site", "T2_A", "--package",
                       "xrootd", "--format", "json")
    assert [(r["host"], r["old"], r["new"]) for r in json.loads(out)] == [
        ("a1.example.org", X_OLD[1], X_NEW[1]), ("a2.example.org", X_OLD[1], X_NEW[1])]
    # --until: the changes before a date (b1's upgrade of day 3 is after)
    code, out, _ = run(fleet, "changes", "--since", date(1), "--until", date(3), "--format",
                       "json")
    assert [(r["host"], r["action"], r["name"]) for r in json.loads(out)] == [
        ("a1.example.org", "installed", "kernel"), ("a1.example.org", "upgraded", "xrootd"),
        ("a2.example.org", "upgraded", "xrootd")]
    code, out, err = run(fleet, "changes", "--since", date(3), "--until", date(1))
    assert (code, out) == (2, "") and err.startswith("wlcg-collector: --until ") and \
        err.endswith(" is not after --since %sT00:00:00Z\n" % date(3))


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def silent_since(text, seconds):
    """Whether `stale` said "N.N days" of a host silent since `seconds`
    (a tenth of a day may pass while the test runs)."""
    return text.endswith(" days") and abs(float(text.split()[0])
                                          - (time.time() - seconds) / DAY) <= 0.1


def test_stale(shared_fleet):
    fleet = shared_fleet
    code, out, _ = run(fleet, "stale", "--days", "2", "--format", "json")
    rows = json.loads(out)
    # the longest silent first, and for how long (a tenth of a day may pass)
    for row in rows:
        assert silent_since(row.pop("silent_for"),
                            T0 + 3600 if row["site"] == "T2_D" else T0 + DAY + 3600)
    assert rows == [
        {"site": "T2_D", "host": None, "last_report": iso(T0 + 3600), "reason": None},
        {"site": "T2_C", "host": "c-deb.example.org", "last_report": iso(T0 + DAY + 3600),
         "reason": None}]


def test_stale_says_why_where_it_knows(store, tmp_path):
    """A reinstalled host whose key changed is silent because its reports
    wait in the quarantine; a site whose hosts report under a typo is
    silent because they report there; a listed site never reported at all.
    `stale` says so, the longest silent first, narrowed by --site, its days
    by default [officer] stale_days."""
    from wlcg_collector import trust, topology
    from wlcg_collector.report import parse_report

    def put(site, host, day, key=None):
        ts = T0 + day * DAY + 3600
        return store.writer.store_report(
            parse_report(make_report(site, host, BASE9, ts=ts)), ts + 100, "192.0.2.1",
            signer=None if key is None else trust.Signer(trust.HOST_KEY, key, None),
            rules=trust.Rules())
    for day in range(5):
        put("T2_A", "a1.example.org", day)
        put("T2_C", "c1.example.org", day)
        # a2 reinstalled on day 2: a new key, its reports held
        outcome = put("T2_A", "a2.example.org", day, b"a" * 32 if day < 2 else b"b" * 32).outcome
        assert outcome == ("quarantined" if day >= 2 else "changed" if day == 0 else "unchanged")
        # T2_B's hosts report under a typo from day 1
        for host in ("b1.example.org", "b2.example.org"):
            put("T2_B" if day < 1 else "T2_BB", host, day)
        # T2_D reinstalled on day 2, every host
        for host in ("d1.example.org", "d2.example.org"):
            put("T2_D", host, day, hashlib.sha256(("old " if day < 2 else "new ").encode()
                                                  + host.encode()).digest())
    listed = topology.parse_site_list(b"T2_A\nT2_B\nT2_C\nT2_D\nT2_E\n", "plain",
                                      "sites.list")
    store.sites.import_list(listed, "sites.list", "plain", T0, "officer")
    code, out, err = run(store, "stale", "--days", "1.5")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["SITE", "HOST", "LAST_REPORT", "SILENT_FOR", "REASON"]
    rows = json.loads(run(store, "stale", "--days", "1.5", "--format", "json")[1])
    assert [(r["site"], r["host"], r["last_report"], r["reason"]) for r in rows] == [
        ("T2_B", None, iso(T0 + 3600), "reports under site T2_BB since %s (2 of 2 hosts)"
         % date(1)),
        ("T2_A", "a2.example.org", iso(T0 + DAY + 3600),
         "1 report(s) held in the quarantine (key change), the newest received %s"
         % date(4)),
        ("T2_D", None, iso(T0 + DAY + 3600),
         "2 report(s) held in the quarantine (key change), the newest received %s (2 of 2 "
         "hosts)" % date(4)),
        ("T2_E", None, None, "on the list of sites, never reported")]
    assert silent_since(rows[0]["silent_for"], T0 + 3600)
    assert silent_since(rows[2]["silent_for"], T0 + DAY + 3600)
    assert rows[3]["silent_for"] is None
    # one site; a listed site that never reported is one too
    rows = json.loads(run(store, "stale", "--days", "1.5", "--site", "t2_a", "--format",
                          "json")[1])
    assert [(r["site"], r["host"]) for r in rows] == [("T2_A", "a2.example.org")]
    rows = json.loads(run(store, "stale", "--site", "T2_E", "--days", "1", "--format",
                          "json")[1])
    assert [(r["site"], r["reason"]) for r in rows] == [
        ("T2_E", "on the list of sites, never reported")]
    assert run(store, "stale", "--site", "T2_Q", "--days", "1")[:2] == (1, "")
    # --days by default [officer] stale_days: 10 days, none of them silent that long
    config = tmp_path / "collector.conf"
    config.write_text("[collector]\ndatabase = %s\n[officer]\nstale_days = 10\n"
                      % store.db.dialect.describe())
    code, out, err = run_cli(["--config", str(config), "stale", "--format", "json"])
    assert code == 0, err
    assert [r["site"] for r in json.loads(out)] == ["T2_E"]


# ---------------------------------------------------------------- baseline format

def test_baseline_parsing():
    requirements = parse_baseline(BASELINE, "osg.txt")
    assert [(r.text, r.line, r.systems) for r in requirements] == [
        ("xrootd >= 1:5.7.1", 3, ["el9"]), ("kernel >= 5.14.0-500", 4, ["el9"]),
        ("xrootd >= 1:4.12.6", 6, ["el7"]), ("bash >= 4.2", 8, None)]
    assert requirements[0].applies_to("AlmaLinux 9.4")
    assert requirements[0].applies_to("Red Hat Enterprise Linux 9.3")
    assert not requirements[0].applies_to("CentOS Linux 7")
    assert not requirements[0].applies_to("Debian GNU/Linux 9")
    glob = parse_baseline("[system: alma*9*]\nx >= 1\n")[0]
    assert glob.applies_to("AlmaLinux 9.4") and not glob.applies_to("AlmaLinux 8.10")


@pytest.mark.parametrize("text,message", [
    # the hint writes the epoch: without one a requirement is epoch 0
    ("xrootd 5.6.9\n", "b.txt:1: expected 'NAME OP [EPOCH:]VERSION', e.g. 'xrootd >= 1:5.6.9'"),
    ("# c\n\nxrootd => 5.6.9\n", "b.txt:3: unknown operator '=>'"),
    ("xrootd >= 5.6.9-\n", "b.txt:1: bad version"),
    ("xrootd >= a:1.0\n", "b.txt:1: bad"),
    ("xr<ootd >= 1\n", "b.txt:1: bad package name"),
    ("[system EL9]\nx >= 1\n", "b.txt:1: expected [system: PATTERN, ...] or [all]"),
    ("# only comments\n", "b.txt: no requirement"),
    ("x >= 1 2\n", "b.txt:1: expected"),
])
def test_baseline_errors(text, message):
    with pytest.raises(BaselineError) as err:
        parse_baseline(text, "b.txt")
    assert str(err.value).startswith(message)


def test_bad_baseline_file_through_the_cli(store, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("xrootd >= 5\ncondor >> 9\n")
    code, _, err = run(store, "baseline", "add", "osg", str(path))
    assert code == 1
    assert err == "wlcg-collector: %s:2: unknown operator '>>' (use < <= = >= >)\n" % path


@pytest.mark.parametrize("packager,installed,requirement,ok", [
    ("rpm", "0:5.6.9-1.el9", "xrootd >= 5.6.9", True),       # release not given: ignored
    ("rpm", "0:5.6.9-1.el9", "xrootd >= 5.6.9-2", False),
    ("rpm", "0:5.6.9-1.el9", "xrootd = 5.6.9", True),
    ("rpm", "1:4.0-1", "xrootd >= 5.0", True),                # epoch first, missing = 0
    ("rpm", "0:5.0-1", "xrootd >= 1:4.0", False),
    ("rpm", "0:1.0~rc1-1", "x >= 1.0", False),
    ("rpm", "0:1.0^git1-1", "x > 1.0", True),
    ("rpm", "0:5.7.1-1.el9", "x < 5.7.1", False),
    ("rpm", "0:5.7.0-1.el9", "x <= 5.7.1-1.el9", True),
    ("dpkg", "1.0-1+deb12u1", "x >= 1.0", True),              # revision not given: ignored
    ("dpkg", "1.0-1~bpo1", "x >= 1.0-1", False),
    ("dpkg", "1:0.1-1", "x > 2.0", True),
    ("dpkg", "2.2~rc-4", "x >= 2.2", False),
])
def test_requirement_semantics(packager, installed, requirement, ok):
    assert parse_requirement(requirement).satisfied_by(packager, installed) is ok


@pytest.fixture(scope="module")
def new_schema_shape(tmp_path_factory):
    """new_schema_shape(dialect): the schema_shape() of a database init-db
    made with nothing in it, one a back end for the module's upgrades."""
    shapes = {}

    def shape_of(dialect):
        if dialect not in shapes:
            scratch = ScratchMySQL() if dialect == "mysql" else None
            fresh = open_store(scratch.url if scratch else "sqlite:///%s"
                               % (tmp_path_factory.mktemp("fresh") / "fresh.db"))
            try:
                fresh.schema.init()
                shapes[dialect] = fresh.testing.schema_shape()
            finally:
                fresh.close()
                if scratch:
                    scratch.close()
        return shapes[dialect]
    return shape_of


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
def test_schema_upgrade(fresh_database_url, new_schema_shape, version):
    """A database made with an older schema (with data) is upgraded by
    init-db, keeps its data, and has the schema a new database gets."""
    import os
    from helpers import ROOT
    from wlcg_collector.report import parse_report
    from wlcg_collector.db import SCHEMA_VERSION
    store = open_store(fresh_database_url)
    dialect = store.db.dialect.name
    store.schema.run_file(os.path.join(ROOT, "tests", "fixtures", "schema-v%d" % version,
                                       dialect + ".sql"))
    assert store.schema.version() == version
    write_old_history(store)
    if version >= 4:  # a collector of schema 4 wrote the outcome itself
        store.db.transaction(lambda cursor: cursor.execute(
            "UPDATE reports SET outcome = 'older' WHERE applied = 0"))
    advisory_rows = [(1, "AlmaLinux:9", "xrootd", "binary", "1:5.7.1-1.el9"),
                     (1, "AlmaLinux:8", "xrootd", "binary", "1:5.7.1-1.el8")]
    if version >= 5:  # advisories came with schema 5 (schema 8 gave the rows a key)
        store.db.transaction(lambda cursor: cursor.executemany(store.db.dialect.compile(
            "INSERT INTO advisory_packages (advisory_id, stream, name, kind, fixed) "
            "VALUES ({p}, {p}, {p}, {p}, {p})"), advisory_rows))
    store.close()
    assert run_cli(["--db", fresh_database_url, "init-db"])[1] == \
        "upgraded schema from version %d to %d\n" % (version, SCHEMA_VERSION)
    store = open_store(fresh_database_url)
    assert store.schema.version() == SCHEMA_VERSION
    found = store.hosts.find("wn01.example.org")
    host = found.id
    assert store.hosts.state(host, T0) == EL7
    assert store.hosts.state(host) == EL7[1:]
    # what was there is unsigned, and the report older than the latest is "older"
    assert (found.trust, found.key_fingerprint) == ("unsigned", None)
    assert [(r.outcome, r.signer) for r in store.hosts.reports(host)] == [
        ("applied", None), ("applied", None), ("older", None)]
    assert store.review.quarantined() == [] and store.review.site_keys() == []
    # and it takes new reports
    store.writer.store_report(parse_report(make_report(packages=EL7, ts=T0 + 2 * DAY)),
                              T0 + 2 * DAY, "192.0.2.1")
    assert store.hosts.state(host) == EL7
    assert store.baselines.add("osg", "x >= 1\n", T0) == 1
    if version >= 5:
        assert sorted(store.db.read("SELECT advisory_id, stream, name, kind, fixed FROM "
                                    "advisory_packages")) == sorted(advisory_rows)
    upgraded = store.testing.schema_shape()
    store.close()
    assert upgraded == new_schema_shape(dialect)


def write_old_history(store):
    """What a collector of an older schema left behind, written with the
    columns every version has: a host whose first package went away on day
    1, and a report older than its latest (recorded, not applied)."""
    from wlcg_collector.db.packages import package_key
    from wlcg_collector.report import package_set_hash
    sql = store.db.dialect.compile

    def work(cursor):
        cursor.execute(sql(
            "INSERT INTO hosts (site, name, packager, system, facts, set_hash, package_count, "
            "first_report, last_report, last_received) VALUES ('T2_TEST', 'wn01.example.org', "
            "'rpm', 'CentOS Linux 7', '{}', {p}, {p}, {p}, {p}, {p})"),
            (package_set_hash("rpm", EL7[1:]), len(EL7) - 1, T0, T0 + DAY, T0 + DAY))
        cursor.execute(sql("SELECT id FROM hosts"))
        host = cursor.fetchone()[0]
        for index, (name, version, arch) in enumerate(EL7):
            cursor.execute(sql("INSERT INTO packages (packager, name, version, arch, key_hash) "
                               "VALUES ('rpm', {p}, {p}, {p}, {p})"),
                           (name, version, arch, package_key("rpm", name, version, arch)))
            cursor.execute(sql("SELECT id FROM packages WHERE name = {p}"), (name,))
            cursor.execute(sql("INSERT INTO installs (host_id, package_id, installed, removed) "
                               "VALUES ({p}, {p}, {p}, {p})"),
                           (host, cursor.fetchone()[0], T0, T0 + DAY if index == 0 else None))
        for day, received, collected, applied in ((0, T0, T0, 1), (1, T0 + DAY, T0 + DAY, 1),
                                                  (2, T0 + DAY + 60, T0 + 3600, 0)):
            cursor.execute(sql(
                "INSERT INTO reports (host_id, digest, received, collected, sender, packages, "
                "changed, applied) VALUES ({p}, {p}, {p}, {p}, '192.0.2.1', 2, {p}, {p})"),
                (host, bytes([day]) * 32, received, collected, applied, applied))
    store.db.transaction(work)


def test_compliance_result_order_newest_row_and_scope(store):
    """Rows in baseline order, then by arch and version (newest first), the
    hosts without the package last, each group in host order; a host
    holding two kernels is judged on the newer even when its row was made
    later; requirements scoped to another system give no row; absent is not
    behind."""
    from wlcg_collector import analysis
    from wlcg_collector.report import parse_report

    def put(host, packages, day):
        report = make_report("T2_X", host, packages, ts=T0 + day * DAY)
        store.writer.store_report(parse_report(report), T0 + day * DAY, "192.0.2.1")
    glibc = [("glibc", "0:2.34-100.el9", "x86_64"), ("glibc", "0:2.34-100.el9", "i686")]
    put("h1.example.org", [K_NEW] + glibc, 0)         # K_NEW's row is made first
    put("h2.example.org", [K_OLD] + glibc[:1], 0)
    put("h1.example.org", [K_NEW, K_OLD] + glibc, 1)  # then h1 takes the older kernel too
    put("h3.example.org", glibc[1:], 1)
    put("a0.example.org", [K_OLD], 1)                 # first in host order
    requirements = parse_baseline("kernel >= 5.14.0-500\nglibc >= 2.34\n[system: el7]\n"
                                  "bash >= 9\n", "t")
    result = analysis.compliance(store, requirements, None)
    kernel, glibc_req = requirements[0].text, requirements[1].text
    assert result.rows() == [
        ("T2_X", "h1.example.org", "kernel", "x86_64", K_NEW[1], kernel, "ok"),
        ("T2_X", "a0.example.org", "kernel", "x86_64", K_OLD[1], kernel, "behind"),
        ("T2_X", "h2.example.org", "kernel", "x86_64", K_OLD[1], kernel, "behind"),
        ("T2_X", "h3.example.org", "kernel", None, None, kernel, "absent"),
        ("T2_X", "h1.example.org", "glibc", "i686", glibc[1][1], glibc_req, "ok"),
        ("T2_X", "h3.example.org", "glibc", "i686", glibc[1][1], glibc_req, "ok"),
        ("T2_X", "h1.example.org", "glibc", "x86_64", glibc[0][1], glibc_req, "ok"),
        ("T2_X", "h2.example.org", "glibc", "x86_64", glibc[0][1], glibc_req, "ok"),
        ("T2_X", "a0.example.org", "glibc", None, None, glibc_req, "absent"),
    ]
    assert result.rows("behind") == result.rows()[1:3]
    assert result.summary() == [("T2_X", 4, 4, 2, 50.0)]
    assert result.summary()[0].compliant == 50.0
    assert result.behind_counts() == {"a0.example.org": 1, "h1.example.org": 0,
                                      "h2.example.org": 1, "h3.example.org": 0}
    # on day 0, before h1 had the older kernel and before h3 reported
    early = analysis.compliance(store, requirements, T0 + 3600)
    assert [r[1:3] + r[-1:] for r in early.rows()] == [
        ("h1.example.org", "kernel", "ok"), ("h2.example.org", "kernel", "behind"),
        ("h1.example.org", "glibc", "ok"), ("h1.example.org", "glibc", "ok"),
        ("h2.example.org", "glibc", "ok")]


def test_adoption_counts_equal_a_day_by_day_count():
    """The day counts built from spans equal judging every host on every
    day, over random histories (upgrades, downgrades, gaps, two arches,
    intervals reaching past both ends)."""
    import random
    from wlcg_collector import analysis
    from wlcg_collector.baselines import newest_per_arch
    rng = random.Random(5)
    requirement = parse_requirement("xrootd >= 1:5.7.1")
    versions = ["1:5.6.9-1.el9", "1:5.7.1-1.el9", "1:5.8.0-1.el9", "0:9.9-1"]
    first = T0 - 10 * DAY
    intervals = []
    for host in range(60):
        site = "T2_%d" % (host % 7)
        when = first - rng.randrange(3) * DAY
        while when < first + 30 * DAY:
            length = rng.randrange(1, 8 * DAY)
            removed = when + length if rng.random() < 0.8 else None
            intervals.append((host, site, "rpm", rng.choice(versions),
                              rng.choice(["x86_64", "x86_64", "i686"]), when, removed))
            if removed is None:
                break
            when = removed + rng.choice([0, 0, rng.randrange(3 * DAY)])

    class Intervals(object):
        def package_intervals(self, name, start, end, site=None):
            return [row for row in intervals if row[5] <= end and
                    (row[6] is None or row[6] > start)]

    class Store(object):
        fleet = Intervals()
    last = first + 20 * DAY
    rows = analysis.adoption(Store(), requirement, first, last)
    assert len(rows) == 21
    for day, row in enumerate(rows):
        end = first + (day + 1) * DAY - 1
        status = {}
        for host, site, packager, version, arch, installed, removed in intervals:
            if installed <= end and (removed is None or removed > end):
                status.setdefault((site, host), []).append((version, arch))
        verdicts = {key: all(requirement.satisfied_by("rpm", v)
                             for v in newest_per_arch("rpm", active).values())
                    for key, active in status.items()}
        sites = {}
        for (site, _), ok in verdicts.items():
            sites[site] = sites.get(site, True) and ok
        assert row == analysis.AdoptionDay(
            first + day * DAY, hosts_ok=sum(verdicts.values()),
            hosts_behind=len(verdicts) - sum(verdicts.values()), sites_ok=sum(sites.values()),
            sites_behind=len(sites) - sum(sites.values())), day


def test_fleet_changes_tell_a_kernel_beside_another_from_an_upgrade(store):
    """A version that replaced another is an upgrade only if no other
    version stayed across the change, also when that one was installed
    long before the start of the change log."""
    from wlcg_collector import analysis
    from wlcg_collector.report import parse_report
    k1 = ("kernel", "0:5.14.0-100.el9", "x86_64")
    k2, k3 = ("kernel", "0:5.14.0-200.el9", "x86_64"), ("kernel", "0:5.14.0-300.el9", "x86_64")

    def put(host, packages, day):
        report = make_report("T2_K", host, packages, ts=T0 + day * DAY)
        store.writer.store_report(parse_report(report), T0 + day * DAY, "192.0.2.1")
    put("side.example.org", [k1, k2], 0)
    put("side.example.org", [k1, k3], 3)    # k1 stays: k2 removed, k3 installed
    put("swap.example.org", [k2], 0)
    put("swap.example.org", [k3], 3)        # k2 replaced: an upgrade
    rows = analysis.fleet_changes(store, T0 + 2 * DAY)
    assert [(r.host, r.action, r.old, r.new) for r in rows] == [
        ("side.example.org", "installed", None, k3[1]),
        ("side.example.org", "removed", k2[1], None),
        ("swap.example.org", "upgraded", k2[1], k3[1]),
    ]
    assert analysis.fleet_changes(store, T0 + 2 * DAY, package="bash") == []
    assert len(analysis.fleet_changes(store, T0 + 2 * DAY, package="kernel")) == 3


def test_host_masks():
    from wlcg_collector.host_masks import HostMasks
    from wlcg_collector.db.records import HostAt
    hosts = [HostAt(7, "T2_A", "a.example.org", "rpm", None, None),
             HostAt(3, "T2_A", "b.example.org", "rpm", None, None),
             HostAt(12, "T2_B", "c.example.org", "rpm", None, None)]
    masks = HostMasks(hosts)
    a_and_c = masks.of([12, 7, 99, 5])          # 99, 5: hosts not in the list
    b_and_c = masks.of([3, 12])
    names = [h.name for h in hosts]
    assert list(masks.select(names, a_and_c)) == ["a.example.org", "c.example.org"]
    assert list(masks.select(names, a_and_c & b_and_c)) == ["c.example.org"]
    assert list(masks.select(names, a_and_c & ~b_and_c)) == ["a.example.org"]
    assert list(masks.select(names, a_and_c | b_and_c)) == names
    assert masks.of([]) == 0 and list(masks.select(names, 0)) == []
    assert HostMasks([]).of([1]) == 0
    # the store's bitmaps of host ids (bit i of byte i // 8), as both
    # dialects make them
    from wlcg_collector.db.database import ids_to_bitmap, words_to_bitmap
    bitmap = ids_to_bitmap("12,7,99,5")
    assert bitmap == words_to_bitmap({0: (1 << 12) | (1 << 7) | (1 << 5),
                                      1: 1 << 35}).rstrip(b"\0")
    assert masks.of_bitmap(bitmap) == a_and_c
    assert masks.of_bitmap(ids_to_bitmap("3")) == masks.of([3])
    assert masks.of_bitmap(b"") == 0 and ids_to_bitmap("") == b""
    assert list(HostMasks(hosts[:1]).select(names[:1], HostMasks(hosts[:1]).of([7]))) == \
        ["a.example.org"]


def test_baseline_add_warns_of_dpkg_relations_without_a_revision(store, tmp_path):
    """Without a revision a requirement compares the upstream version only:
    for dpkg, `libc6 >> 2.36` holds for 2.36-9+deb12u7; here `libc6 > 2.36`
    does not. baseline add says so for dpkg-scoped <, <= and > lines."""
    path = tmp_path / "deb.txt"
    path.write_text("[system: Debian*]\nlibc6 > 2.36\nlibc6 >= 2.36\nbash < 5.2-1\n"
                    "[system: el9]\nxrootd > 5.6\n")
    code, out, err = run(store, "baseline", "add", "deb", str(path))
    assert code == 0 and out == "baseline deb revision 1: 4 requirement(s)\n"
    assert err == ("wlcg-collector: warning: %s:2: libc6 > 2.36 compares the upstream version "
                   "only, as rpm does without a release; dpkg compares the whole version "
                   "(write a revision, e.g. 2.36-0, to get dpkg's answer)\n" % path)
    assert not parse_requirement("libc6 > 2.36").satisfied_by("dpkg", "2.36-9+deb12u7")
    assert parse_requirement("libc6 > 2.36-0").satisfied_by("dpkg", "2.36-9+deb12u7")


def test_upgrade_merges_hosts_that_were_one_under_two_spellings(fresh_database_url):
    """Schema 3 told 'T2_Dup' from 't2_dup' and 'wn1.dup.org.' from
    'wn1.dup.org'; schema 4 does not: the upgrade merges them, keeping every
    interval and report, and later reports in any spelling go to the one."""
    import os
    from helpers import ROOT
    from wlcg_collector.db.packages import package_key
    from wlcg_collector.report import package_set_hash, parse_report
    from wlcg_collector.db import SCHEMA_VERSION
    store = open_store(fresh_database_url)
    store.schema.run_file(os.path.join(ROOT, "tests", "fixtures", "schema-v3",
                                       store.db.dialect.name + ".sql"))
    sql = store.db.dialect.compile
    old, new = EL7[:1], EL7[1:]

    def work(cursor):
        for index, (name, version, arch) in enumerate(EL7):
            cursor.execute(sql("INSERT INTO packages (packager, name, version, arch, key_hash) "
                               "VALUES ('rpm', {p}, {p}, {p}, {p})"),
                           (name, version, arch, package_key("rpm", name, version, arch)))
        cursor.execute(sql("SELECT id FROM packages ORDER BY id"))
        ids = [row[0] for row in cursor.fetchall()]
        for site, host, packages, package_ids, last in (
                ("T2_Dup", "wn1.dup.org", old, ids[:1], T0 + DAY),
                ("t2_dup", "wn1.dup.org.", new, ids[1:], T0 + 2 * DAY)):
            cursor.execute(sql(
                "INSERT INTO hosts (site, name, packager, facts, set_hash, package_count, "
                "first_report, last_report, last_received) VALUES ({p}, {p}, 'rpm', '{}', {p}, "
                "{p}, {p}, {p}, {p})"), (site, host, package_set_hash("rpm", packages),
                                         len(packages), last - DAY, last, last))
            cursor.execute(sql("SELECT id FROM hosts WHERE name = {p}"), (host,))
            host_id = cursor.fetchone()[0]
            for package_id in package_ids:
                cursor.execute(sql("INSERT INTO installs (host_id, package_id, installed, "
                                   "removed) VALUES ({p}, {p}, {p}, NULL)"),
                               (host_id, package_id, last - DAY))
            cursor.execute(sql("INSERT INTO reports (host_id, digest, received, collected, "
                               "sender, packages, changed, applied) VALUES ({p}, {p}, {p}, {p}, "
                               "'192.0.2.1', 1, 1, 1)"), (host_id, bytes([host_id]) * 32,
                                                          last, last))
    store.db.transaction(work)
    store.close()
    assert run_cli(["--db", fresh_database_url, "init-db"])[1] == \
        "upgraded schema from version 3 to %d\n" % SCHEMA_VERSION
    store = open_store(fresh_database_url)
    try:
        [host] = store.hosts.listed()
        assert (host.site, host.name, host.first_report) == ("t2_dup", "wn1.dup.org", T0)
        assert store.testing.row_counts() == {"hosts": 1, "packages": 2, "installs": 2,
                                              "reports": 2}
        assert store.hosts.state(host.id) == new                 # the spelling heard from last
        assert store.hosts.state(host.id, T0 + DAY) == old + new  # every interval kept
        # any spelling is this host now
        report = parse_report(make_report("T2_DUP", "WN1.dup.org.", new, ts=T0 + 3 * DAY))
        assert store.writer.store_report(report, T0 + 3 * DAY, "192.0.2.1").outcome == "unchanged"
        assert [h.id for h in store.hosts.listed("T2_dUP")] == [host.id]
        assert store.hosts.find("wn1.dup.org", "T2_DUP").id == host.id
    finally:
        store.close()


def test_compare_over_many_hosts_equals_a_host_by_host_judgement(store):
    """Hosts whose ids span several 64-bit words of the holders' bitmaps
    (MariaDB's BIT_OR blocks): every row of compare is what judging each
    host's own state says, hosts gone from a package at the time included."""
    from wlcg_collector import analysis
    from wlcg_collector.baselines import newest_per_arch
    from wlcg_collector.report import parse_report
    from wlcg_collector.versions import compare
    x_old, x_new = ("xrootd", "1:5.6.9-1.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64")
    for n in range(150):
        packages = [x_new if n % 3 == 0 else x_old, ("bash", "0:5.1.8-9.el9", "x86_64")] + \
            ([K_OLD] if n % 5 else []) + ([K_NEW] if n % 7 == 0 else [])
        store.writer.store_report(parse_report(make_report(
            "T2_S%d" % (n % 4), "h%03d.example.org" % n, packages, ts=T0)), T0, "192.0.2.1")
        if n % 11 == 0:  # then its xrootd goes: absent from day 1 on
            store.writer.store_report(parse_report(make_report(
                "T2_S%d" % (n % 4), "h%03d.example.org" % n, packages[1:], ts=T0 + DAY)),
                T0 + DAY, "192.0.2.1")
    requirements = parse_baseline("xrootd >= 1:5.7.1-1.el9\nkernel >= 5.14.0-500\n", "b")
    for at in (T0 + 3600, T0 + 2 * DAY):
        expected = set()
        for host in store.hosts.listed():
            state = store.hosts.state(host.id, at)
            for requirement in requirements:
                held = [(p.version, p.arch) for p in state if p.name == requirement.name]
                if not held:
                    expected.add((host.site, host.name, requirement.name, None, None,
                                  requirement.text, "absent"))
                for arch, version in newest_per_arch("rpm", held).items():
                    verdict = "ok" if compare("rpm", version, requirement.version) >= 0 \
                        else "behind"
                    expected.add((host.site, host.name, requirement.name, arch, version,
                                  requirement.text, verdict))
        rows = analysis.compliance(store, requirements, at).rows()
        assert len(rows) == len(set(rows)) and set(rows) == expected


# ---------------------------------------------------------------- a baseline that says nothing

def test_hosts_no_requirement_applies_to_are_not_applicable(shared_fleet, tmp_path):
    """An EL7-only baseline applies to T2_C's EL7 host only: the other
    sites have no applicable host and show n/a, not 100 %; T2_C counts its
    EL7 host (its Debian host is out of scope), in every format."""
    path = tmp_path / "el7.txt"
    path.write_text("[system: el7]\nxrootd >= 1:4.12.6\n")
    code, out, err = run(shared_fleet, "compare", str(path), "--summary")
    assert (code, err) == (0, "")
    assert [line.split() for line in out.splitlines()] == [
        ["SITE", "HOSTS", "APPLICABLE", "BEHIND", "COMPLIANT"],
        ["T2_A", "2", "0", "0", "n/a"], ["T2_B", "2", "0", "0", "n/a"],
        ["T2_C", "2", "1", "1", "0.0%"], ["T2_D", "1", "0", "0", "n/a"]]
    code, out, err = run(shared_fleet, "compare", str(path), "--summary", "--format", "json")
    assert json.loads(out)[0] == {"site": "T2_A", "hosts": 2, "applicable": 0, "behind": 0,
                                  "compliant": "n/a"}
    code, out, err = run(shared_fleet, "compare", str(path), "--summary", "--format", "csv")
    assert out.splitlines()[:2] == ["site,hosts,applicable,behind,compliant", "T2_A,2,0,0,n/a"]
    # a host in scope without the package is not applicable either
    path.write_text("[system: Debian*]\nxrootd-client >= 5.6\n")
    code, out, err = run(shared_fleet, "compare", str(path), "--summary", "--format", "json")
    assert [(r["site"], r["applicable"], r["compliant"]) for r in json.loads(out)] == [
        ("T2_A", 0, "n/a"), ("T2_B", 0, "n/a"), ("T2_C", 0, "n/a"), ("T2_D", 0, "n/a")]


def test_a_scope_no_system_matches_is_a_warning(shared_fleet, tmp_path):
    """[system: alma9] matches no system the fleet reports (el9 or
    'AlmaLinux 9*' would): baseline add and compare say so, naming the
    systems known; the baseline is stored all the same."""
    path = tmp_path / "alma.txt"
    path.write_text("[system: alma9]\nxrootd >= 1:5.7.1\n[system: el9]\nkernel >= 5.14.0-500\n")
    warning = ("[system: alma9] matches none of the systems the hosts report (known: "
               "AlmaLinux 9.4, CentOS Linux 7, Debian GNU/Linux 12, Rocky Linux 9.3): its "
               "lines apply to no host\n")
    code, out, err = run(shared_fleet, "baseline", "add", "alma", str(path))
    assert (code, out) == (0, "baseline alma revision 1: 2 requirement(s)\n")
    assert err == "wlcg-collector: warning: %s:2: %s" % (path, warning)
    code, out, err = run(shared_fleet, "compare", "alma", "--summary")
    assert code == 0 and err == "wlcg-collector: warning: alma:2: " + warning
    # adoption of the line with --baseline: the same warning
    code, out, err = run(shared_fleet, "adoption", "xrootd", "--baseline", "alma", "--from",
                         date(3), "--to", date(4))
    assert code == 0 and err == "wlcg-collector: warning: alma:2: " + warning, err


def test_a_requirement_without_the_epoch_its_builds_carry_is_a_warning(shared_fleet, tmp_path):
    """`xrootd >= 5.7.1` is epoch 0, as rpm has it: every xrootd of the
    fleet (epoch 1) is ok, 5.6.9 too. The answer stays rpm's; baseline
    add, compare and adoption say what was likely meant."""
    path = tmp_path / "noepoch.txt"
    path.write_text("# no epoch\nxrootd >= 5.7.1\nbash >= 4.2\n")
    warning = ("every installed xrootd has epoch 1: did you mean 1:5.7.1? (xrootd >= 5.7.1 "
               "compares as epoch 0, as rpm does: every build of it is ok whatever its "
               "version)\n")
    code, out, err = run(shared_fleet, "baseline", "add", "noepoch", str(path))
    assert code == 0 and err == "wlcg-collector: warning: %s:2: %s" % (path, warning)
    code, out, err = run(shared_fleet, "compare", "noepoch", "--format", "json")
    assert err == "wlcg-collector: warning: noepoch:2: " + warning
    assert {r["status"] for r in json.loads(out) if r["package"] == "xrootd"} == {"ok", "absent"}
    code, out, err = run(shared_fleet, "adoption", "xrootd >= 5.7.1", "--from", date(3),
                         "--to", date(4))
    assert code == 0 and err == "wlcg-collector: warning: " + warning
    # with the epoch: nothing to say
    path.write_text("xrootd >= 1:5.7.1\n")
    assert run(shared_fleet, "compare", str(path), "--summary")[2] == ""


def test_adoption_of_a_baseline_line_honours_its_scope(shared_fleet, tmp_path):
    """adoption --baseline judges each host by the baseline's line for its
    system: the EL7 host, out of the el9 line's scope, is not counted
    behind (as compare does not count it)."""
    path = tmp_path / "el9.txt"
    path.write_text("[system: el9]\nxrootd >= 1:5.7.1\n")
    assert run(shared_fleet, "baseline", "add", "el9x", str(path))[0] == 0
    expected = [
        {"date": date(0), "hosts_ok": 0, "hosts_behind": 5, "sites_ok": 0, "sites_behind": 3},
        {"date": date(4), "hosts_ok": 3, "hosts_behind": 2, "sites_ok": 1, "sites_behind": 2}]
    for named in ("xrootd", "xrootd >= 1:5.7.1"):
        code, out, err = run(shared_fleet, "adoption", named, "--baseline", "el9x", "--from",
                             date(0), "--to", date(4), "--format", "json")
        assert code == 0, err
        days = json.loads(out)
        assert [days[0], days[-1]] == expected
    code, _, err = run(shared_fleet, "adoption", "kernel", "--baseline", "el9x")
    assert code == 2 and "baseline el9x@1 has no line for 'kernel'" in err


def test_compare_sorts_its_summary(shared_fleet, tmp_path):
    """--sort compliance: the least compliant first, n/a last; behind: the
    most hosts behind first; ties in site order."""
    path = tmp_path / "el9.txt"
    path.write_text("[system: el9]\nxrootd >= 1:5.7.1\nkernel >= 5.14.0-500\n")

    def order(sort):
        code, out, err = run(shared_fleet, "compare", str(path), "--summary", "--sort", sort,
                             "--format", "json")
        assert code == 0, err
        return [(row["site"], row["compliant"]) for row in json.loads(out)]
    assert order("site") == [("T2_A", "50.0%"), ("T2_B", "0.0%"), ("T2_C", "n/a"),
                             ("T2_D", "0.0%")]
    assert order("compliance") == [("T2_B", "0.0%"), ("T2_D", "0.0%"), ("T2_A", "50.0%"),
                                   ("T2_C", "n/a")]
    assert [site for site, _ in order("behind")] == ["T2_B", "T2_A", "T2_D", "T2_C"]


def test_the_upgrade_to_13_stopped_after_its_index_went_runs_again(fresh_database_url,
                                                                    new_schema_shape):
    """MariaDB commits the upgrade's ALTER TABLE on its own: a process
    stopped before the version row moved leaves schema 12 without the
    index, and init-db must still finish the upgrade."""
    import os
    from helpers import ROOT
    store = open_store(fresh_database_url)
    try:
        dialect = store.db.dialect.name
        store.schema.run_file(os.path.join(ROOT, "tests", "fixtures", "schema-v12",
                                           dialect + ".sql"))
        store.db.transaction(lambda cursor: cursor.execute(
            "DROP INDEX installs_host" + (" ON installs" if dialect == "mysql" else "")))
        assert store.schema.version() == 12
        assert store.schema.init() == (12, 13)
        assert store.testing.schema_shape() == new_schema_shape(dialect)
    finally:
        store.close()


@pytest.mark.parametrize("fresh_database_url", ["mysql"], indirect=True)
def test_the_upgrade_to_13_as_mysql_reads_it_runs_again(fresh_database_url, new_schema_shape):
    """MySQL 8.0 reads no /*M! comment (MariaDB's IF EXISTS): the upgrade
    file as MySQL reads it must run again after its ALTER TABLE committed
    and the process stopped before the version row moved."""
    import os
    import re
    from helpers import ROOT
    store = open_store(fresh_database_url)
    try:
        store.schema.run_file(os.path.join(ROOT, "tests", "fixtures", "schema-v12", "mysql.sql"))
        with open(os.path.join(ROOT, "sql", "upgrades", "mysql", "12-13.sql")) as handle:
            as_mysql = re.sub(r"/\*M!\d+ [^*]*\*/", "", handle.read())
        statements = as_mysql.split("UPDATE schema_version")[0]
        conn = store.db.connection()
        store.db.dialect.run_script(conn, statements)  # the ALTER, committed; then stopped
        assert store.schema.version() == 12
        store.db.dialect.run_script(conn, as_mysql)  # init-db again
        assert store.schema.version() == 13
        assert store.testing.schema_shape() == new_schema_shape("mysql")
    finally:
        store.close()

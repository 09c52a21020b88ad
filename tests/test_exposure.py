"""Who is exposed to which advisory, on a fleet stored through ingest over
five days, with the vendors' real advisory files (tests/fixtures/advisories,
see its SOURCES.md): hosts before, at and after the fixed version, on the
right and the wrong OS stream, with and without the package, an epoch, a
`~` version, an EL module build, source-named advisories matched through
the reporter's fourth field. The verdicts are checked against what rpm
(`rpm.labelCompare`) and `dpkg --compare-versions` say for the same pairs,
and the exposure windows against the report dates that made them."""

import json
import os
import shutil
import subprocess
import time

import pytest

import test_officer as officer_fleet
from helpers import FIXTURES, make_report, run_cli
from wlcg_collector.advisories import exposure as judging
from wlcg_collector.advisories.formats import parse
from wlcg_collector.advisories.matching import in_range
from wlcg_collector.advisories.streams import StreamTable
from wlcg_collector.crypto import encrypt
from wlcg_collector.db import open_store
from wlcg_collector.ingest import ingest

DAY = 86400
NOW = int(time.time())
TODAY = NOW // DAY * DAY
T0 = TODAY - 4 * DAY
ADVISORIES = os.path.join(FIXTURES, "advisories")
SYSTEM_PYTHON = "/usr/bin/python3"


# an hour into each day, or less early in today: the last day's report, and
# its receipt, must not be later than NOW (between 00:00 and 01:00 UTC they
# would be, and a host fixed that day would still count as exposed now)
HOUR_OF_REPORTS = min(3600, (NOW - TODAY) // 3)


def at(day):
    """When the day's report was made (its ts)."""
    return T0 + day * DAY + HOUR_OF_REPORTS


AVAHI_OLD = ("avahi", "0:0.8-15.el9", "x86_64")
AVAHI_FIX = ("avahi", "0:0.8-20.el9", "x86_64")
AVAHI_NEW = ("avahi", "0:0.8-22.el9_5", "x86_64")
BASH9 = ("bash", "0:5.1.8-9.el9", "x86_64")
BASH8 = ("bash", "0:4.4.20-4.el8_6", "x86_64")
# mariadb:10.3 is fixed in 3:10.3.39-1.module_el8.8.0+3609+204d4ab0 (ALSA-2023:5259)
MARIADB_103_OLD = ("mariadb", "3:10.3.35-1.module_el8.6.0+2867+72759d2f", "x86_64")
MARIADB_103_FIX = ("mariadb", "3:10.3.39-1.module_el8.8.0+3609+204d4ab0", "x86_64")
MARIADB_105 = ("mariadb", "3:10.5.16-2.module_el8.6.0+3174+0bf2ede9", "x86_64")
MARIADB_PLAIN = ("mariadb", "3:10.3.28-1.el8", "x86_64")          # not a module build
MARIADB_EPOCH0 = ("mariadb", "0:10.3.99-1.module_el8.9.0+1+0abc1234", "x86_64")  # epoch 0 < 3
# RHSA-2024:6163 names the source python3.9 only (fixed 0:3.9.18-3.el9_4.5)
PY_LIBS_OLD = ("python3-libs", "0:3.9.18-3.el9_4.3", "x86_64", "python3.9")
PY_LIBS_FIX = ("python3-libs", "0:3.9.18-3.el9_4.5", "x86_64", "python3.9")
# RHSA-2025:23414: bind for RHEL 6 (ELS), per arch
BIND_LIBS_OLD = ("bind-libs", "32:9.8.2-0.68.rc1.el6_10.16", "x86_64")
BIND_LIBS_OLD_PPC = ("bind-libs", "32:9.8.2-0.68.rc1.el6_10.16", "ppc64")  # not listed
BIND_FIX = ("bind", "32:9.8.2-0.68.rc1.el6_10.17", "x86_64")
# USN-5614-1: libwayland-client0 on 18.04 fixed in 1.16.0-1ubuntu1.1~18.04.4, on 22.04 in
# 1.20.0-1ubuntu0.1; UBUNTU-CVE-2021-3782 (Ubuntu Pro) on 16.04 in 1.12.0-1~ubuntu16.04.3+esm1
WAYLAND_1804_OLD = ("libwayland-client0", "1.16.0-1ubuntu1.1~18.04.3", "amd64", "wayland")
WAYLAND_1804_NEWER = ("libwayland-client0", "1.16.0-1ubuntu1.1", "amd64", "wayland")  # > ~18.04.4
WAYLAND_2204_OLD = ("libwayland-client0", "1.20.0-1", "amd64", "wayland")
WAYLAND_2204_FIX = ("libwayland-client0", "1.20.0-1ubuntu0.1", "amd64", "wayland")
WAYLAND_1604_OLD = ("libwayland-client0", "1.12.0-1~ubuntu16.04.3", "amd64", "wayland")
# the Debian tracker: sope fixed in bookworm in 5.8.0-1+deb12u1 (and DSA-5970-1);
# chromium open in buster (every version), fixed in bookworm in 98.0.4758.80-1
SOPE_OLD = ("libsope1", "5.8.0-1", "amd64", "sope")
SOPE_OLD_NO_SOURCE = ("libsope1", "5.7.0-1", "amd64")  # a build no host named the source of
CHROMIUM_OLD = ("chromium", "97.0.4692.99-1", "amd64", "chromium")
CHROMIUM_NEW = ("chromium", "120.0.6099.224-1~deb12u1", "amd64", "chromium")
LIBC12 = ("libc6", "2.36-9+deb12u4", "amd64", "glibc")

ALMA9, ALMA8, ROCKY9 = "AlmaLinux 9.4", "AlmaLinux 8.9", "Rocky Linux release 9.3 (Blue Onyx)"
CENTOS6 = "CentOS release 6.10 (Final)"
DEB12, DEB10 = "Debian GNU/Linux 12", "Debian GNU/Linux 10 (buster)"
U1804, U2204, U1604 = "Ubuntu 18.04.6 LTS", "Ubuntu 22.04", "Ubuntu 16.04.7 LTS"

# (site, host, system, packager, {day: packages}); a missing day: no report.
# A package with a fourth field makes the report format 2.
FLEET = [
    ("T2_ALMA", "a-before", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD] for d in range(5)}),
    ("T2_ALMA", "a-at", ALMA9, "rpm", {d: [BASH9, AVAHI_FIX] for d in range(5)}),
    ("T2_ALMA", "a-after", ALMA9, "rpm", {d: [BASH9, AVAHI_NEW] for d in range(5)}),
    ("T2_ALMA", "a-fixed", ALMA9, "rpm",
     {d: [BASH9, AVAHI_OLD if d < 2 else AVAHI_FIX] for d in range(5)}),
    ("T2_ALMA", "a-removed", ALMA9, "rpm",
     {d: [BASH9] + ([AVAHI_OLD] if d < 3 else []) for d in range(5)}),
    ("T2_ALMA", "a-without", ALMA9, "rpm", {d: [BASH9] for d in range(5)}),
    ("T2_ALMA", "a-late", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD] for d in (3, 4)}),
    # the wrong stream for ALSA-2024:2433 (an AlmaLinux 9 advisory)
    ("T2_OTHER", "a8-avahi", ALMA8, "rpm", {d: [BASH8, AVAHI_OLD] for d in range(5)}),
    ("T2_OTHER", "rocky-avahi", ROCKY9, "rpm", {d: [BASH9, AVAHI_OLD] for d in range(5)}),
    # EL8 module builds
    ("T2_MOD", "m-old", ALMA8, "rpm", {d: [BASH8, MARIADB_103_OLD] for d in range(5)}),
    ("T2_MOD", "m-fix", ALMA8, "rpm", {d: [BASH8, MARIADB_103_FIX] for d in range(5)}),
    ("T2_MOD", "m-105", ALMA8, "rpm", {d: [BASH8, MARIADB_105] for d in range(5)}),
    ("T2_MOD", "m-plain", ALMA8, "rpm", {d: [BASH8, MARIADB_PLAIN] for d in range(5)}),
    ("T2_MOD", "m-epoch", ALMA8, "rpm", {d: [BASH8, MARIADB_EPOCH0] for d in range(5)}),
    # a source-named advisory (Red Hat CSAF .src), Rocky falling back to Red Hat:9
    ("T2_RH", "r-py-old", ROCKY9, "rpm", {d: [BASH9, PY_LIBS_OLD] for d in range(5)}),
    ("T2_RH", "r-py-fix", ROCKY9, "rpm", {d: [BASH9, PY_LIBS_FIX] for d in range(5)}),
    ("T2_RH", "r-py-nosource", ROCKY9, "rpm", {d: [BASH9, PY_LIBS_OLD[:3]] for d in range(5)}),
    ("T2_RH", "c6-bind", CENTOS6, "rpm", {d: [BIND_LIBS_OLD] for d in range(5)}),
    ("T2_RH", "c6-bind-ppc", CENTOS6, "rpm", {d: [BIND_LIBS_OLD_PPC] for d in range(5)}),
    ("T2_RH", "c6-bind-fix", CENTOS6, "rpm", {d: [BIND_FIX] for d in range(5)}),
    # dpkg: `~` versions, Ubuntu Pro, the Debian tracker and DSA list
    ("T2_DEB", "u18-old", U1804, "dpkg", {d: [WAYLAND_1804_OLD] for d in range(5)}),
    ("T2_DEB", "u18-newer", U1804, "dpkg", {d: [WAYLAND_1804_NEWER] for d in range(5)}),
    ("T2_UBU", "u22-old", U2204, "dpkg",
     {d: [WAYLAND_2204_OLD if d < 1 else WAYLAND_2204_FIX] for d in range(5)}),
    ("T2_DEB", "u16-pro", U1604, "dpkg", {d: [WAYLAND_1604_OLD] for d in range(5)}),
    ("T2_DEB", "d12-sope", DEB12, "dpkg", {d: [LIBC12, SOPE_OLD, CHROMIUM_OLD] for d in range(5)}),
    ("T2_DEB", "d12-nosource", DEB12, "dpkg", {d: [SOPE_OLD_NO_SOURCE] for d in range(5)}),
    ("T2_DEB", "d12-new", DEB12, "dpkg", {d: [LIBC12, CHROMIUM_NEW] for d in range(5)}),
    ("T2_DEB", "d10-chromium", DEB10, "dpkg", {d: [CHROMIUM_NEW] for d in range(5)}),
]


# ALSA-2024:2433 on a site that patched all but one host late, and one that
# never patched half of its hosts: h-late got avahi after its first report
PATCHING = [
    ("T2_DRAINED", "d-quick", ALMA9, "rpm", {d: [BASH9, AVAHI_FIX] for d in range(5)}),
    ("T2_DRAINED", "d-straggler", ALMA9, "rpm",
     {d: [BASH9, AVAHI_OLD if d < 4 else AVAHI_FIX] for d in range(5)}),
    ("T2_HALF", "h-quick", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD if d < 1 else AVAHI_FIX]
                                          for d in range(5)}),
    ("T2_HALF", "h-late", ALMA9, "rpm", {d: [BASH9] + ([AVAHI_OLD] if d >= 3 else [])
                                         for d in range(5)}),
]


def host_name(short):
    return "%s.example.org" % short


def ingest_fleet(store, collector_keys, fleet=None):
    return officer_fleet.ingest_fleet(store, collector_keys, FLEET if fleet is None else fleet,
                                      T0, host_name, HOUR_OF_REPORTS)


def import_fixtures(store):
    advisories = []
    for folder in sorted(os.listdir(ADVISORIES)):
        path = os.path.join(ADVISORIES, folder)
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                with open(os.path.join(path, name), "rb") as handle:
                    advisories.extend(parse(handle.read()))
    return store.advisories.import_records(advisories, T0 - 30 * DAY)


@pytest.fixture(scope="module")
def fleet(module_database_url, collector_keys):
    store = open_store(module_database_url)
    store.schema.init()
    ingest_fleet(store, collector_keys, FLEET + PATCHING)
    import_fixtures(store)
    yield store
    store.close()


def run(store, *args):
    return run_cli(["--db", store.db.dialect.describe()] + list(args))


def exposed_now(store, **kwargs):
    summary, details = judging.vulnerable(store, StreamTable(), NOW, **kwargs)
    return summary, {(d[1].split(".")[0], d[2], d[4], d[5]) for d in details}


def test_vulnerable_now(fleet):
    summary, exposed = exposed_now(fleet)
    assert exposed == {
        ("a-before", "ALSA-2024:2433", "avahi", "x86_64"),
        ("a-late", "ALSA-2024:2433", "avahi", "x86_64"),
        ("h-late", "ALSA-2024:2433", "avahi", "x86_64"),
        ("m-old", "ALSA-2023:5259", "mariadb", "x86_64"),
        ("m-epoch", "ALSA-2023:5259", "mariadb", "x86_64"),
        ("r-py-old", "RHSA-2024:6163", "python3-libs", "x86_64"),
        ("c6-bind", "RHSA-2025:23414", "bind-libs", "x86_64"),
        ("u18-old", "USN-5614-1", "libwayland-client0", "amd64"),
        ("u18-old", "UBUNTU-CVE-2021-3782", "libwayland-client0", "amd64"),
        # pakiti-client sends no source names, but r-py-old's reporter named this
        # build's source: a package row is shared (d12-nosource's build has none)
        ("r-py-nosource", "RHSA-2024:6163", "python3-libs", "x86_64"),
        ("u16-pro", "UBUNTU-CVE-2021-3782", "libwayland-client0", "amd64"),
        ("d12-sope", "DEBIAN-CVE-2025-53603", "libsope1", "amd64"),
        ("d12-sope", "DSA-5970-1", "libsope1", "amd64"),
        ("d12-sope", "DEBIAN-CVE-2022-0456", "chromium", "amd64"),
        # open in buster: every version
        ("d10-chromium", "DEBIAN-CVE-2022-0456", "chromium", "amd64"),
    }
    by_site = {s.site: s for s in summary}
    assert set(by_site) == {"T2_ALMA", "T2_MOD", "T2_RH", "T2_DEB", "T2_HALF"}
    assert (by_site["T2_ALMA"].hosts, by_site["T2_ALMA"].exposed,
            by_site["T2_ALMA"].advisories) == (7, 2, 1)
    assert by_site["T2_RH"].important == 1 and by_site["T2_RH"].moderate == 1
    # important first, then by hosts exposed
    assert [s.site for s in summary] == ["T2_RH", "T2_DEB", "T2_ALMA", "T2_MOD", "T2_HALF"]


def test_vulnerable_in_the_past_and_by_severity(fleet):
    _, exposed = exposed_now(fleet)
    _, day0 = judging.vulnerable(fleet, StreamTable(), at(0) + 10)
    hosts0 = {d[1].split(".")[0] for d in day0}
    # fixed on day 1 and 2, removed on day 3, not yet there on day 0
    assert {"a-fixed", "a-removed", "u22-old"} <= hosts0
    assert "a-late" not in hosts0
    assert not {"a-fixed", "a-removed", "u22-old"} & {e[0] for e in exposed}
    _, important = judging.vulnerable(fleet, StreamTable(), NOW,
                                      severities=("critical", "important"))
    # (the tracker gives chromium's CVE no urgency yet: unknown)
    assert {(d[1].split(".")[0], d[2]) for d in important} == {
        ("c6-bind", "RHSA-2025:23414")}


def test_verdicts_agree_with_rpm_and_dpkg(fleet):
    """Each (installed, fixed) pair the fleet judges, compared by the real
    tools: exposed exactly when installed < fixed (module streams apart)."""
    if not os.environ.get("CI") and (not os.path.exists(SYSTEM_PYTHON) or subprocess.run(
            [SYSTEM_PYTHON, "-c", "import rpm"], stderr=subprocess.DEVNULL).returncode):
        pytest.skip("python3-rpm is not installed")
    rows = fleet.advisories.affected_rows()
    pairs = {"rpm": set(), "dpkg": set()}
    for _, _, _, packager, days in FLEET:
        for package in (p for packages in days.values() for p in packages):
            for row in rows:
                if row.name in (package[0], package[3] if len(package) > 3 else None) \
                        and row.fixed and (row.arch in (None, package[2])):
                    pairs[packager].add((package[1], row.fixed, row.module is not None))
    assert len(pairs["rpm"]) >= 8 and len(pairs["dpkg"]) >= 6
    script = ("import json, sys, rpm\n"
              "def evr(t):\n"
              "    e, _, vr = t.rpartition(':')\n"
              "    v, _, r = vr.rpartition('-')\n"
              "    return (e or '0', v, r)\n"
              "print(json.dumps([rpm.labelCompare(evr(a), evr(b)) for a, b in json.load("
              "sys.stdin)]))\n")
    rpm_pairs = sorted(pairs["rpm"])
    said = json.loads(subprocess.run(
        [SYSTEM_PYTHON, "-c", script], input=json.dumps([p[:2] for p in rpm_pairs]).encode(),
        stdout=subprocess.PIPE, check=True).stdout)
    for (installed, fixed, module), verdict in zip(rpm_pairs, said):
        row = [r for r in rows if r.fixed == fixed][0]
        ours = in_range(row, "rpm", installed)
        if module and ".module_el" not in installed:
            assert ours is False  # a plain build is not on the module's stream
        elif module and not installed.split(":")[1].startswith("10.3."):
            assert ours is False  # another module stream (10.5)
        else:
            assert ours == (verdict < 0), (installed, fixed, verdict)
    dpkg = shutil.which("dpkg", path="/usr/bin:/bin")
    for installed, fixed, _ in sorted(pairs["dpkg"]):
        row = [r for r in rows if r.fixed == fixed][0]
        lower = subprocess.run([dpkg, "--compare-versions", installed, "lt", fixed]).returncode
        assert in_range(row, "dpkg", installed) == (lower == 0), (installed, fixed)


def test_exposure_windows_follow_the_reports(fleet):
    info = fleet.advisories.get("ALSA-2024:2433")[0]
    result = judging.exposure(fleet, StreamTable(), info, NOW, "T2_ALMA")
    hosts = {h.host.split(".")[0]: h for h in result.hosts}
    assert set(hosts) == {"a-before", "a-fixed", "a-removed", "a-late"}
    assert (hosts["a-fixed"].exposed_since, hosts["a-fixed"].fixed_at,
            hosts["a-fixed"].ended_by) == (at(0), at(2), "fixed")
    assert hosts["a-fixed"].days_after_published == 2.0
    assert (hosts["a-removed"].fixed_at, hosts["a-removed"].ended_by) == (at(3), "removed")
    assert (hosts["a-before"].fixed_at, hosts["a-before"].ended_by) == (None, None)
    assert hosts["a-late"].exposed_since == at(3)  # its first report
    assert hosts["a-before"].days_after_published == round((NOW - at(0)) / DAY, 1)
    site = result.sites[0]
    assert (site.site, site.hosts, site.exposed_now) == ("T2_ALMA", 4, 2)
    assert site.worst_days == hosts["a-before"].days_after_published
    # the curve: hosts exposed at the end of each of the fleet's days
    last = {row.day: row.hosts for row in result.curve[-5:]}
    assert last == {T0: 3, T0 + DAY: 3, T0 + 2 * DAY: 2, T0 + 3 * DAY: 2, T0 + 4 * DAY: 2}
    # from the first report, not from the publication years before it
    assert info.published < T0 and [row.day for row in result.curve] == [
        T0 + d * DAY for d in range(5)]
    assert all(row.sites == (1 if row.hosts else 0) for row in result.curve)


def test_exposure_counts_only_days_after_publication(store, collector_keys):
    """The same advisory published on day 1: a-fixed (exposed from day 0 to
    day 2) was exposed one day after it; patch times count from then."""
    ingest_fleet(store, collector_keys, [entry for entry in FLEET if entry[0] == "T2_ALMA"])
    with open(os.path.join(ADVISORIES, "osv-almalinux", "almalinux9-ALSA-2024_2433.json")) as f:
        record = json.load(f)
    record["published"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at(1)))
    store.advisories.import_records(parse(json.dumps(record).encode()), NOW)
    info = store.advisories.get("ALSA-2024:2433")[0]
    result = judging.exposure(store, StreamTable(), info, NOW)
    days = {h.host.split(".")[0]: h.days_after_published for h in result.hosts}
    assert days["a-fixed"] == 1.0 and days["a-removed"] == 2.0
    assert days["a-late"] == round((NOW - at(3)) / DAY, 1)
    times = judging.patch_times(store, StreamTable(), NOW, since=at(1) - 10)
    assert [(t.site, t.advisories, t.fixed, t.open) for t in times] == [("T2_ALMA", 1, 0, 1)]
    assert times[0].median_days == times[0].worst_days == round((NOW - at(1)) / DAY, 1)
    assert judging.patch_times(store, StreamTable(), NOW, since=at(1) + 10) == []


def test_patch_times_per_site(fleet):
    times = {t.site: t for t in judging.patch_times(fleet, StreamTable(), NOW, since=0)}
    # a site is fixed when its last host is: T2_DEB's five advisories are open
    open_days = round((NOW - at(0)) / DAY, 1)
    # (every host was exposed in its first report, after the publication: at least)
    assert times["T2_DEB"] == judging.PatchTime("T2_DEB", 4, 4, 100.0, 5, 0, 5, open_days,
                                                open_days, False)
    # u22-old had USN-5614-1 and UBUNTU-CVE-2021-3782 fixed on day 1
    assert times["T2_UBU"] == judging.PatchTime("T2_UBU", 1, 0, 0.0, 2, 2, 0, 1.0, 1.0, False)
    assert times["T2_ALMA"] == judging.PatchTime("T2_ALMA", 4, 2, 50.0, 1, 0, 1, open_days,
                                                 open_days, False)
    # the largest share of hosts still exposed first
    assert list(times) == ["T2_DEB", "T2_MOD", "T2_RH", "T2_ALMA", "T2_HALF", "T2_DRAINED",
                           "T2_UBU"]
    only = judging.patch_times(fleet, StreamTable(), NOW, since=0, site="t2_ubu")
    assert [t.site for t in only] == ["T2_UBU"]


def test_the_commands(fleet, tmp_path):
    code, out, err = run(fleet, "vulnerable", "--site", "T2_ALMA")
    assert code == 0, err
    # per site, then one line per exposed host
    assert out.splitlines() == [
        "SITE     HOSTS  EXPOSED  ADVISORIES  CVES  CRITICAL  IMPORTANT  MODERATE  LOW  OTHER",
        "T2_ALMA  7      2        1           5     0         0          1         0    0",
        "",
        "SITE     HOST                  ADVISORIES  CVES  MOST_SEVERE",
        "T2_ALMA  a-before.example.org  1           5     ALSA-2024:2433 (moderate)",
        "T2_ALMA  a-late.example.org    1           5     ALSA-2024:2433 (moderate)"]
    code, out, err = run(fleet, "vulnerable", "--site", "T2_ALMA", "--rows")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows[3] == ["SITE", "HOST", "ADVISORY", "SEVERITY", "PACKAGE", "ARCH", "INSTALLED",
                       "FIXED"]
    assert ["T2_ALMA", "a-before.example.org", "ALSA-2024:2433", "moderate", "avahi", "x86_64",
            "0:0.8-15.el9", "0.8-20.el9"] in rows
    assert ["T2_ALMA", "7", "2", "1", "5", "0", "0", "1", "0", "0"] in rows
    code, out, err = run(fleet, "vulnerable", "--format", "json", "--severity", "important")
    assert code == 0, err
    assert [(r["host"], r["advisory"], r["package"], r["installed"], r["fixed"])
            for r in json.loads(out)] == [
        ("c6-bind.example.org", "RHSA-2025:23414", "bind-libs", BIND_LIBS_OLD[1],
         "32:9.8.2-0.68.rc1.el6_10.17")]
    code, out, err = run(fleet, "exposure", "CVE-2023-38469", "--format", "csv", "--site",
                         "T2_ALMA")
    assert code == 0, err
    assert out.splitlines()[0] == ("advisory,site,host,exposed_since,fixed_at,ended_by,"
                                   "days_after_published,start_known,days_known")
    assert len(out.splitlines()) == 5
    code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--site", "T2_ALMA")
    assert code == 0, err
    assert "4 host(s) ever exposed, 2 now" in out
    plot = tmp_path / "curve.svg"
    code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--curve", "--format", "json",
                         "--plot", str(plot), "--site", "T2_ALMA")
    assert code == 0, err
    assert json.loads(out)[-1] == {"advisory": "ALSA-2024:2433", "hosts": 2, "sites": 1,
                                   "date": time.strftime("%Y-%m-%d", time.gmtime(TODAY))}
    assert plot.read_bytes().lstrip().startswith(b"<?xml")
    code, out, err = run(fleet, "patch-times", "--since", "2000-01-01", "--format", "json")
    assert code == 0, err
    assert {r["site"] for r in json.loads(out)} == {"T2_ALMA", "T2_MOD", "T2_RH", "T2_DEB",
                                                    "T2_UBU", "T2_HALF", "T2_DRAINED"}
    code, out, err = run(fleet, "exposure", "NO-SUCH-1")
    assert (code, out) == (1, "") and err == "wlcg-collector: no advisory NO-SUCH-1\n"
    code, out, err = run(fleet, "vulnerable", "--severity", "dire")
    assert code == 2 and err.startswith("wlcg-collector: --severity dire: one of critical")


def osv_record(ident, summary, names):
    """An AlmaLinux 9 OSV record fixing these packages in xrootd 1:5.7.1
    (the severity is the summary's first word, as in AlmaLinux's)."""
    return {"id": ident, "summary": summary, "related": [],
            "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0)),
            "modified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0)),
            "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": name},
                          "ranges": [{"type": "ECOSYSTEM", "events": [
                              {"introduced": "0"}, {"fixed": "1:5.7.1-1.el9"}]}]}
                         for name in names]}


XROOTD_OLD = ("xrootd", "1:5.6.9-1.el9", "x86_64")
XROOTD_LIBS_OLD = ("xrootd-libs", "1:5.6.9-1.el9", "x86_64")


def test_vulnerable_names_a_hosts_most_severe_advisories_first(store, collector_keys):
    """One line per exposed host, sites as their upper case sorts: how many
    advisories (one fixing two of its packages counts once), the three most
    severe (critical, important, moderate, low, unknown; then by id), then
    "+N more". --rows gives every row; CSV and JSON are every row with or
    without it."""
    ingest_fleet(store, collector_keys, [
        ("T2_W", "v1", ALMA9, "rpm", {0: [BASH9, XROOTD_OLD, XROOTD_LIBS_OLD]}),
        ("T2_W", "v2", ALMA9, "rpm", {0: [BASH9, XROOTD_OLD]}),
        ("t2_v", "w1", ALMA9, "rpm", {0: [BASH9, XROOTD_LIBS_OLD]})])
    records = [osv_record("ALSA-2026:0005", "Low: xrootd update", ["xrootd"]),
               osv_record("ALSA-2026:0004", "Critical: xrootd update", ["xrootd"]),
               osv_record("ALSA-2026:0003", "Moderate: xrootd update", ["xrootd"]),
               osv_record("ALSA-2026:0002", "High: xrootd update", ["xrootd", "xrootd-libs"]),
               osv_record("ALSA-2026:0001", "Critical: xrootd-libs update", ["xrootd-libs"]),
               osv_record("ALSA-2026:0006", "xrootd update", ["xrootd"])]
    for record in records:
        store.advisories.import_records(parse(json.dumps(record).encode()), T0)
    code, out, err = run(store, "vulnerable")
    assert code == 0, err
    assert out.split("\n\n")[1].splitlines() == [
        "SITE  HOST            ADVISORIES  CVES  MOST_SEVERE",
        "t2_v  w1.example.org  2           0     ALSA-2026:0001 (critical), "
        "ALSA-2026:0002 (important)",
        "T2_W  v1.example.org  6           0     ALSA-2026:0001 (critical), "
        "ALSA-2026:0004 (critical), ALSA-2026:0002 (important) +3 more",
        "T2_W  v2.example.org  5           0     ALSA-2026:0004 (critical), "
        "ALSA-2026:0002 (important), ALSA-2026:0003 (moderate) +2 more"]
    code, out, err = run(store, "vulnerable", "--rows")
    rows = [line.split()[:4] for line in out.split("\n\n")[1].splitlines()]
    assert rows == [["SITE", "HOST", "ADVISORY", "SEVERITY"],
                    ["t2_v", "w1.example.org", "ALSA-2026:0001", "critical"],
                    ["t2_v", "w1.example.org", "ALSA-2026:0002", "important"],
                    ["T2_W", "v1.example.org", "ALSA-2026:0001", "critical"],
                    ["T2_W", "v1.example.org", "ALSA-2026:0004", "critical"],
                    ["T2_W", "v1.example.org", "ALSA-2026:0002", "important"],
                    ["T2_W", "v1.example.org", "ALSA-2026:0002", "important"],
                    ["T2_W", "v1.example.org", "ALSA-2026:0003", "moderate"],
                    ["T2_W", "v1.example.org", "ALSA-2026:0005", "low"],
                    ["T2_W", "v1.example.org", "ALSA-2026:0006", "unknown"],
                    ["T2_W", "v2.example.org", "ALSA-2026:0004", "critical"],
                    ["T2_W", "v2.example.org", "ALSA-2026:0002", "important"],
                    ["T2_W", "v2.example.org", "ALSA-2026:0003", "moderate"],
                    ["T2_W", "v2.example.org", "ALSA-2026:0005", "low"],
                    ["T2_W", "v2.example.org", "ALSA-2026:0006", "unknown"]]
    for fmt in ("json", "csv"):
        code, every, err = run(store, "vulnerable", "--format", fmt)
        assert code == 0, err
        assert run(store, "vulnerable", "--format", fmt, "--rows") == (0, every, "")
        assert len(json.loads(every) if fmt == "json" else every.splitlines()[1:]) == 14


def test_sources_are_stored_once_and_never_rewritten(fleet, collector_keys):
    """The fourth field fills a package row's source once; a later report
    naming another source for the same build changes nothing."""
    rows = fleet.advisories.package_rows(names=["python3-libs", "libsope1"])
    sources = {(r.name, r.version): r.source for r in rows.values()}
    assert sources[("python3-libs", PY_LIBS_OLD[1])] == "python3.9"
    assert sources[("libsope1", "5.8.0-1")] == "sope"
    key, cert = collector_keys
    liar = make_report("T2_EVIL", "liar.example.org", [BASH9, PY_LIBS_OLD[:3] + ("nothing",)],
                       ts=NOW - 60, system=ROCKY9, version="2")
    store = open_store(fleet.db.dialect.describe())
    try:
        assert ingest(store, encrypt(liar, cert), [collector_keys], "192.0.2.9").outcome \
            == "changed"
        rows = store.advisories.package_rows(names=["python3-libs"])
        assert {r.source for r in rows.values()} == {"python3.9"}
        _, exposed = exposed_now(store)
        assert ("liar", "RHSA-2024:6163", "python3-libs", "x86_64") in exposed
    finally:
        store.close()


def test_a_host_moving_to_format_2_names_its_sources(store):
    """The first format-2 report of a host whose set is unchanged still
    gives its packages' sources (rows made by pakiti-client's reports have
    none), and a report that makes a row gives it its source at once."""
    from wlcg_collector.report import parse_report
    packages = [BASH9, PY_LIBS_OLD[:3]]
    store.writer.store_report(
        parse_report(make_report("T2_X", "x.example.org", packages, ts=at(0))), at(0),
        "192.0.2.1")
    rows = store.advisories.package_rows(names=["python3-libs"])
    assert {r.source for r in rows.values()} == {None}
    result = store.writer.store_report(parse_report(make_report(
        "T2_X", "x.example.org", [BASH9 + ("bash",), PY_LIBS_OLD], ts=at(1), version="2")),
        at(1), "192.0.2.1")
    assert result.outcome == "unchanged"
    assert {(r.name, r.source) for r in store.advisories.package_rows(
        names=["python3-libs", "bash"]).values()} == {("python3-libs", "python3.9"),
                                                      ("bash", "bash")}
    store.writer.store_report(parse_report(make_report(
        "T2_X", "x.example.org", [BASH9 + ("bash",), PY_LIBS_FIX], ts=at(2), version="2")),
        at(2), "192.0.2.1")
    rows = store.advisories.package_rows(names=["python3-libs"])
    assert {(r.version, r.source) for r in rows.values()} \
        == {(PY_LIBS_OLD[1], "python3.9"), (PY_LIBS_FIX[1], "python3.9")}


def test_a_start_in_the_first_report_is_only_a_bound(fleet):
    """A host exposed in its first report was exposed at least since then:
    its start is not known, nor its days after a publication before that
    report; a host that got the build later has both known."""
    info = fleet.advisories.get("ALSA-2024:2433")[0]
    hosts = {h.host.split(".")[0]: h for h in judging.exposure(
        fleet, StreamTable(), info, NOW, ("T2_DRAINED", "T2_HALF")).hosts}
    assert {name: (h.exposed_since, h.start_known, h.days_known)
            for name, h in hosts.items()} == {
        "d-straggler": (at(0), False, False), "h-quick": (at(0), False, False),
        "h-late": (at(3), True, True)}
    code, out, err = run(fleet, "exposure", "ALSA-2024:2433")
    assert code == 0, err
    late = hosts["h-late"].days_after_published
    first, fixed = (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at(d))) for d in (0, 4))
    assert [
        [cell.strip() for cell in line.split("  ") if cell.strip()]
        for part in out.split("\n\n")[1:] for line in part.splitlines()[1:]
        if line.startswith(("T2_DRAINED", "T2_HALF"))] == [
        ["T2_DRAINED", "1", "0", "\u2265 4.0", "\u2265 4.0"],
        ["T2_HALF", "2", "1", "\u2265 %s" % judging._median([1.0, late]), "\u2265 %s" % late],
        ["T2_DRAINED", "d-straggler.example.org", "\u2264 %s (first report)" % first, fixed,
         "fixed", "\u2265 4.0"],
        ["T2_HALF", "h-late.example.org",
         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at(3))), "-", "-", str(late)],
        ["T2_HALF", "h-quick.example.org", "\u2264 %s (first report)" % first,
         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at(1))), "fixed", "\u2265 1.0"]]
    code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--format", "json")
    assert code == 0, err
    assert {(r["host"].split(".")[0], r["start_known"], r["days_known"])
            for r in json.loads(out) if r["site"] in ("T2_DRAINED", "T2_HALF")} == {("d-straggler", False, False),
                                          ("h-quick", False, False), ("h-late", True, True)}


def test_exposure_now_and_between_dates(fleet):
    """--now: the hosts exposed now; --from and --to: the hosts exposed in
    those days, and the curve of those days."""
    def hosts(*args):
        code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--format", "json",
                             "--site", "T2_ALMA", *args)
        assert code == 0, err
        return sorted(r["host"].split(".")[0] for r in json.loads(out))

    def day(d):
        return time.strftime("%Y-%m-%d", time.gmtime(T0 + d * DAY))
    assert hosts() == ["a-before", "a-fixed", "a-late", "a-removed"]
    assert hosts("--now") == ["a-before", "a-late"]
    # a-fixed was fixed on day 2, a-removed removed on day 3, a-late came on day 3
    assert hosts("--from", day(3)) == ["a-before", "a-late", "a-removed"]
    assert hosts("--to", day(2)) == ["a-before", "a-fixed", "a-removed"]
    assert hosts("--from", day(3), "--to", day(3)) == ["a-before", "a-late", "a-removed"]
    code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--now", "--site", "T2_ALMA")
    assert code == 0, err
    assert out.splitlines()[0].endswith(": 2 host(s) exposed now")
    code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--curve", "--format", "json",
                         "--from", day(1), "--to", day(2), "--site", "T2_ALMA")
    assert code == 0, err
    assert [(r["date"], r["hosts"]) for r in json.loads(out)] == [(day(1), 3), (day(2), 2)]
    code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--from", day(2), "--to", day(1))
    assert (code, out, err) == (2, "", "wlcg-collector: --from/--to: the first day is after "
                                       "the last\n")


def test_patch_times_rank_the_sites_still_exposed_first(fleet):
    """A site that patched its one late host is not behind one that never
    patched half of its hosts; the counts are beside the days."""
    times = judging.patch_times(fleet, StreamTable(), NOW, since=0,
                                site=("T2_DRAINED", "T2_HALF"))
    assert [(t.site, t.affected, t.exposed, t.exposed_share, t.open) for t in times] == [
        ("T2_HALF", 2, 1, 50.0, 1), ("T2_DRAINED", 1, 0, 0.0, 0)]
    assert times[1].median_days == 4.0 > times[0].median_days and not times[1].days_known
    code, out, err = run(fleet, "patch-times", "--since", "2000-01-01")
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith(("SITE", "T2_DRAINED",
                                                                    "T2_HALF"))]
    assert [line.split()[:4] for line in lines] == [
        ["SITE", "AFFECTED", "EXPOSED", "EXPOSED_SHARE"], ["T2_HALF", "2", "1", "50.0%"],
        ["T2_DRAINED", "1", "0", "0.0%"]]
    assert lines[2].split()[-4:] == ["\u2265", "4.0", "\u2265", "4.0"]
    code, out, err = run(fleet, "patch-times", "--since", "2000-01-01", "--format", "json")
    assert code == 0, err
    assert [r for r in json.loads(out) if r["site"] == "T2_DRAINED"] == [{
        "site": "T2_DRAINED", "affected": 1, "exposed": 0, "exposed_share": "0.0%",
        "advisories": 1, "fixed": 1, "open": 0, "median_days": 4.0, "worst_days": 4.0,
        "days_known": False}]


def test_patch_times_with_nothing_to_show_say_why(fleet):
    considered = len(fleet.advisories.listed(severities=judging.SECURITY_SEVERITIES))
    code, out, err = run(fleet, "patch-times", "--since", "2000-01-01", "--site", "T2_OTHER")
    assert code == 0, err
    assert out == ("no advisory published (or first seen) since 2000-01-01 affects a host of "
                   "T2_OTHER: %d considered\n" % considered) and considered > 5
    code, out, err = run(fleet, "patch-times", "--since", time.strftime(
        "%Y-%m-%d", time.gmtime(NOW + DAY)))
    assert (code, err) == (0, "") and out.endswith(": 0 considered\n")


def test_the_advisory_page_takes_the_same_bounds(fleet, tmp_path, collector_keys):
    """The page's JSON is `exposure`'s with --from, --to and --now as
    from=, to= and now=; the page marks the starts and days not known."""
    from test_tags import officer_app, page
    app = officer_app(fleet, tmp_path, collector_keys)
    day3 = time.strftime("%Y-%m-%d", time.gmtime(T0 + 3 * DAY))
    for query, options in (("from=%s&to=%s" % (day3, day3), ["--from", day3, "--to", day3]),
                           ("now=1", ["--now"])):
        status, _, body = page(app, "/officer/advisory/ALSA-2024%3A2433",
                               "format=json&per_page=1000&" + query)
        assert status == 200, body
        answer = json.loads(body)
        code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--format", "json", *options)
        assert code == 0, err
        assert answer["exposure"] == json.loads(out)
        code, out, err = run(fleet, "exposure", "ALSA-2024:2433", "--format", "json", "--curve",
                             *options)
        assert answer["curve"] == json.loads(out)
    assert {r["host"].split(".")[0] for r in answer["exposure"]} == {
        "a-before", "a-late", "h-late"}
    status, _, body = page(app, "/officer/advisory/ALSA-2024%3A2433", "to=" + day3)
    assert status == 200
    assert "exposed to %s." % day3 in body
    rows = body[body.index('<table id="exposed">'):].split("</table>")[0].split("<tr>")
    late = [row for row in rows if "h-late.example.org" in row][0]
    before = [row for row in rows if "a-before.example.org" in row][0]
    assert "&le;" not in late and "&ge;" not in late
    assert "&le; %s (first report)" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at(0))) \
        in before and "&ge; " in before
    status, _, body = page(app, "/officer/advisory/ALSA-2024%3A2433", "from=%s&to=2000-01-01"
                           % day3)
    assert status == 400 and "from/to: the first day is after the last" in body


def test_a_cve_two_advisories_name_counts_once(fleet):
    """u18-old is exposed to USN-5614-1 and UBUNTU-CVE-2021-3782, which both
    name CVE-2021-3782: 2 advisories, 1 CVE; d12-sope's DSA-5970-1 and
    DEBIAN-CVE-2025-53603 share CVE-2025-53603 likewise."""
    code, out, err = run(fleet, "vulnerable", "--site", "T2_DEB", "--hosts", "--format", "json")
    assert code == 0, err
    hosts = {row["host"].split(".")[0]: (row["advisories"], row["cves"])
             for row in json.loads(out)}
    assert hosts == {"u18-old": (2, 1), "u16-pro": (1, 1), "d12-sope": (3, 2),
                     "d10-chromium": (1, 1)}
    code, out, err = run(fleet, "vulnerable", "--summary", "--format", "csv")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "site,hosts,exposed,advisories,cves,critical,important,moderate,low,other"
    assert [line for line in lines if line.startswith("T2_DEB,")] == ["T2_DEB,7,4,5,3,0,0,2,0,3"]
    code, out, err = run(fleet, "vulnerable", "--site", "T2_DEB")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows[0][:5] == ["SITE", "HOSTS", "EXPOSED", "ADVISORIES", "CVES"]
    assert rows[1][:5] == ["T2_DEB", "7", "4", "5", "3"]
    assert rows[3][:5] == ["SITE", "HOST", "ADVISORIES", "CVES", "MOST_SEVERE"]
    assert ["T2_DEB", "u18-old.example.org", "2", "1"] in [row[:4] for row in rows]


def reader_app(store, tmp_path, collector_keys, site):
    """The officer's pages with jdoe on the team and `reader` reading `site`."""
    from helpers import write_config
    from wlcg_collector import create_app
    readers = tmp_path / "site-readers"
    readers.write_text("%s reader\n" % site, encoding="utf-8")
    config = tmp_path / "collector.conf"
    write_config(config, store.db.dialect.describe(), [collector_keys])
    with open(str(config), "a") as handle:
        handle.write("[officer]\nallow = jdoe\nsite_readers = %s\n" % readers)
    return create_app(str(config))


def test_a_cve_page_lists_the_advisories_naming_it(fleet, tmp_path, collector_keys):
    from test_pages import table_rows
    from test_tags import page
    app = reader_app(fleet, tmp_path, collector_keys, "T2_UBU")
    # several advisories: their list, each with its hosts exposed now (case ignored)
    status, _, body = page(app, "/officer/advisory/cve-2021-3782")
    assert status == 200, body
    assert ('<p id="counts">2 stored advisories name CVE-2021-3782: 2 host(s) at 1 site(s) '
            'exposed now') in body
    assert [(r[0], r[3], r[4], r[5]) for r in table_rows(body, "advisories")] == [
        ("UBUNTU-CVE-2021-3782", "CVE-2021-3782", "2", "1"),
        ("USN-5614-1", "CVE-2021-3782", "1", "1")]
    # its JSON: `advisories list --cve` and `exposure --now`
    status, _, body = page(app, "/officer/advisory/CVE-2021-3782", "format=json&per_page=1000")
    assert status == 200, body
    answer = json.loads(body)
    _, listed, _ = run(fleet, "advisories", "list", "--cve", "CVE-2021-3782", "--format", "json")
    _, exposed, _ = run(fleet, "exposure", "CVE-2021-3782", "--now", "--format", "json")
    assert answer == {"advisories": json.loads(listed), "exposure": json.loads(exposed)}
    assert len(answer["advisories"]) == 2 and len(answer["exposure"]) == 3
    # a reader of T2_UBU: its host only (u22-old, fixed), no other site's
    reader = {"REMOTE_USER": "reader"}
    status, _, body = page(app, "/officer/advisory/CVE-2021-3782", **reader)
    assert status == 200 and "0 host(s) at 0 site(s)" in body
    assert "T2_DEB" not in body and "u18-old" not in body
    status, _, body = page(app, "/officer/advisory/CVE-2021-3782", "format=json", **reader)
    _, exposed, _ = run(fleet, "exposure", "CVE-2021-3782", "--now", "--site", "T2_UBU",
                        "--format", "json")
    assert json.loads(body)["exposure"] == json.loads(exposed) == []
    # one advisory: a 303 to it, JSON too (its query kept); none: 404
    for query in ("", "format=json"):
        status, headers, _ = page(app, "/officer/advisory/CVE-2023-38469", query)
        assert status == 303 and headers["Location"] == "/officer/advisory/ALSA-2024%3A2433" + (
            "?format=json" if query else "")
    status, _, body = page(app, "/officer/advisory/CVE-2099-0001", "format=json")
    assert status == 404 and json.loads(body) == {"error": "no advisory CVE-2099-0001"}
    # the search box's link lands there
    status, headers, _ = page(app, "/officer/search", "q=cve-2021-3782")
    assert status == 303 and headers["Location"] == "/officer/advisory/CVE-2021-3782"


def test_the_advisories_page_counts_cves_as_vulnerable(fleet, tmp_path, collector_keys):
    from test_pages import table_rows
    from test_tags import officer_app, page
    app = officer_app(fleet, tmp_path, collector_keys)
    status, _, body = page(app, "/officer/advisories")
    assert status == 200, body
    assert [row[:5] for row in table_rows(body, "sites") if row[0] == "T2_DEB"] == [
        ["T2_DEB", "7", "4", "5", "3"]]
    status, _, body = page(app, "/officer/advisories", "format=json&per_page=1000")
    answer = json.loads(body)
    for part, options in (("sites", ["--summary"]), ("hosts", ["--hosts"]),
                          ("vulnerable", [])):
        code, out, err = run(fleet, "vulnerable", "--format", "json", *options)
        assert code == 0, err
        assert answer[part] == json.loads(out)

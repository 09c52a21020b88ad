#!/usr/bin/env python3
"""A grid to try the collector on: a few hundred hosts at a few dozen
sites (demo/sites.list, a plain site list), weeks of history, on SQLite.

    demo/grid.py [--dir DIR] [--hosts N] [--sites N] [--days N] [--seed N]
                 [--end YYYY-MM-DD] [--jobs N] [--no-serve] [--packages DIR]
                 [--keys DIR]

Every report is a real one: each host is an image root (--root) holding a
real package database, an rpm database written by `rpm --justdb` from
packages rpmbuild made, or a dpkg status file, with the package lists
captured from real machines (tests/fixtures/manifests: AlmaLinux 9 and 8,
CentOS 7, Debian 8, Ubuntu 22.04). The project's reporter lists it, signs
the report with the host's own key (made on its first run and kept in its
state directory) and writes it encrypted for the collector (--output); the
collector stores the files with `wlcg-collector ingest`, oldest first.

A report is made on the days a host changes (its first day, each staged
upgrade it takes, a reinstall) and on its last day; the days between are
not reported, which costs nothing in the collector's history (an unchanged
report only adds a row to the audit trail). Each report is dated on its
day: the reporter's own main() runs in a pool of worker processes with its
clock set to that day (the tests run it so too), so that a run costs the
package query and the openssl calls, not a Python start.

What the grid holds, all drawn from the seed: staged upgrades (each
released on a day, then taken by each host after a delay, by some never),
the vendor advisories of tests/fixtures/advisories with hosts on both
sides of their fixes, a site whose hosts misspell its name, silent hosts
and a site gone silent, and a host reinstalled halfway (a new host key:
its later reports wait in the quarantine). The same seed, size and end
date give the same database answers.

Without --no-serve it then serves the pages (`wlcg-collector serve`) and
prints the link; Ctrl-C stops it.
"""

import argparse
import calendar
import hashlib
import importlib.machinery
import importlib.util
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
MANIFESTS = os.path.join(TOP, "tests", "fixtures", "manifests")
ADVISORIES = os.path.join(TOP, "tests", "fixtures", "advisories")
REPORTER = os.path.join(TOP, "wlcg-package-reporter")
SITES = os.path.join(HERE, "sites.list")
DAY = 86400
RPM_DBPATH = "/var/lib/rpm"  # inside each host's root
INGEST_CHUNK = 400  # files a `wlcg-collector ingest` command line


def read_el(name):
    """[(name, version, arch, source)] of a captured EL list ("name
    version-release" lines); the list names no arch, no epoch."""
    rows = []
    with open(os.path.join(MANIFESTS, name)) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and parts[0] != "gpg-pubkey":
                rows.append((parts[0], parts[1], "x86_64", None))
    return rows


def read_dpkg_l(name):
    rows = []
    with open(os.path.join(MANIFESTS, name)) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "ii":
                rows.append((parts[1].split(":")[0], parts[2], parts[3], None))
    return rows


def read_dpkg_query(name):
    rows = []
    with open(os.path.join(MANIFESTS, name)) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2:
                package, _, arch = parts[0].partition(":")
                rows.append((package, parts[1], arch or "amd64", None))
    return rows


class Staged(object):
    """A package that hosts upgrade during the weeks: its source and
    binaries, the version hosts start on and the one they move to, and the
    share of the family's hosts that have it."""

    def __init__(self, source, binaries, old, new, share=1.0):
        self.source, self.binaries, self.old, self.new = source, binaries, old, new
        self.share = share


class Family(object):
    def __init__(self, key, packager, os_release, manifest, reader, weight, staged, image):
        self.key, self.packager, self.os_release = key, packager, os_release
        self.manifest, self.reader, self.weight, self.staged = manifest, reader, weight, staged
        self.image = image  # the source package name of the base packages (rpm)

    def base(self):
        """The captured list without the staged packages."""
        staged = {name for s in self.staged for name in s.binaries}
        return [row for row in self.reader(self.manifest) if row[0] not in staged]


# The fixes of tests/fixtures/advisories are among the staged upgrades:
# avahi 0.8-20.el9 (ALSA-2024:2433), python3-requests 2.20.0-3.el8_8
# (ALSA-2023:4520), krb5 1.18.2-14.el8 (ALBA-2021:4378), wayland
# 1.20.0-1ubuntu0.1 on 22.04 (USN-5614-1).
FAMILIES = [
    Family("el9", "rpm", 'NAME="AlmaLinux"\nVERSION_ID="9.7"\n', "cms-el9-grid-x86_64.txt",
           read_el, 45, [
               Staged("avahi", ["avahi", "avahi-libs"], "0.8-15.el9", "0.8-20.el9", 0.4),
               Staged("openssl", ["openssl", "openssl-libs"], "3.5.1-4.el9_7", "3.5.1-7.el9_7"),
               Staged("apptainer", ["apptainer"], "1.4.3-1.el9", "1.4.5-3.el9", 0.8),
           ], "cms-el9-grid"),
    Family("el8", "rpm", 'NAME="AlmaLinux"\nVERSION_ID="8.10"\n', "cms-el8-grid-x86_64.txt",
           read_el, 25, [
               Staged("python-requests", ["python3-requests"], "2.20.0-2.1.el8_1",
                      "2.20.0-6.el8_10"),
               Staged("krb5", ["krb5-libs"], "1.18.2-8.el8", "1.18.2-34.el8_10"),
               Staged("curl", ["curl", "libcurl"], "7.61.1-34.el8_10.3", "7.61.1-34.el8_10.11"),
           ], "cms-el8-grid"),
    Family("el7", "rpm", 'NAME="CentOS Linux"\nVERSION_ID="7"\n', "cms-cc7-wn-x86_64.txt",
           read_el, 12, [
               Staged("openssl", ["openssl", "openssl-libs"], "1.0.2k-25.el7_9",
                      "1.0.2k-26.el7_9"),
               Staged("curl", ["curl", "libcurl"], "7.29.0-57.el7", "7.29.0-59.el7"),
           ], "cms-cc7-wn"),
    Family("ubuntu", "dpkg", 'NAME="Ubuntu"\nVERSION_ID="22.04"\n',
           "ubuntu-jammy-oci-amd64-dpkg-query.txt", read_dpkg_query, 10, [
               Staged("wayland", ["libwayland-client0"], "1.20.0-1", "1.20.0-1ubuntu0.1", 0.6),
               Staged("openssl", ["libssl3"], "3.0.2-0ubuntu1.5", "3.0.2-0ubuntu1.6"),
           ], None),
    Family("debian", "dpkg", 'NAME="Debian GNU/Linux"\nVERSION_ID="8"\n',
           "debian8-host-dpkg-l.txt", read_dpkg_l, 8, [
               Staged("openssl", ["libssl1.0.0", "openssl"], "1.0.1t-1+deb8u11",
                      "1.0.1t-1+deb8u12"),
           ], None),
]


# ---------------------------------------------------------------- the plan

def read_sites():
    with open(SITES) as handle:
        return [line.split("#")[0].strip() for line in handle
                if line.split("#")[0].strip()]


def misspelt(name, rng, taken):
    """The name with two neighbouring letters swapped, as a hurried admin
    types it."""
    for _ in range(100):
        i = rng.randrange(1, len(name) - 2)
        if name[i].isalpha() and name[i + 1].isalpha() and name[i] != name[i + 1]:
            typo = name[:i] + name[i + 1] + name[i] + name[i + 2:]
            if typo.upper() not in taken:
                return typo
    return name + "X"


def seconds_into_day(seed, host, day):
    digest = hashlib.sha256(("%s/%s/%d" % (seed, host, day)).encode()).digest()
    return 600 + int.from_bytes(digest[:4], "big") % (DAY - 1200)


def plan_grid(hosts=250, sites=40, days=28, seed=1, end=None):
    """{"end", "days", "hosts": [host plan], "notes"}: who reports what,
    when. `end`: the last day (Unix time of its midnight UTC)."""
    rng = random.Random(seed)
    names = read_sites()
    chosen = sorted(rng.sample(names, min(sites, len(names))), key=names.index)
    start = end - (days - 1) * DAY
    # each staged upgrade is released on a day of the first two thirds
    releases = {}
    for family in FAMILIES:
        for staged in family.staged:
            releases[(family.key, staged.source)] = rng.randint(1, max(1, (days * 2) // 3))
    # sites of different sizes, each mostly one family
    weights = [rng.paretovariate(1.2) for _ in chosen]
    counts = [1] * len(chosen)
    for _ in range(max(0, hosts - len(chosen))):
        counts[rng.choices(range(len(chosen)), weights)[0]] += 1
    quiet_from = days - max(2, days // 3)  # a silent host's last report is before
    plans = []
    families = {f.key: f for f in FAMILIES}
    keys = [f.key for f in FAMILIES]
    for site, count in zip(chosen, counts):
        main = rng.choices(keys, [f.weight for f in FAMILIES])[0]
        # a site patches on one weekday, or every day (automatic updates)
        weekly = rng.random() < 0.7
        weekday = rng.randrange(7)
        for index in range(count):
            family = families[main if rng.random() < 0.8 else
                              rng.choices(keys, [f.weight for f in FAMILIES])[0]]
            host = "%s%03d.%s.example.org" % ("wn" if index else "ce", index, site.lower())
            staged = {}
            for s in family.staged:
                if rng.random() >= s.share:
                    continue
                day = releases[(family.key, s.source)] + int(rng.expovariate(1 / 2.0))
                while weekly and day % 7 != weekday:
                    day += 1
                staged[s.source] = day if rng.random() > 0.1 and day < days else None
            plans.append({"site": site, "reported_site": site, "host": host,
                          "family": family.key, "staged": staged, "first": 0,
                          "last": days - 1, "reinstall": None})
    # the site gone silent (a middle-sized one), a few silent hosts, a site
    # whose hosts misspell its name, a host reinstalled halfway
    by_site = {}
    for plan in plans:
        by_site.setdefault(plan["site"], []).append(plan)
    sized = sorted(by_site, key=lambda s: (len(by_site[s]), s))
    silent_site = sized[len(sized) // 2]
    typo_site = sized[-2]
    taken = {n.upper() for n in names}
    typo = misspelt(typo_site, rng, taken)
    for plan in by_site[silent_site]:
        plan["last"] = quiet_from - 1
    others = [p for p in plans if p["site"] != silent_site]
    for plan in rng.sample(others, max(2, len(plans) // 30)):
        plan["last"] = rng.randint(0, quiet_from - 1)
    for plan in by_site[typo_site][:max(2, len(by_site[typo_site]) // 3)]:
        plan["reported_site"] = typo
    reinstalled = next(p for p in rng.sample(others, len(others))
                       if p["last"] == days - 1 and p["reported_site"] == p["site"])
    reinstalled["reinstall"] = max(1, days // 2)
    for plan in plans:
        days_of = {plan["first"], plan["last"]}
        days_of |= {d for d in plan["staged"].values() if d is not None and d <= plan["last"]}
        if plan["reinstall"] is not None:
            days_of.add(plan["reinstall"])
        plan["days"] = sorted(days_of)
        plan["ts"] = [start + d * DAY + seconds_into_day(seed, plan["host"], d)
                      for d in plan["days"]]
    return {"start": start, "end": end, "days": days, "hosts": plans,
            "silent_site": silent_site, "typo": (typo_site, typo),
            "reinstalled": reinstalled["host"]}


# ---------------------------------------------------------------- package databases

SPEC_HEAD = "Name: %s\nVersion: %s\nRelease: %s\nSummary: %s\nLicense: MIT\n%%description\n%s\n"
SUBPACKAGE = ("%%package -n %s\n%sSummary: %s\n%%description -n %s\n%s\n%%files -n %s\n")


def split_vr(version):
    return version.rsplit("-", 1)


def write_specs(directory, family):
    """The specs of a family's packages: one whose subpackages are the
    captured list (its source: the image they came from), one for each
    staged upgrade's builds (its source: its own)."""
    specs = []
    text = SPEC_HEAD % (family.image, "1", "1", "packages of " + family.manifest,
                        "The packages of " + family.manifest)
    for name, version, _, _ in family.base():
        v, r = split_vr(version)
        text += SUBPACKAGE % (name, "Version: %s\nRelease: %s\n" % (v, r), name, name, name,
                              name)
    specs.append(os.path.join(directory, "%s.spec" % family.image))
    with open(specs[-1], "w") as handle:
        handle.write(text)
    for staged in family.staged:
        for which, version in (("old", staged.old), ("new", staged.new)):
            v, r = split_vr(version)
            text = SPEC_HEAD % (staged.source, v, r, staged.source, staged.source)
            for name in staged.binaries:
                if name == staged.source:
                    text += "%files\n"
                else:
                    text += SUBPACKAGE % (name, "", name, name, name, name)
            specs.append(os.path.join(directory, "%s-%s-%s.spec" % (family.key, staged.source,
                                                                    which)))
            with open(specs[-1], "w") as handle:
                handle.write(text)
    return specs


def rpm_path(top, name, version):
    return os.path.join(top, "RPMS", "x86_64", "%s-%s.x86_64.rpm" % (name, version))


def build_rpms(work, packages=None):
    """rpmbuild every family's packages, in one command; then one base
    database a family (its captured list, less the staged packages): (the
    rpmbuild tree, {family: its base database}). With `packages`, a
    directory where an earlier build kept them: used when it built these
    same specs (their digest names the subdirectory), else kept there."""
    specs = []
    for family in FAMILIES:
        if family.packager == "rpm":
            directory = os.path.join(work, "specs", family.key)
            os.makedirs(directory)
            specs += write_specs(directory, family)
    digest = hashlib.sha256()
    for spec in sorted(specs):
        with open(spec, "rb") as handle:
            digest.update(os.path.relpath(spec, work).encode() + b"\0" + handle.read())
    kept = os.path.join(packages, digest.hexdigest()[:16]) if packages else None
    if kept and os.path.isdir(kept):
        return os.path.join(kept, "rpmbuild"), base_databases(kept)
    made = os.path.join(packages, ".new-%d" % os.getpid()) if kept else work
    if kept:
        os.makedirs(packages, mode=0o700, exist_ok=True)
        os.mkdir(made, 0o700)
    top = os.path.join(made, "rpmbuild")
    run(["rpmbuild", "--define", "_topdir " + top, "--define", "_build_id_links none",
         "--target", "x86_64", "-bb"] + specs, "rpmbuild")
    for family in FAMILIES:
        if family.packager == "rpm":
            rpms = [rpm_path(top, name, version) for name, version, _, _ in family.base()]
            rpm(os.path.join(made, "base", family.key), "-i", rpms)
    if kept:
        try:
            os.rename(made, kept)  # whole, or not at all (another build may have won)
        except OSError:
            shutil.rmtree(made)
        made = kept
    return os.path.join(made, "rpmbuild"), base_databases(made)


def base_databases(directory):
    return {family.key: os.path.join(directory, "base", family.key, RPM_DBPATH.lstrip("/"))
            for family in FAMILIES if family.packager == "rpm"}


def rpm(root, action, rpms):
    run(["rpm", "--root", root, "--dbpath", RPM_DBPATH, action, "--justdb", "--nodeps",
         "--noscripts", "--ignorearch", "--ignoreos"] + rpms, "rpm " + action)


def run(argv, what):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit("grid: %s failed (exit %d): %s" % (
            what, proc.returncode, proc.stdout.decode("utf-8", "replace")[-2000:]))


def write_dpkg_status(root, packages):
    """A dpkg database as dpkg-query reads it (--admindir)."""
    admin = os.path.join(root, "var", "lib", "dpkg")
    os.makedirs(os.path.join(admin, "info"), exist_ok=True)
    chunks = []
    for name, version, arch, source in packages:
        chunks.append("Package: %s\nStatus: install ok installed\nPriority: optional\n"
                      "Maintainer: Grid Demo <grid@example.org>\nArchitecture: %s\n%s"
                      "Version: %s\nDescription: %s\n" % (
                          name, arch, "Source: %s\n" % source if source else "", version, name))
    with open(os.path.join(admin, "status.new"), "w") as handle:
        handle.write("\n".join(chunks))
    os.rename(os.path.join(admin, "status.new"), os.path.join(admin, "status"))


def dpkg_packages(family, state):
    """The dpkg host's packages: the base, and each staged package it has
    at the version it is on (state: {source: "old"|"new"})."""
    packages = list(family.base())
    arch = "amd64"
    for staged in family.staged:
        if staged.source in state:
            version = staged.old if state[staged.source] == "old" else staged.new
            packages += [(name, version, arch, staged.source) for name in staged.binaries]
    return packages


# ---------------------------------------------------------------- the workers

_REPORTER = None


class Clock(object):
    """The reporter's `time` module, but for the time it stamps reports with."""

    def __init__(self, now):
        self.now = now

    def time(self):
        return float(self.now)

    def __getattr__(self, name):
        return getattr(time, name)


def load_reporter():
    global _REPORTER
    loader = importlib.machinery.SourceFileLoader("wlcg_package_reporter", REPORTER)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    _REPORTER = module


def host_history(job):
    """Run one host's days in order: set up its root, apply its upgrades,
    run the reporter on each reporting day. Returns [(ts, report file)]."""
    plan, work, rpmtop, bases, cert = job
    family = next(f for f in FAMILIES if f.key == plan["family"])
    home = os.path.join(work, "hosts", plan["host"])
    root = os.path.join(home, "root")
    state_dir = os.path.join(home, "state")
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "os-release"), "w") as handle:
        handle.write(family.os_release)
    state = {source: "old" for source in plan["staged"]}
    if family.packager == "rpm":
        shutil.copytree(bases[family.key], os.path.join(root, RPM_DBPATH.lstrip("/")))
        first = [rpm_path(rpmtop, name, s.old) for s in family.staged if s.source in state
                 for name in s.binaries]
        if first:
            rpm(root, "-i", first)
    else:
        write_dpkg_status(root, dpkg_packages(family, state))
    written = []
    for day, ts in zip(plan["days"], plan["ts"]):
        due = [s for s in family.staged
               if plan["staged"].get(s.source) is not None and plan["staged"][s.source] <= day
               and state.get(s.source) == "old"]
        for s in due:
            state[s.source] = "new"
        if due and family.packager == "rpm":
            rpm(root, "-U", [rpm_path(rpmtop, name, s.new) for s in due for name in s.binaries])
        elif due:
            write_dpkg_status(root, dpkg_packages(family, state))
        if day == plan["reinstall"]:
            shutil.rmtree(state_dir)  # reinstalled: the host key is made anew
        out = os.path.join(work, "reports", "%010d-%s.der" % (ts, plan["host"]))
        argv = ["--config", os.devnull, "--site", plan["reported_site"], "--host", plan["host"],
                "--root", root, "--packager", family.packager, "--rpm",
                "rpm --dbpath " + RPM_DBPATH, "--cert", cert, "--state-dir", state_dir,
                "--output", out, "-q"]
        _REPORTER.time = Clock(ts)
        code = _REPORTER.main(argv)
        if code != 0:
            raise RuntimeError("the reporter failed (exit %d) for %s on day %d"
                               % (code, plan["host"], day))
        written.append((ts, out))
    return written


# ---------------------------------------------------------------- the collector

def collector(db, keys, *args, **kwargs):
    argv = [sys.executable, "-m", "wlcg_collector", "--db", "sqlite:///" + db,
            "--key", os.path.join(keys, "collector.key"),
            "--cert", os.path.join(keys, "collector.pem")] + list(args)
    env = dict(os.environ, PYTHONPATH=TOP + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("WLCG_COLLECTOR_CONFIG", None)  # the grid's collector is configured here alone
    if kwargs.get("exec_"):
        os.execve(sys.executable, argv, env)
    if kwargs.get("background"):
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0 and not kwargs.get("may_fail"):
        raise SystemExit("grid: wlcg-collector %s failed (exit %d): %s" % (
            args[0], proc.returncode, proc.stderr.decode("utf-8", "replace")[-2000:]))
    return proc.stdout.decode()


def ingest_after(previous, db, keys, files):
    """Wait for the previous ingest command, then start one for files."""
    if previous is not None:
        out, err = previous.communicate()
        if previous.returncode != 0:
            raise SystemExit("grid: wlcg-collector ingest failed (exit %d): %s"
                             % (previous.returncode, err.decode("utf-8", "replace")[-2000:]))
    if not files:
        return None
    return collector(db, keys, "ingest", *files, background=True)


def collector_keys(directory, keys=None):
    """The directory of the collector's key pair: `keys` (made there when
    it holds none) or the grid's own."""
    keys = keys or os.path.join(directory, "keys")
    if not all(os.path.exists(os.path.join(keys, name))
               for name in ("collector.key", "collector.pem")):
        collector(os.path.join(directory, "collector.db"), keys, "keygen", keys)
    return keys


def build(directory, hosts, sites, days, seed, end, jobs, say=print, packages=None, keys=None):
    began = time.time()
    plan = plan_grid(hosts, sites, days, seed, end)
    db = os.path.join(directory, "collector.db")
    work = os.path.join(directory, "work")
    os.makedirs(os.path.join(work, "reports"))
    keys = collector_keys(directory, keys)
    collector(db, keys, "init-db")
    collector(db, keys, "sites", "import", SITES)
    rpmtop, bases = build_rpms(work, packages)
    say("grid: %d hosts at %d sites over %d days: package databases ready (%.0f s)"
        % (len(plan["hosts"]), len({p["site"] for p in plan["hosts"]}), days,
           time.time() - began))
    cert = os.path.join(keys, "collector.pem")
    jobs_list = [(p, work, rpmtop, bases, cert) for p in plan["hosts"]]
    # A host's reports are stored oldest first (a report older than the
    # host's latest signed one is a replay); hosts do not wait for one
    # another, so each host's files go to ingest as soon as its reporter
    # runs are done, in the plan's order, while the next hosts report.
    files, pending, ingesting = 0, [], None
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=load_reporter) as pool:
        for written in pool.imap(host_history, jobs_list, chunksize=2):
            pending += [path for _, path in written]
            files += len(written)
            if len(pending) >= INGEST_CHUNK:
                ingesting = ingest_after(ingesting, db, keys, pending)
                pending = []
    ingesting = ingest_after(ingesting, db, keys, pending)
    ingest_after(ingesting, db, keys, [])
    say("grid: %d signed reports written by the reporter and stored (%.0f s)"
        % (files, time.time() - began))
    collector(db, keys, "advisories", "import", ADVISORIES)
    shutil.rmtree(work)
    say("grid: stored in %s (%.0f s): %d hosts; %s misspelt as %s; %s gone silent; "
        "%s reinstalled (its new key waits in the quarantine)"
        % (db, time.time() - began, len(plan["hosts"]), plan["typo"][0], plan["typo"][1],
           plan["silent_site"], plan["reinstalled"]))
    return plan


def day_arg(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%d"))
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a YYYY-MM-DD date" % text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", help="build here (a new or empty directory; default: a new "
                                      "temporary one, kept)")
    parser.add_argument("--hosts", type=int, default=250)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", type=day_arg, help="the last day of the history (default: "
                                                    "yesterday, UTC)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                        help="reporter processes at once (default: the CPUs)")
    parser.add_argument("--no-serve", action="store_true", help="build only")
    parser.add_argument("--packages", metavar="DIR",
                        help="keep the rpm packages and base databases built in DIR (yours "
                             "alone: what it holds is installed), and use them again when a "
                             "later build needs the same ones")
    parser.add_argument("--keys", metavar="DIR",
                        help="the collector's key pair in DIR (collector.key, collector.pem; "
                             "made there when absent): a later build with the same DIR takes "
                             "reports encrypted for the earlier one")
    args = parser.parse_args(argv)
    if args.hosts < 10 or args.days < 3 or args.sites < 3:
        parser.error("at least 10 hosts, 3 sites and 3 days")
    end = args.end if args.end is not None else (int(time.time()) // DAY - 1) * DAY
    directory = args.dir or tempfile.mkdtemp(prefix="wlcg-grid.")
    os.makedirs(directory, exist_ok=True)
    if os.listdir(directory):
        parser.error("--dir %s is not empty" % directory)
    build(directory, args.hosts, args.sites, args.days, args.seed, end, args.jobs,
          packages=args.packages, keys=args.keys)
    keys = args.keys or os.path.join(directory, "keys")
    db = os.path.join(directory, "collector.db")
    print("grid: try  PYTHONPATH=%s %s -m wlcg_collector --db sqlite:///%s hosts"
          % (TOP, sys.executable, db))
    if args.no_serve:
        return 0
    print("grid: serving the pages; open the officer pages' link below (Ctrl-C stops)")
    sys.stdout.flush()
    collector(db, keys, "serve", "--port", "0", exec_=True)


if __name__ == "__main__":
    sys.exit(main())

"""A synthetic fleet for the benchmarks, seeded from the real EL package
lists in tests/fixtures/manifests: N hosts x ~1,500 packages over D days,
with staged upgrades of chosen packages (so adoption curves have a shape).

`load_history` writes the fleet's resulting history with the storage
package's bulk load (hosts, packages, installs, reports), which is what
ingesting D days of reports would leave behind; the ingest path itself is
measured separately.
"""

import hashlib
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFESTS = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "manifests")
sys.path.insert(0, os.path.dirname(HERE))
from wlcg_collector.db.records import BulkHost  # noqa: E402

EL_MANIFESTS = ("cms-el9-grid-x86_64.txt", "cms-el8-grid-x86_64.txt", "cms-cc7-wn-x86_64.txt")
DAY = 86400


def manifest_packages():
    """{name: version-release} from the captured EL images (newest file wins)."""
    packages = {}
    for name in reversed(EL_MANIFESTS):
        with open(os.path.join(MANIFESTS, name)) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) == 2 and parts[0] != "gpg-pubkey":
                    packages[parts[0]] = parts[1]
    return packages


def package_set(count, rng):
    """[(name, base version, arch)] of `count` packages: the real ones first,
    then realistic synthetic ones; a few with epochs."""
    real = sorted(manifest_packages().items())
    packages = []
    for name, vr in real[:count]:
        epoch = "1" if rng.random() < 0.05 else "0"
        arch = "noarch" if rng.random() < 0.25 else "x86_64"
        packages.append((name, "%s:%s" % (epoch, vr), arch))
    index = 0
    while len(packages) < count:
        index += 1
        packages.append(("python3-synthetic%04d" % index,
                         "0:%d.%d.%d-%d.el9" % (rng.randint(0, 9), rng.randint(0, 30),
                                                rng.randint(0, 20), rng.randint(1, 9)),
                         "x86_64"))
    return packages


def upgraded(version, step):
    """The version after `step` upgrades: the release gets a higher suffix."""
    return "%s.%d" % (version, step) if step else version


class Fleet(object):
    def __init__(self, hosts=10000, packages=1500, days=90, staged=50, sites=None, seed=1):
        self.rng = random.Random(seed)
        self.hosts = hosts
        self.days = days
        self.packages = package_set(packages, self.rng)
        self.sites = sites or max(1, hosts // 50)
        self.staged = self.packages[:: max(1, len(self.packages) // staged)][:staged]
        self.start = 1735689600  # 2025-01-01T00:00:00Z

    def host_names(self):
        for index in range(self.hosts):
            site = "T2_SITE%03d" % (index % self.sites)
            yield index, site, "wn%05d.site%03d.example.org" % (index, index % self.sites)

    def upgrade_day(self, host_index, package_index):
        """The day a host takes the staged upgrade, or None (10 % never do)."""
        digest = hashlib.sha256(("%d/%d" % (host_index, package_index)).encode()).digest()
        if digest[0] < 26:
            return None
        return 1 + int.from_bytes(digest[1:4], "big") % (self.days - 1)

    def baseline_text(self):
        lines = ["# benchmark baseline: the staged packages at their upgraded version"]
        for name, version, arch in self.staged:
            lines.append("%s >= %s" % (name, upgraded(version, 1)))
        return "\n".join(lines) + "\n"


def load_history(store, fleet, progress=None):
    """Write the fleet's history into an empty, initialised store, through
    the storage package's bulk load."""
    packages = []
    for name, version, arch in fleet.packages:
        packages.append((name, version, arch))
        if (name, version, arch) in fleet.staged:
            packages.append((name, upgraded(version, 1), arch))
    index_of = {package: index for index, package in enumerate(packages)}
    staged = {p: i for i, p in enumerate(fleet.staged)}
    end = fleet.start + fleet.days * DAY
    hosts = [BulkHost(site, host, "rpm", "AlmaLinux 9.4", "5.14.0", "x86_64",
                      {"system": "AlmaLinux 9.4"}, len(fleet.packages), fleet.start, end)
             for _, site, host in fleet.host_names()]

    def intervals():
        for index, _, _ in fleet.host_names():
            for package in fleet.packages:
                base = index_of[package]
                day = fleet.upgrade_day(index, staged[package]) if package in staged else None
                if day is None:
                    yield index, base, fleet.start, None
                    continue
                when = fleet.start + day * DAY
                yield index, base, fleet.start, when
                yield index, index_of[(package[0], upgraded(package[1], 1), package[2])], \
                    when, None

    # the reports that made those changes (unchanged days left out)
    reports = []
    for index, _, _ in fleet.host_names():
        days = {0} | {fleet.upgrade_day(index, i) for i in range(len(fleet.staged))}
        reports += [(index, fleet.start + day * DAY, len(fleet.packages))
                    for day in sorted(days - {None})]
    store.testing.bulk_load("rpm", packages, hosts, intervals(), reports, progress)


def varied_package_sets(hosts, seed=17):
    """[(system, packager, packages)] of `hosts` varied hosts: EL9, EL8, EL7
    and Debian in turn, each its group's real package list (the captured
    images), less a few packages and with 60 more of its own drawn from a
    pool of 400 (so that hosts share some and differ), 3 % of its packages
    at another build."""
    rng = random.Random(seed)
    groups = []
    for manifest, system in zip(EL_MANIFESTS, ("AlmaLinux 9.4", "AlmaLinux 8.9",
                                               "CentOS Linux 7")):
        with open(os.path.join(MANIFESTS, manifest)) as handle:
            rows = [line.split() for line in handle if len(line.split()) == 2]
        groups.append((system, "rpm", sorted({(name, "0:" + vr, "x86_64")
                                              for name, vr in rows if name != "gpg-pubkey"})))
    with open(os.path.join(MANIFESTS, "debian8-host-dpkg-l.txt")) as handle:
        rows = [line.split()[:4] for line in handle if line.startswith("ii ")]
    groups.append(("Debian GNU/Linux 12", "dpkg",
                   sorted({(name.split(":")[0], version, arch) for _, name, version, arch in rows})))
    result = []
    for index in range(hosts):
        system, packager, base = groups[index % len(groups)]
        packages = [p for p in base if rng.random() > 0.02]
        packages = [(n, v + ("+b%d" % rng.randint(1, 3) if packager == "dpkg" else
                             ".%d" % rng.randint(1, 3)), a) if rng.random() < 0.03 else (n, v, a)
                    for n, v, a in packages]
        extra = sorted(rng.sample(range(400), 60))
        packages += [("site-tool-%03d" % n, ("0:1.%d-1.el9" % (n % 7)) if packager == "rpm"
                      else "1.%d-1" % (n % 7), "x86_64" if packager == "rpm" else "amd64")
                     for n in extra]
        result.append((system, packager, sorted(set(packages))))
    return result

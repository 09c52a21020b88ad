"""The officer's questions over the stored history: compliance against a
baseline, adoption of a fix over time, the fleet's changes, silent hosts.

Everything works for any past time: the state at T comes from the install
intervals (installed <= T < removed)."""

import bisect
from collections import defaultdict
from functools import cmp_to_key
from itertools import compress

from .baselines import newest_per_arch
from .dates import format_time
from .history import changes
from .versions import compare

DAY = 86400
# "now" for interval queries: later than any report, so the latest state
FAR_FUTURE = 2 ** 62
COMPLIANCE_COLUMNS = ["site", "host", "package", "arch", "installed", "requirement", "status"]
SUMMARY_COLUMNS = ["site", "hosts", "behind", "compliant"]
ADOPTION_COLUMNS = ["date", "hosts_ok", "hosts_behind", "sites_ok", "sites_behind"]
CHANGES_COLUMNS = ["site", "host", "time", "action", "name", "arch", "old", "new"]
STALE_COLUMNS = ["site", "host", "last_report"]


def compliance(store, requirements, at, site=None):
    """The Compliance of the hosts known at `at` (None: now) with the
    requirements.

    The work goes by package row, not host by host, on sets of hosts kept
    as HostMasks integers; a host is judged on the newest row of a (name,
    arch) it holds, found by handing out the holders of each row from the newest row
    to the oldest; each verdict is worked out once per package row and
    requirement."""
    if at is None:
        at = FAR_FUTURE
    hosts = store.hosts_at(at, site)
    masks = HostMasks(hosts)
    packages = store.packages_named({r.name for r in requirements})
    holders = store.hosts_with_packages(sorted(packages), at)
    newest = defaultdict(list)  # (name, arch) -> [(package id, hosts it is the newest of)]
    taken = defaultdict(int)
    for package_id in sorted(holders, key=cmp_to_key(lambda a, b: _row_order(
            packages[a], packages[b])), reverse=True):
        _, name, _, arch = packages[package_id]
        held = masks.of(holders[package_id])
        newest[(name, arch)].append((package_id, held & ~taken[(name, arch)]))
        taken[(name, arch)] |= held
    by_system = defaultdict(list)
    for host_id, _, _, _, system in hosts:
        by_system[system].append(str(host_id))
    system_masks = {system: masks.of(ids) for system, ids in by_system.items()}
    groups = []
    for requirement in requirements:
        name = requirement.name
        scope = 0
        for system, mask in system_masks.items():
            if requirement.applies_to(system):
                scope |= mask
        holding = 0
        for (row_name, arch) in sorted(newest):
            if row_name != name:
                continue
            for package_id, won in newest[(name, arch)]:
                packager, _, version, _ = packages[package_id]
                verdict = "ok" if requirement.satisfied_by(packager, version) else "behind"
                groups.append(((name, arch, version, requirement.text, verdict), won & scope))
                holding |= won
        groups.append(((name, None, None, requirement.text, "absent"), scope & ~holding))
    return Compliance(hosts, masks, groups)


def _row_order(a, b):
    """Package rows (packager, name, version, arch) by kind, then oldest first."""
    if a[:2] + a[3:] != b[:2] + b[3:]:
        return -1 if a[:2] + a[3:] < b[:2] + b[3:] else 1
    return compare(a[0], a[2], b[2])


class HostMasks(object):
    """Sets of the hosts of a list as integers with one byte a host, in the
    list's order (0 or 1): a union, intersection or difference of 10,000
    hosts is one integer operation, and the hosts of a set come back in
    list order through itertools.compress."""

    def __init__(self, hosts):
        self.size = len(hosts)
        # host id (as text, the way the database lists ids) -> its byte;
        # ids of other hosts all go to one spare byte past the end
        self.byte_of = {str(host[0]): index for index, host in enumerate(hosts)}

    def of(self, host_ids):
        """The mask of these host ids (decimal strings); unknown ids are left out."""
        lanes = bytearray(self.size + 1)
        byte_of, spare = self.byte_of, self.size
        for host_id in host_ids:
            lanes[byte_of.get(host_id, spare)] = 1
        return int.from_bytes(lanes[:spare], "little")

    def select(self, items, mask):
        """The items (one per host, in list order) of the hosts in mask."""
        return compress(items, mask.to_bytes(self.size, "little"))


class Compliance(object):
    """The verdicts of a baseline over a list of hosts, kept as a host mask
    (see HostMasks) per (requirement, package row): a fleet's 500,000 rows are only made
    when asked for.

    hosts: [(id, site, name, packager, system)] in site and name order;
    groups: [(row tail, host mask)] in baseline order, a row tail being
    (package, arch, installed, requirement, status)."""

    def __init__(self, hosts, masks, groups):
        self.hosts = hosts
        self.masks = masks
        self.groups = groups

    def rows(self, status=None):
        """Tuples in COMPLIANCE_COLUMNS order (of one status, if given): in
        baseline order, then by arch and installed version (newest first),
        the hosts without the package last; each group in host order."""
        prefixes = [(site_name, host_name) for _, site_name, host_name, _, _ in self.hosts]
        rows = []
        for tail, mask in self.groups:
            if mask and (status is None or tail[-1] == status):
                rows += [prefix + tail for prefix in self.masks.select(prefixes, mask)]
        return rows

    def _behind(self):
        behind = 0
        for tail, mask in self.groups:
            if tail[-1] == "behind":
                behind |= mask
        return behind

    def summary(self):
        """Per site: hosts reporting, hosts behind, percent compliant."""
        per_site = defaultdict(lambda: [0, 0])
        for host, late in zip(self.hosts, self._behind().to_bytes(self.masks.size, "little")):
            counts = per_site[host[1]]
            counts[0] += 1
            counts[1] += late
        return [{"site": site_name, "hosts": total, "behind": late,
                 "compliant": "%.1f%%" % (100.0 * (total - late) / total)}
                for site_name, (total, late) in sorted(per_site.items())]

    def behind_counts(self):
        """{host name: how many of its rows are behind} of every host with a row."""
        names = [host[2] for host in self.hosts]
        counts = {}
        for tail, mask in self.groups:
            late = tail[-1] == "behind"
            for name in self.masks.select(names, mask):
                counts[name] = counts.get(name, 0) + late
        return counts


def host_status_timeline(packager, intervals, verdict):
    """(times, statuses) of one host: from times[i] on, statuses[i] is
    None (package absent), True (satisfies) or False (behind).
    verdict(packager, version) says whether a version satisfies."""
    points = sorted({t for _, _, start, end in intervals for t in (start, end) if t is not None})
    statuses = []
    for point in points:
        active = [(version, arch) for version, arch, start, end in intervals
                  if start <= point and (end is None or end > point)]
        if not active:
            statuses.append(None)
            continue
        newest = newest_per_arch(packager, active)
        statuses.append(all(verdict(packager, v) for v in newest.values()))
    return points, statuses


def adoption(store, requirement, first_day, last_day, site=None):
    """Rows (ADOPTION_COLUMNS), one per UTC day from first_day to last_day
    (Unix seconds of their midnights), judged at the end of each day."""
    ends = list(range(first_day + DAY - 1, last_day + DAY, DAY))
    per_host = defaultdict(list)
    host_site, host_packager = {}, {}
    for host_id, site_name, packager, version, arch, installed, removed in \
            store.package_intervals(requirement.name, first_day, ends[-1], site):
        per_host[host_id].append((version, arch, installed, removed))
        host_site[host_id], host_packager[host_id] = site_name, packager
    verdicts = {}

    def verdict(packager, version):
        if (packager, version) not in verdicts:
            verdicts[(packager, version)] = requirement.satisfied_by(packager, version)
        return verdicts[(packager, version)]

    # Each host's status holds over spans of days: add +1 where a span
    # starts and -1 where it ends, per site and status, and sum up once.
    days = len(ends)
    counts = defaultdict(lambda: ([0] * (days + 1), [0] * (days + 1)))  # site -> (ok, behind)
    for host_id, intervals in per_host.items():
        points, statuses = host_status_timeline(host_packager[host_id], intervals, verdict)
        ok, behind = counts[host_site[host_id]]
        for index, status in enumerate(statuses):
            if status is None:
                continue
            # the days whose end falls in [points[index], next point)
            first = bisect.bisect_left(ends, points[index])
            stop = bisect.bisect_left(ends, points[index + 1]) if index + 1 < len(points) \
                else days
            if first < stop:
                deltas = ok if status else behind
                deltas[first] += 1
                deltas[stop] -= 1
    totals = [[0, 0, 0, 0] for _ in range(days)]  # hosts ok, behind; sites ok, behind
    for ok, behind in counts.values():
        hosts_ok = hosts_behind = 0
        for day in range(days):
            hosts_ok += ok[day]
            hosts_behind += behind[day]
            total = totals[day]
            total[0] += hosts_ok
            total[1] += hosts_behind
            if hosts_behind:
                total[3] += 1  # a site is behind if any of its hosts is
            elif hosts_ok:
                total[2] += 1
    return [{"date": format_time(end - DAY + 1)[:10], "hosts_ok": total[0],
             "hosts_behind": total[1], "sites_ok": total[2], "sites_behind": total[3]}
            for end, total in zip(ends, totals)]


def fleet_changes(store, since, site=None, package=None):
    """Rows (CHANGES_COLUMNS) of every change at or after `since`."""
    hosts, intervals = store.changed_host_intervals(since, site, package)
    per_host = defaultdict(list)
    for host_id, name, version, arch, installed, removed in intervals:
        per_host[host_id].append((name, version, arch, installed, removed))
    rows = []
    for host_id, host_intervals in per_host.items():
        site_name, host_name, packager = hosts[host_id]
        for when, action, name, arch, old, new in changes(packager, host_intervals, since):
            rows.append({"site": site_name, "host": host_name, "time": format_time(when),
                         "action": action, "name": name, "arch": arch, "old": old, "new": new})
    rows.sort(key=lambda r: (r["time"], r["site"], r["host"], r["name"], r["arch"]))
    return rows


def stale(store, days, now):
    """Rows (STALE_COLUMNS): whole sites whose every host has been silent
    for more than `days` (host null), then silent hosts of other sites."""
    cutoff = now - days * DAY
    per_site = defaultdict(list)
    for site_name, host_name, _, _, last, _ in store.hosts():
        per_site[site_name].append((host_name, last))
    rows = []
    for site_name in sorted(per_site):
        hosts = per_site[site_name]
        silent = [(h, last) for h, last in hosts if last < cutoff]
        if silent and len(silent) == len(hosts):
            rows.append({"site": site_name, "host": None,
                         "last_report": format_time(max(last for _, last in hosts))})
            continue
        rows += [{"site": site_name, "host": h, "last_report": format_time(last)}
                 for h, last in sorted(silent)]
    return rows

"""The officer's questions over the stored history: compliance against a
baseline, adoption of a fix over time, the fleet's changes, silent hosts.

Everything works for any past time: the state at T comes from the install
intervals (installed <= T < removed)."""

import bisect
from collections import defaultdict

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
    """(hosts, rows): the hosts known at `at` (None: now) and one row (a
    tuple in COMPLIANCE_COLUMNS order) per host, requirement that applies to
    it and arch: status ok, behind or absent.

    Hosts share package rows, so each (package row, requirement) verdict
    and each (system, requirement) scope is worked out once; the per-host
    loop only picks the newest version per arch and writes rows."""
    if at is None:
        at = FAR_FUTURE
    hosts = store.hosts_at(at, site)
    packages = store.packages_named({r.name for r in requirements})
    by_host = defaultdict(list)
    for package_id, host_ids in store.hosts_with_packages(list(packages), at, site):
        for host_id in host_ids:
            by_host[host_id].append(package_id)
    indexes_of = defaultdict(list)  # name -> indexes of its requirements
    for index, requirement in enumerate(requirements):
        indexes_of[requirement.name].append(index)
    # package id -> [(requirement index, row tail)], worked out once
    tails, keys = {}, {}
    for package_id, (packager, name, version, arch) in packages.items():
        keys[package_id] = (name, arch)
        tails[package_id] = [
            (index, (name, arch, version, requirements[index].text,
                     "ok" if requirements[index].satisfied_by(packager, version) else "behind"))
            for index in indexes_of[name]]
    absent_tails = [(requirement.name, None, None, requirement.text, "absent")
                    for requirement in requirements]
    names = len(indexes_of)
    scopes = {}
    rows = []
    append = rows.append
    for host_id, site_name, host_name, _, system in hosts:
        scope = scopes.get(system)
        if scope is None:
            scope = scopes[system] = [r.applies_to(system) for r in requirements]
        newest = {}  # (name, arch) -> package id
        for package_id in by_host.get(host_id, ()):
            key = keys[package_id]
            current = newest.get(key)
            if current is not None:
                packager, _, version, _ = packages[package_id]
                if compare(packager, version, packages[current][2]) <= 0:
                    continue
            newest[key] = package_id
        prefix = (site_name, host_name)
        present = set()
        for (name, _), package_id in newest.items():
            present.add(name)
            for index, tail in tails[package_id]:
                if scope[index]:
                    append(prefix + tail)
        if len(present) < names:
            for index, tail in enumerate(absent_tails):
                if scope[index] and tail[0] not in present:
                    append(prefix + tail)
    return hosts, rows


def compliance_summary(hosts, rows):
    """Per site: hosts reporting, hosts behind, percent compliant."""
    per_site = defaultdict(set)
    for _, site_name, host_name, _, _ in hosts:
        per_site[site_name].add(host_name)
    behind = defaultdict(set)
    for site_name, host_name, _, _, _, _, status in rows:
        if status == "behind":
            behind[site_name].add(host_name)
    summary = []
    for site_name in sorted(per_site):
        total, late = len(per_site[site_name]), len(behind[site_name])
        summary.append({"site": site_name, "hosts": total, "behind": late,
                        "compliant": "%.1f%%" % (100.0 * (total - late) / total)})
    return summary


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

    timelines = {host_id: host_status_timeline(host_packager[host_id], intervals, verdict)
                 for host_id, intervals in per_host.items()}
    rows = []
    for end in ends:
        ok_hosts = behind_hosts = 0
        sites = defaultdict(lambda: [0, 0])  # site -> [ok, behind]
        for host_id, (points, statuses) in timelines.items():
            index = bisect.bisect_right(points, end) - 1
            status = statuses[index] if index >= 0 else None
            if status is None:
                continue
            counts = sites[host_site[host_id]]
            if status:
                ok_hosts += 1
                counts[0] += 1
            else:
                behind_hosts += 1
                counts[1] += 1
        rows.append({"date": format_time(end - DAY + 1)[:10], "hosts_ok": ok_hosts,
                     "hosts_behind": behind_hosts,
                     "sites_ok": sum(1 for ok, late in sites.values() if not late),
                     "sites_behind": sum(1 for ok, late in sites.values() if late)})
    return rows


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

"""Who is exposed to which advisory, since when, and how fast each site
patches: judged when asked, from the stored advisories and the install
intervals (never inside ingest).

A host is exposed to an advisory while it has a package build inside one
of the advisory's affected ranges (matching.py) for the host's own OS
stream (streams.py). Its exposure windows are the union of those
intervals: "exposed since" is when the first began (never before the
host's first report: intervals start there), "fixed at" when the last
ended (None: still exposed, or silent since). Days exposed after
publication count only the time after the advisory was published (or,
for a feed that gives no date, first seen by this collector).
"""

import bisect
import statistics
from collections import defaultdict, namedtuple
from itertools import groupby
from operator import itemgetter

from ..dates import DAY, FAR_FUTURE, MAX_DAYS
from ..db.advisory_store import published_or_seen
from ..site_names import site_key, site_keys, site_order
from .exceptions import outside
from .matching import affects
from .records import SEVERITIES, SEVERITY_RANK, SOURCE

# the severities `vulnerable` and `patch-times` count unless told
SECURITY_SEVERITIES = tuple(s for s in SEVERITIES if s != "none")

# vulnerable(): per site (hosts: reporting at the time; exposed: hosts
# exposed to at least one advisory; distinct advisories, the distinct CVEs
# they name (one named by two advisories counts once), then the advisories
# by severity)
SiteVulnerability = namedtuple("SiteVulnerability", "site hosts exposed advisories cves critical "
                                                    "important moderate low other")
# vulnerable(): one exposed package of a host to one advisory, a plain
# tuple in these columns (a fleet has hundreds of thousands: a named record
# each would cost a third of the question's time)
VULNERABLE_COLUMNS = ["site", "host", "advisory", "severity", "package", "arch", "installed",
                      "fixed"]
# hosts_exposed(): one exposed host, its advisories as (advisory, severity)
# pairs, each once, the most severe first (then by advisory), and how many
# distinct CVEs they name (a CVE two of them name counts once)
HostExposed = namedtuple("HostExposed", "site host advisories cves")
_HOST_OF_ROW = itemgetter(0, 1)
_ADVISORY_OF_ROW = itemgetter(2, 3)
# vulnerable(): a finding an exception took out, the ids of the exceptions after
EXCEPTED_COLUMNS = VULNERABLE_COLUMNS + ["excepted_by"]
# exposure(): one host that was ever exposed (ended_by: fixed, removed or
# None while exposed); start_known False: it was exposed in its first
# report, so exposed_since is only the earliest time known (at least since
# then); days_known False: days_after_published is then a lower bound
# (that first report came after publication)
HostExposure = namedtuple("HostExposure", "site host exposed_since fixed_at ended_by "
                                          "days_after_published start_known days_known")
# exposure(): a host whose finding is excepted now (exceptions: the
# AdvisoryException records that except it)
ExceptedHost = namedtuple("ExceptedHost", "site host package installed exceptions")
# exposure(): per site, over its hosts that were ever exposed (days_known
# False: some host's days are a lower bound, and so may be its median and worst)
SiteExposure = namedtuple("SiteExposure", "site hosts exposed_now median_days worst_days "
                                          "days_known")
# exposure(): hosts (and sites) exposed at the end of a UTC day
ExposureDay = namedtuple("ExposureDay", "day hosts sites")
# patch_times(): per site, its hosts the advisories touched (affected) and
# those still exposed to one (exposed: their share in percent), and over the
# advisories, the days from publication until its last host was fixed (open
# ones count until now; days_known False: some count from a host's first
# report, and are a lower bound)
PatchTime = namedtuple("PatchTime", "site affected exposed exposed_share advisories fixed open "
                                    "median_days worst_days days_known")


class PatchTimes(list):
    """patch_times(): [PatchTime], and `considered`: how many advisories
    were published (or first seen) in the window asked."""

    def __init__(self, rows, considered):
        list.__init__(self, rows)
        self.considered = considered


def _days(seconds):
    return round(seconds / DAY, 1)


def _median(values):
    return round(statistics.median(values), 1) if values else None


# more advisories than this: their rows are read as those some package may
# match (one query), rather than by advisory id
FEW_ADVISORIES = 500


def affected_rows(store, advisory_ids):
    """The affected rows of these advisories (None: of every advisory)
    that a package row may match."""
    if advisory_ids is not None and len(advisory_ids) <= FEW_ADVISORIES:
        return store.advisories.affected_rows(advisory_ids)
    return store.advisories.affected_rows(advisory_ids, present=True)


class AffectedPackages(object):
    """The affected ranges `rows` (AffectedRow) and the package rows they
    concern, with the stream of each host known at `at`: built once per
    question."""

    def __init__(self, store, table, rows, at):
        self.store = store
        self.rows = rows
        table.loaded = store.advisories.streams()
        self.table = table
        by_name = defaultdict(list)
        by_source = defaultdict(list)
        for row in self.rows:
            (by_source if row.kind == SOURCE else by_name)[row.name].append(row)
        self.packages = store.advisories.package_rows(set(by_name) | set(by_source), set(by_source))
        # package id -> {stream: [(advisory id, range)]} of the ranges it is in
        self.vulnerable = {}
        for package in self.packages.values():
            candidates = by_name.get(package.name, []) + by_source.get(package.name, [])
            if package.source and package.source != package.name:
                candidates = candidates + by_source.get(package.source, [])
            streams = {}
            for row in candidates:
                if affects(row, package):
                    found = streams.setdefault(row.stream, [])
                    if all(advisory_id != row.advisory_id for advisory_id, _ in found):
                        found.append((row.advisory_id, row))
            if streams:
                self.vulnerable[package.id] = streams
        self.hosts = {host.id: host for host in store.fleet.hosts_at(at)}
        # host id -> its stream (None: no advisory applies to its system)
        self.streams = {host.id: table.stream_of(host.system) for host in self.hosts.values()}

    def exposures(self, package_id, host_id):
        """[(advisory id, range)] a host holding this package row is
        exposed to."""
        return self.vulnerable.get(package_id, {}).get(self.streams.get(host_id), ())


class Vulnerability(tuple):
    """vulnerable(): ([SiteVulnerability], [row]), `excepted`: the
    findings exceptions took out of both, rows in EXCEPTED_COLUMNS, and
    `cves`: {advisory ident: (CVE, ...)} of the advisories in the rows."""

    def __new__(cls, summary, details, excepted, cves=None):
        self = tuple.__new__(cls, (summary, details))
        self.excepted = excepted
        self.cves = cves or {}
        return self


def vulnerable(store, table, at, site=None, severities=SECURITY_SEVERITIES, advisory_ids=None,
               excepting=None):
    """Vulnerability at time `at`: the sites with the most critical and
    important advisories first; the rows (VULNERABLE_COLUMNS) by site,
    host, severity and advisory; of one site, or of a collection of sites
    (a site reader's), if given. advisory_ids: only these (a tag's);
    excepting (exceptions.Excepting of those in force at `at`): the
    findings it excepts are neither counted nor rows, but `excepted`."""
    # the advisories some package row may match, then of those severities
    # (a whole grid's feeds hold some 150,000 advisories, most about
    # packages nobody here has)
    rows = affected_rows(store, None if advisory_ids is None else sorted(advisory_ids))
    infos = {advisory_id: info for advisory_id, info in store.advisories.by_id(
        {row.advisory_id for row in rows}).items() if info.severity in severities}
    affected = AffectedPackages(store, table, [row for row in rows if row.advisory_id in infos], at)
    wanted = site_keys(site)
    # each host once, as the database writes its id: (stream, site, name)
    hosts = {str(host.id): (affected.streams[host.id], host.site, host.name)
             for host in affected.hosts.values()
             if wanted is None or site_key(host.site) in wanted}
    holders = store.fleet.hosts_with_packages(sorted(affected.vulnerable), at)
    per_host = defaultdict(list)  # host id text -> [(rank, ident, name, arch, version, fixed)]
    excepted = defaultdict(list)  # the same, and the ids of the exceptions
    site_advisories = defaultdict(set)
    for package_id, host_ids in holders.items():
        package = affected.packages[package_id]
        # what a host of each stream is exposed to through this package
        by_stream = {stream: [(advisory_id, (
            SEVERITY_RANK[infos[advisory_id].severity], infos[advisory_id].ident, package.name,
            package.arch, package.version,
            row.fixed or ("<= %s" % row.last_affected if row.last_affected else None)))
            for advisory_id, row in found]
            for stream, found in affected.vulnerable[package_id].items()}
        for host_text in set(host_ids):
            host = hosts.get(host_text)
            if host is None:
                continue
            found = by_stream.get(host[0])
            if found and excepting:
                standing = []
                for advisory_id, row in found:
                    by = excepting.at(advisory_id, package, host[1], host[2], at)
                    if by:
                        excepted[host_text].append(row + (tuple(e.id for e in by),))
                    else:
                        standing.append((advisory_id, row))
                found = standing
            if found:
                rows = per_host[host_text]
                advisories = site_advisories[host[1]]
                for advisory_id, row in found:
                    rows.append(row)
                    advisories.add(advisory_id)
    site_hosts = defaultdict(int)
    for host in affected.hosts.values():
        if wanted is None or site_key(host.site) in wanted:
            site_hosts[host.site] += 1
    site_exposed = defaultdict(int)
    for host_text in per_host:
        site_exposed[hosts[host_text][1]] += 1
    found = set().union(*site_advisories.values())
    named = store.advisories.cves(sorted(found)) if found else {}
    summary = []
    for site_name, advisory_ids in site_advisories.items():
        counts = defaultdict(int)
        for advisory_id in advisory_ids:
            counts[infos[advisory_id].severity] += 1
        summary.append(SiteVulnerability(
            site_name, site_hosts[site_name], site_exposed[site_name], len(advisory_ids),
            len({cve for advisory_id in advisory_ids for cve in named.get(advisory_id, ())}),
            counts["critical"], counts["important"], counts["moderate"], counts["low"],
            counts["unknown"] + counts["none"]))
    summary.sort(key=lambda s: (-s.critical, -s.important, -s.exposed, site_order(s.site)))
    details = []
    for host_text in sorted(per_host, key=lambda h: (site_order(hosts[h][1]), hosts[h][2])):
        _, site_name, name = hosts[host_text]
        head = (site_name, name)
        for rank, ident, package, arch, version, fixed in sorted(set(per_host[host_text])):
            details.append(head + (ident, SEVERITIES[rank], package, arch, version, fixed))
    apart = []
    for host_text in sorted(excepted, key=lambda h: (site_order(hosts[h][1]), hosts[h][2])):
        head = hosts[host_text][1:]
        for row in sorted(set(excepted[host_text])):
            apart.append(head + (row[1], SEVERITIES[row[0]]) + row[2:])
    return Vulnerability(summary, details, apart, {
        infos[advisory_id].ident: tuple(named.get(advisory_id, ())) for advisory_id in found})


def hosts_exposed(result):
    """[HostExposed] of a vulnerable() result's rows, in their order (by
    site and host; each host's by severity and advisory)."""
    hosts = []
    for (site_name, host), rows in groupby(result[1], _HOST_OF_ROW):
        advisories = tuple(dict.fromkeys(map(_ADVISORY_OF_ROW, rows)))
        hosts.append(HostExposed(site_name, host, advisories, len(
            {cve for ident, _ in advisories for cve in result.cves.get(ident, ())})))
    return hosts


def _windows(intervals):
    """Merged [start, end) windows (end None: open) of (start, end) pairs."""
    if len(intervals) == 1:  # the common case: one interval
        return [list(intervals[0])]
    windows = []
    for start, end in sorted(intervals, key=lambda i: i[0]):
        if windows and (windows[-1][1] is None or start <= windows[-1][1]):
            if windows[-1][1] is not None and (end is None or end > windows[-1][1]):
                windows[-1][1] = end
            continue
        windows.append([start, end])
    return windows


def _exposed_after(windows, published, now):
    return sum(max(0, (now if end is None else min(end, now)) - max(start, published))
               for start, end in windows)


def _host_windows(affected, history, hosts, excepting=None, cuts=None):
    """{(host id, advisory id): windows} of the intervals in `history`
    ({package id: [(host id, installed, removed)]}) of these hosts, less
    the time `excepting` (exceptions.Excepting) excepts them; cuts: a set
    given the (host id, advisory id, time) where an exception ended one."""
    intervals = defaultdict(list)
    streams = affected.streams
    for package_id, rows in history.items():
        found = affected.vulnerable.get(package_id)
        if not found:
            continue
        for host_id, installed, removed in rows:
            if host_id in hosts:
                for advisory_id, _ in found.get(streams[host_id], ()):
                    spans = excepting.spans(advisory_id, affected.packages[package_id],
                                            hosts[host_id].site, hosts[host_id].name) \
                        if excepting else None
                    if not spans:
                        intervals[(host_id, advisory_id)].append((installed, removed))
                        continue
                    end = FAR_FUTURE if removed is None else removed
                    for start, stop, cut in outside(installed, end, spans):
                        intervals[(host_id, advisory_id)].append(
                            (start, None if stop == FAR_FUTURE else stop))
                        if cut and cuts is not None:
                            cuts.add((host_id, advisory_id, stop))
    return {key: _windows(value) for key, value in intervals.items()}


def _hosts_of(affected, site):
    if site is None:
        return affected.hosts
    wanted = site_keys(site)
    return {i: h for i, h in affected.hosts.items() if site_key(h.site) in wanted}


class Exposure(object):
    """exposure(): the hosts, the sites and the curve of one advisory
    (of the days and hosts asked)."""

    def __init__(self, info, hosts, sites, curve, excepted=()):
        self.info = info
        self.hosts = hosts
        self.sites = sites
        self.curve = curve
        self.excepted = list(excepted)  # [ExceptedHost] now


def exposure(store, table, info, now, site=None, excepting=None, first=None, last=None,
             now_only=False):
    """Exposure of the advisory `info` (AdvisoryInfo), of one site or a
    collection of sites if given (the curve counts their hosts only); excepting
    (exceptions.Excepting of every exception, ended ones too): a host is
    not exposed while an exception in force then excepts it. first, last:
    the midnights of the first and last day asked (None: from the first
    data, until today): the hosts exposed some time in those days, and the
    curve of those days; now_only: the hosts exposed now only."""
    affected = AffectedPackages(store, table, affected_rows(store, [info.id]), FAR_FUTURE)
    history = store.advisories.package_history(sorted(affected.packages))
    cuts = set()
    in_scope = _hosts_of(affected, site)
    windows = _host_windows(affected, history, in_scope, excepting, cuts)
    first_reports = store.fleet.first_reports()
    # what each exposed host had of the advisory's packages, to tell a fix
    # from a removal
    exposed = {host_id for host_id, _ in windows}
    held = defaultdict(list)
    for rows in history.values():
        for host_id, installed, removed in rows:
            if host_id in exposed:
                held[host_id].append((installed, removed))
    published = published_or_seen(info)
    hosts = []
    for (host_id, advisory_id), host_windows in windows.items():
        host = affected.hosts[host_id]
        end = host_windows[-1][1]
        ended_by = None
        if (host_id, advisory_id, end) in cuts:
            ended_by = "excepted"
        elif end is not None:
            ended_by = "fixed" if any(start <= end and (stop is None or stop > end)
                                      for start, stop in held[host_id]) else "removed"
        start = host_windows[0][0]
        # an interval that starts with the host's first report: the build
        # may have been there long before, nothing tells
        start_known = start != first_reports.get(host_id)
        if now_only and end is not None or not _overlaps(host_windows, first, last):
            continue
        hosts.append(HostExposure(host.site, host.name, start, end, ended_by,
                                  _days(_exposed_after(host_windows, published, now)),
                                  start_known, start_known or start <= published))
    hosts.sort(key=lambda h: (site_order(h.site), h.host))
    per_site = defaultdict(list)
    for host in hosts:
        per_site[host.site].append(host)
    sites = [SiteExposure(name, len(members), sum(1 for m in members if m.fixed_at is None),
                          _median([m.days_after_published for m in members]),
                          max(m.days_after_published for m in members),
                          all(m.days_known for m in members))
             for name, members in per_site.items()]
    sites.sort(key=lambda s: (-(s.worst_days or 0), site_order(s.site)))
    # the curve from the later of the publication and the first report of
    # a host asked about: before either, nothing is known
    known = [first_reports[i] for i in in_scope if i in first_reports]
    curve = _curve(windows, affected, max(published, min(known)), now, first,
                   last) if known else []
    return Exposure(info, hosts, sites, curve,
                    _excepted_now(affected, history, in_scope, info, now, excepting))


def _overlaps(windows, first, last):
    """Whether a host's windows meet the days from `first` to `last`
    (midnights; None: unbounded)."""
    end_of_days = None if last is None else last + DAY
    return any((first is None or end is None or end > first)
               and (end_of_days is None or start < end_of_days) for start, end in windows)


def _excepted_now(affected, history, hosts, info, now, excepting):
    """[ExceptedHost] holding a build of the advisory's ranges now that an
    exception in force excepts."""
    if not excepting:
        return []
    found = set()
    for package_id, rows in history.items():
        package = affected.packages[package_id]
        for host_id, _, removed in rows:
            host = hosts.get(host_id)
            if host is None or removed is not None or not any(
                    advisory_id == info.id
                    for advisory_id, _ in affected.exposures(package_id, host_id)):
                continue
            by = excepting.at(info.id, package, host.site, host.name, now)
            if by:
                found.add(ExceptedHost(host.site, host.name, package.name, package.version,
                                       tuple(by)))
    return sorted(found, key=lambda h: (site_order(h.site), h.host, h.package))


def _curve(windows, affected, start, now, first=None, last=None):
    """[ExposureDay] from the day of `start` (or `first`, if later) to today
    (or `last`, if earlier), at most MAX_DAYS."""
    today = now - now % DAY
    last = today if last is None else min(last - last % DAY, today)
    first = max(start - start % DAY, first - first % DAY if first is not None else 0)
    first = max(first, last - (MAX_DAYS - 1) * DAY)
    if first > last:
        return []
    ends = list(range(first + DAY - 1, last + DAY, DAY))
    days = len(ends)
    host_deltas = [0] * (days + 1)
    site_spans = defaultdict(list)
    for (host_id, _), host_windows in windows.items():
        for start, end in host_windows:
            lo = bisect.bisect_left(ends, start)
            hi = days if end is None else bisect.bisect_left(ends, end)
            if lo < hi:
                host_deltas[lo] += 1
                host_deltas[hi] -= 1
                site_spans[affected.hosts[host_id].site].append((lo, hi))
    site_deltas = [0] * (days + 1)
    for spans in site_spans.values():
        for lo, hi in _windows(spans):  # a site counts once a day
            site_deltas[lo] += 1
            site_deltas[hi if hi is not None else days] -= 1
    curve, hosts, sites = [], 0, 0
    for index, end in enumerate(ends):
        hosts += host_deltas[index]
        sites += site_deltas[index]
        curve.append(ExposureDay(end - DAY + 1, hosts, sites))
    return curve


def patch_times(store, table, now, since=None, severities=SECURITY_SEVERITIES, site=None,
                excepting=None):
    """PatchTimes: the sites with the largest share of their affected
    hosts still exposed first, then the slowest (a site that patched all
    but one host late is not behind one that never patched half of them);
    excepting: as exposure's."""
    infos = {info.id: info for info in store.advisories.listed(severities=severities, since=since)}
    if not infos:
        return PatchTimes([], 0)
    affected = AffectedPackages(store, table, affected_rows(store, sorted(infos)), FAR_FUTURE)
    history = store.advisories.package_history(sorted(affected.vulnerable))
    windows = _host_windows(affected, history, _hosts_of(affected, site), excepting)
    first_reports = store.fleet.first_reports() if windows else {}
    published_of = {advisory_id: published_or_seen(info) for advisory_id, info in infos.items()}
    per_site = defaultdict(dict)  # site -> advisory id -> [days, open, days known]
    hosts_of = defaultdict(dict)  # site -> host id -> still exposed
    for (host_id, advisory_id), host_windows in windows.items():
        host = affected.hosts[host_id]
        published = published_of[advisory_id]
        if host_windows[-1][1] is not None and host_windows[-1][1] <= published:
            continue  # fixed before the advisory was out: nothing to patch after it
        days = _exposed_after(host_windows, published, now)
        start = host_windows[0][0]
        entry = per_site[host.site].setdefault(advisory_id, [0, False, True])
        entry[0] = max(entry[0], days)
        entry[1] = entry[1] or host_windows[-1][1] is None
        # exposed since its first report, after publication: maybe longer
        entry[2] = entry[2] and (start != first_reports.get(host_id) or start <= published)
        hosts = hosts_of[host.site]
        hosts[host_id] = hosts.get(host_id, False) or host_windows[-1][1] is None
    rows = []
    for site_name, advisories in per_site.items():
        days = [_days(value[0]) for value in advisories.values()]
        still_open = sum(1 for value in advisories.values() if value[1])
        hosts = hosts_of[site_name]
        exposed = sum(hosts.values())
        rows.append(PatchTime(site_name, len(hosts), exposed, round(100.0 * exposed / len(hosts), 1),
                              len(advisories), len(advisories) - still_open, still_open,
                              _median(days), max(days),
                              all(value[2] for value in advisories.values())))
    rows.sort(key=lambda r: (-r.exposed_share, -(r.median_days or 0), site_order(r.site)))
    return PatchTimes(rows, len(infos))

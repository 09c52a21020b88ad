"""The officer's questions over the stored history, for the CLI and the
web pages alike: compliance against a baseline, adoption of a fix over
time, the fleet's changes (silent hosts: silence.py); and the rules both front ends
apply to their inputs (a baseline reference, a range of days, a site that
must exist). Everything here returns numbers and records; times stay Unix
seconds and shares stay numbers: formatting happens in cli.py and pages.py.

Everything works for any past time: the state at T comes from the install
intervals (installed <= T < removed)."""

import bisect
import gc
from collections import defaultdict, namedtuple
from functools import cmp_to_key
from itertools import repeat
from operator import add

from .baselines import newest_per_arch, parse_baseline, parse_requirement
from .dates import DAY, FAR_FUTURE, MAX_DAYS
from .db import RetiredBaseline, UnknownHost
from .db.baseline_store import RETIRED_TEXT
from .history import changes, replaced_pairs
from .host_masks import HostMasks
from .numerals import is_digits
from .site_names import named_sites, site_order
from .versions import compare

# the adoption curve's default length, in days
DEFAULT_DAYS = 30
COMPLIANCE_COLUMNS = ["site", "host", "package", "arch", "installed", "requirement", "status"]
SUMMARY_COLUMNS = ["site", "hosts", "applicable", "behind", "compliant"]
ADOPTION_COLUMNS = ["date", "hosts_ok", "hosts_behind", "sites_ok", "sites_behind"]
CHANGES_COLUMNS = ["site", "host", "time", "action", "name", "arch", "old", "new"]

# a site's hosts, those a requirement applies to (in its scope and holding
# its package), those behind, and the percentage of the applicable ones not
# behind (None: no host is applicable, "n/a")
SiteCompliance = namedtuple("SiteCompliance", "site hosts applicable behind compliant")
# a host behind on `behind` requirements: the texts of the first few, in
# baseline order
HostBehind = namedtuple("HostBehind", "site host behind first")
# one UTC day (the Unix time of its midnight), judged at its end
AdoptionDay = namedtuple("AdoptionDay", "day hosts_ok hosts_behind sites_ok sites_behind")
# one change of one host; time in Unix seconds
Change = namedtuple("Change", CHANGES_COLUMNS)


# ---------------------------------------------------------------- inputs

def split_baseline_ref(ref):
    """(name, revision or None) of "NAME" or "NAME@REVISION"; ValueError
    for a revision that is not a number."""
    name, _, revision = ref.partition("@")
    if revision and not (is_digits(revision) and len(revision) <= 9):
        raise ValueError("bad baseline revision in %r (NAME@REVISION)" % ref[:120])
    return name, int(revision) if revision else None


def stored_baseline(store, ref):
    """(Baseline, requirements) of a stored NAME[@REVISION]: UnknownBaseline
    if there is none (RetiredBaseline: NAME retired, or the revision that
    retired it), ValueError for a bad reference, BaselineError if its
    text does not parse."""
    name, revision = split_baseline_ref(ref)
    baseline = store.baselines.get(name, revision)
    if baseline.text == RETIRED_TEXT:  # (named by its revision)
        raise RetiredBaseline("baseline %r revision %d retired it: name an earlier revision"
                              % (name, baseline.revision))
    return baseline, parse_baseline(baseline.text, "%s@%d" % (name, baseline.revision))


def adoption_requirements(store, text, baseline=None):
    """The requirements `adoption` judges: the requirement `text` ("NAME
    OP VERSION"); or, with a stored baseline NAME[@REVISION], the lines of
    the baseline for package `text` (each host judged by the line its
    system is in the scope of), or its lines of that text. ValueError
    with the reason; UnknownBaseline, BaselineError as stored_baseline."""
    if baseline is None:
        return [parse_requirement(text)]
    stored, requirements = stored_baseline(store, baseline)
    ref = "%s@%d" % (stored.name, stored.revision)
    words = text.split()
    if len(words) == 1:
        lines = [r for r in requirements if r.name == words[0]]
    else:
        wanted = parse_requirement(text).text
        lines = [r for r in requirements if r.text == wanted]
    if not lines:
        raise ValueError("baseline %s has no line for %r" % (ref, text))
    return lines


def day_range(first, last, now):
    """(first, last) midnights of an adoption curve: `last` (None: now) and
    `first` (None: DEFAULT_DAYS - 1 days before it) rounded down to their
    UTC midnight; ValueError when first is after last or the range has
    more than MAX_DAYS days."""
    last = now if last is None else last
    last -= last % DAY
    first = last - (DEFAULT_DAYS - 1) * DAY if first is None else first - first % DAY
    if first > last:
        raise ValueError("the first day is after the last")
    if (last - first) // DAY > MAX_DAYS:
        raise ValueError("more than %d days: narrow the range" % MAX_DAYS)
    return first, last


def require_site(store, site):
    """UnknownHost unless `site` is None or has a host (its suggestions:
    the closest site names)."""
    if site is not None and not store.sites.exists(site):
        raise UnknownHost("unknown site %r" % site, store.sites.closest_to(site))


def is_silent(last_report, now, days):
    """Whether a host last heard of at `last_report` is silent `days` after."""
    return last_report < now - days * DAY


def percent(part, total):
    return 100.0 * part / total if total else 0.0


# ---------------------------------------------------------------- compliance

# up to this many hosts, their compliance reads their packages host by host
# (about 0.5 ms a host on MariaDB: 2,000 cost what a whole grid's
# package-by-package read does)
FEW_HOSTS = 2000


def compliance(store, requirements, at, site=None):
    """The Compliance of the hosts known at `at` (None: now) with the
    requirements; of one site, or of a collection of sites (a site
    reader's), if given.

    The work goes by package row, not host by host, on sets of hosts kept
    as HostMasks integers; a host is judged on the newest row of a (name,
    arch) it holds, found by handing out the holders of each row from the
    newest row to the oldest; each verdict is worked out once per package
    row and requirement. The holders come from the store as bitmaps of host
    ids: no host id is handled one by one."""
    if at is None:
        at = FAR_FUTURE
    packages = store.fleet.packages_named({r.name for r in requirements})
    if site is None:
        # the hosts and the holders, read at once on several connections
        hosts, holders = store.fleet.hosts_and_holders(packages, at)
    else:
        # a site of a few hosts is read host by host; a big one, package by package
        hosts = [host for name in named_sites(site) for host in store.fleet.hosts_at(at, name)]
        holders = store.fleet.holder_bitmaps(
            packages, at, [h.id for h in hosts] if len(hosts) <= FEW_HOSTS else None)
    masks = HostMasks(hosts)
    return compliance_from_holders(requirements, packages, hosts, masks,
                                   newest_holders(packages, holders, masks))


def newest_holders(packages, holders, masks):
    """{package id: mask of the hosts (of masks' list) for which that row
    is the newest of its (name, arch) they hold}, of {package id: bitmap of
    its holders} (PackageRows in `packages`)."""
    won = {}
    taken = defaultdict(int)
    for package_id in sorted(holders, key=cmp_to_key(lambda a, b: _row_order(
            packages[a], packages[b])), reverse=True):
        kind = (packages[package_id].name, packages[package_id].arch)
        held = masks.of_bitmap(holders[package_id])
        won[package_id] = held & ~taken[kind]
        taken[kind] |= held
    return won


def compliance_from_holders(requirements, packages, hosts, masks, won):
    """The Compliance of `hosts` (their HostMasks `masks`) with the
    requirements, given newest_holders' masks `won`."""
    newest = defaultdict(list)  # (name, arch) -> [(package id, hosts it is the newest of)]
    for package_id in sorted(won, key=cmp_to_key(lambda a, b: _row_order(
            packages[a], packages[b])), reverse=True):
        newest[(packages[package_id].name, packages[package_id].arch)].append(
            (package_id, won[package_id]))
    by_system = defaultdict(list)
    for host in hosts:
        by_system[host.system].append(host.id)
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
            for package_id, host_mask in newest[(name, arch)]:
                row = packages[package_id]
                verdict = "ok" if requirement.satisfied_by(row.packager, row.version) \
                    else "behind"
                groups.append(((name, arch, row.version, requirement.text, verdict),
                               host_mask & scope))
                holding |= host_mask
        groups.append(((name, None, None, requirement.text, "absent"), scope & ~holding))
    return Compliance(hosts, masks, groups)


def mark_silent(store, result, at, days, now):
    """Mark on `result` (a Compliance of the hosts known at `at`, None:
    now) the hosts judged on an old report: silent for more than `days`
    at `at` (or `now`), as the overview counts them: one read."""
    when = now if at is None else at
    silent = store.fleet.silent_since(when - days * DAY, at)
    result.silent = {(host.site, host.name): when - silent[host.id]
                     for host in result.hosts if host.id in silent}
    return result


def _row_order(a, b):
    """PackageRows by kind (packager, name, arch), then oldest first."""
    kind_a, kind_b = (a.packager, a.name, a.arch), (b.packager, b.name, b.arch)
    if kind_a != kind_b:
        return -1 if kind_a < kind_b else 1
    return compare(a.packager, a.version, b.version)


# the eight byte lanes (0 or 1, lowest bit first) of each byte of a bitmap
class Compliance(object):
    """The verdicts of a baseline over a list of hosts, kept as a host mask
    (see HostMasks) per (requirement, package row): a fleet's 500,000 rows are only made
    when asked for.

    hosts: [HostAt] in site and name order;
    groups: [(row tail, host mask)] in baseline order, a row tail being
    (package, arch, installed, requirement, status)."""

    def __init__(self, hosts, masks, groups):
        self.hosts = hosts
        self.masks = masks
        self.groups = groups
        # {(site, host name): seconds silent} of the hosts judged on an old
        # report (mark_silent; nothing until asked)
        self.silent = {}

    def rows(self, status=None):
        """Tuples in COMPLIANCE_COLUMNS order (of one status, if given): in
        baseline order, then by arch and installed version (newest first),
        the hosts without the package last; each group in host order.
        (Plain tuples: a fleet has half a million rows, and a named record
        costs three times as much to make.)"""
        prefixes = [(host.site, host.name) for host in self.hosts]
        rows = []
        # Millions of new tuples would start the cyclic garbage collector
        # again and again, each time walking every one made so far; tuples
        # of strings make no cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for tail, mask in self.groups:
                if mask and (status is None or tail[-1] == status):
                    # prefix + tail for each selected host, the loop in C
                    rows.extend(map(add, self.masks.select(prefixes, mask), repeat(tail)))
        finally:
            if collecting:
                gc.enable()
        return rows

    def _of_status(self, *statuses):
        found = 0
        for tail, mask in self.groups:
            if tail[-1] in statuses:
                found |= mask
        return found

    def summary(self):
        """[SiteCompliance] by site: hosts reporting, those applicable (a
        host out of every requirement's scope, or without any of their
        packages, is not: neither compliant nor behind), those behind, and
        the percent of the applicable ones not behind (None if none is)."""
        per_site = defaultdict(lambda: [0, 0, 0])
        for host, applies, late in zip(self.hosts,
                                       self.masks.flags(self._of_status("ok", "behind")),
                                       self.masks.flags(self._of_status("behind"))):
            counts = per_site[host.site]
            counts[0] += 1
            counts[1] += applies
            counts[2] += late
        return [SiteCompliance(site_name, total, applies, late,
                               percent(applies - late, applies) if applies else None)
                for site_name, (total, applies, late) in sorted(
                    per_site.items(), key=lambda item: site_order(item[0]))]

    def installed(self):
        """{package name: {(packager, version)}} of the rows some host is
        judged on (for baselines' checks of what the fleet holds)."""
        found = defaultdict(set)
        packagers = {host.id: host.packager for host in self.hosts}
        for tail, mask in self.groups:
            if mask and tail[2] is not None:
                # a row's hosts share its packager: the lowest one says it
                # (one byte a host id: its lowest set bit's byte)
                host_id = ((mask & -mask).bit_length() - 1) // 8
                found[tail[0]].add((packagers[host_id], tail[2]))
        return found

    def behind_counts(self):
        """{host name: how many of its rows are behind} of every host with a row."""
        names = [host.name for host in self.hosts]
        counts = {}
        for tail, mask in self.groups:
            late = tail[-1] == "behind"
            for name in self.masks.select(names, mask):
                counts[name] = counts.get(name, 0) + late
        return counts

    def hosts_behind(self, few):
        """[HostBehind] of the hosts behind on some requirement, in host
        order: on how many (a requirement behind on two arches is one), and
        the first `few` of them in baseline order. (Worked out on masks, a
        requirement at a time: a fleet has hundreds of thousands of rows
        behind.)"""
        behind = {}  # requirement text -> mask of the hosts behind on it
        for tail, mask in self.groups:
            if mask and tail[-1] == "behind":
                behind[tail[3]] = behind.get(tail[3], 0) | mask
        counts = [0] * len(self.hosts)
        indexes = range(len(self.hosts))
        first = defaultdict(list)  # host index -> the texts named so far
        named = [0] * few  # named[k]: mask of the hosts with more than k named
        for text, mask in behind.items():
            counts = list(map(add, counts, self.masks.flags(mask)))
            taking = mask & ~named[-1]  # the hosts with fewer than `few` named
            if taking:
                for index in self.masks.select(indexes, taking):
                    first[index].append(text)
                for level in range(few - 1, 0, -1):  # (the level below as it was)
                    named[level] |= taking & named[level - 1]
                named[0] |= taking
        return [HostBehind(host.site, host.name, count, tuple(first[index]))
                for index, (host, count) in enumerate(zip(self.hosts, counts)) if count]


# ---------------------------------------------------------------- adoption

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


def adoption(store, requirements, first_day, last_day, site=None, seen=None):
    """[AdoptionDay], one per UTC day from first_day to last_day (Unix
    seconds of their midnights), judged at the end of each day; of one
    site, or of a collection of sites (a site reader's), if given.

    requirements: a Requirement, or a baseline's Requirements of one
    package: a host is judged by the first whose scope takes its system,
    and a host none applies to is not counted. `seen` (a set), if given,
    gets the (packager, version) of every build judged."""
    if not isinstance(requirements, (list, tuple)):
        requirements = [requirements]
    ends = list(range(first_day + DAY - 1, last_day + DAY, DAY))
    per_host = defaultdict(list)
    host_site, host_packager = {}, {}
    held = []
    for name in named_sites(site) if site is not None else [None]:
        held += store.fleet.package_intervals(requirements[0].name, first_day, ends[-1], name)
    # host id -> the requirement that applies to it (None: none does)
    if any(r.systems is not None for r in requirements):
        judged_by = {host_id: next((r for r in requirements if r.applies_to(host.system)), None)
                     for host_id, host in store.fleet.host_names({row[0] for row in held}).items()}
    else:
        judged_by = {row[0]: requirements[0] for row in held}
    for host_id, site_name, packager, version, arch, installed, removed in held:
        if judged_by.get(host_id) is None:
            continue  # out of every line's scope: not applicable
        per_host[host_id].append((version, arch, installed, removed))
        host_site[host_id], host_packager[host_id] = site_name, packager
        if seen is not None:
            seen.add((packager, version))
    verdicts = {}

    def verdict(requirement):
        def judge(packager, version):
            key = (requirement.line, requirement.text, packager, version)
            if key not in verdicts:
                verdicts[key] = requirement.satisfied_by(packager, version)
            return verdicts[key]
        return judge

    # Each host's status holds over spans of days: add +1 where a span
    # starts and -1 where it ends, per site and status, and sum up once.
    days = len(ends)
    counts = defaultdict(lambda: ([0] * (days + 1), [0] * (days + 1)))  # site -> (ok, behind)
    for host_id, intervals in per_host.items():
        points, statuses = host_status_timeline(host_packager[host_id], intervals,
                                                verdict(judged_by[host_id]))
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
    return [AdoptionDay(end - DAY + 1, *total) for end, total in zip(ends, totals)]


# ---------------------------------------------------------------- changes

def fleet_changes(store, since, site=None, package=None, until=None):
    """[Change] of every change at or after `since` (and before `until`,
    if given), by time, site, host, name and arch."""
    host_ids = store.fleet.changed_hosts(since, site, package)
    hosts = store.fleet.host_names(host_ids)
    # the versions installed before `since` and kept across a change tell an
    # upgrade from a second version installed beside the first: history.py
    # says which (name, arch) need them (read in the same snapshot)

    def kept(per_host):
        wanted = defaultdict(set)
        for host_id, intervals in per_host.items():
            for key in replaced_pairs(intervals, since):
                wanted[key].add(host_id)
        return wanted
    per_host = store.fleet.changed_intervals(host_ids, since, package, kept)
    rows = []
    for host_id, intervals in per_host.items():
        host = hosts[host_id]
        rows += [Change(host.site, host.name, *event)
                 for event in changes(host.packager, intervals, since)
                 if until is None or event[0] < until]
    rows.sort(key=lambda r: (r.time, site_order(r.site), r.host, r.name, r.arch))
    return rows

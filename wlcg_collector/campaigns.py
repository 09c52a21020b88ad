"""Campaigns: a target the sites must meet by a deadline, and where each
site stands, worked out from the install history so that any date works.

EGI's critical-vulnerability procedure (SEC03) gives a site 7 calendar
days, once an advisory is assessed critical and a fix exists, to upgrade
or mitigate. A campaign names what must go (an advisory, every advisory of
a CVE or of a tag, or a package below a version: a requirement), which
hosts it concerns (a system pattern, as baselines have) and by when.

A host is affected when it held a failing package row at the start or at
any time since (a host that joins exposed counts). At a time T it is
fixed (nothing failing held), still exposed, excepted (what it still holds
is covered by exceptions in force at T) or silent: no report applied since
the start, so that what it holds is not known; a silent host is never
counted as fixed. A site is done when every affected host is fixed or
excepted, open before the deadline, overdue after it, and unknown when
only silent hosts are left. Hosts renamed or merged with their site stay
one host (the history moves with them); a rollback changes the status as
the history changes.
"""

import bisect
import json
from collections import defaultdict, namedtuple

from .advisories.exceptions import excepting, outside
from .advisories.exposure import AffectedPackages, affected_rows
from .baselines import parse_requirement, system_matches
from .dates import DAY, FAR_FUTURE, MAX_DAYS
from .limits import MAX_CAMPAIGN_NAME, MAX_CAMPAIGN_SYSTEM, MAX_CAMPAIGN_TARGET
from .text import has_invisible
from .db.advisory_store import UnknownAdvisory
from .db.tag_store import UnknownTag
from .site_names import site_key, site_order

ADVISORY, CVE, TAG, REQUIREMENT = "advisory", "cve", "tag", "requirement"
KINDS = (ADVISORY, CVE, TAG, REQUIREMENT)
# a site's state
DONE, OPEN, OVERDUE, UNKNOWN = "done", "open", "overdue", "unknown"
STATES = (OVERDUE, OPEN, UNKNOWN, DONE)  # the order sites are listed in
# a host's state
FIXED, EXPOSED, EXCEPTED, SILENT = "fixed", "exposed", "excepted", "silent"
# the stages of the notices a site is sent
NOTICE, OVERDUE_NOTICE = "notice", "overdue"
# SEC03: days from the start
DEFAULT_DAYS = 7
# a campaign's name: what a URL and a file name may hold
NAME_RULE = "1 to 100 letters, digits and . _ - (starting with a letter or digit)"

# status(): one site (hosts: [ExposedPackage] of the hosts still exposed;
# excepted_hosts: [ExceptedPackage])
CampaignSite = namedtuple("CampaignSite", "site state affected fixed exposed excepted silent "
                                          "deadline overdue_days hosts excepted_hosts")
# a package a host still holds that fails the campaign (fixed: the version
# that fixes it, or what the requirement asks)
ExposedPackage = namedtuple("ExposedPackage", "host package installed fixed advisories")
# a failing package an exception covers, with the exception's id and reason
ExceptedPackage = namedtuple("ExceptedPackage", "host package installed exception reason")
# status(): hosts still exposed and sites not done at the end of each UTC day
BurnDay = namedtuple("BurnDay", "day hosts sites")
CampaignStatus = namedtuple("CampaignStatus", "campaign at sites burndown")
# one failing package row a host held: from installed until removed (None:
# still held); key: the advisory id (None for a requirement)
Finding = namedtuple("Finding", "package_id key fixed installed removed")


class CampaignError(ValueError):
    """A campaign that cannot be: the message is one line."""


def is_campaign_name(name):
    return (0 < len(name) <= MAX_CAMPAIGN_NAME and name.isascii() and name[0].isalnum()
            and all(c.isalnum() or c in "._-" for c in name))


def check_definition(kind, target, system, start, deadline):
    """CampaignError for a definition that cannot be met: a deadline not
    after the start, a requirement that is none, a system pattern or
    target that is no text or too long for its column."""
    if kind not in KINDS:
        raise CampaignError("unknown kind %r (%s)" % (kind, ", ".join(KINDS)))
    if len(target) > MAX_CAMPAIGN_TARGET or has_invisible(target):
        raise CampaignError("the target is not %d visible characters or fewer"
                            % MAX_CAMPAIGN_TARGET)
    if system is not None and (not system.strip() or len(system) > MAX_CAMPAIGN_SYSTEM
                               or has_invisible(system)):
        raise CampaignError("--system %r: a pattern of %d visible characters or fewer"
                            % (system[:40], MAX_CAMPAIGN_SYSTEM))
    if deadline <= start:
        raise CampaignError("the deadline must come after the start")
    if kind == REQUIREMENT:
        try:
            parse_requirement(target)
        except ValueError as exc:
            raise CampaignError("requirement %r: %s" % (target, exc))


class Target(object):
    """What a campaign asks of the hosts: the package rows that fail it
    (failing: {package id: {stream: [(key, fixed)]}}, stream None for
    every host), the hosts it concerns ({id: HostAt}), each host's stream,
    the package rows, and of each advisory its ident and CVEs."""

    def __init__(self, hosts, streams, packages, failing, idents=None, cves=None):
        self.hosts = hosts
        self.streams = streams
        self.packages = packages
        self.failing = failing
        self.idents = idents or {}
        self.cves = cves or {}

    def failing_for(self, package_id, host_id):
        found = self.failing.get(package_id)
        if not found:
            return ()
        if None in found:
            return found[None]
        return found.get(self.streams.get(host_id), ())


def advisory_target(store, table, advisory_ids):
    """The Target of advisories (ids): their affected ranges, for each
    host's own OS stream."""
    affected = AffectedPackages(store, table, affected_rows(store, sorted(advisory_ids)),
                                FAR_FUTURE)
    failing = {}
    for package_id, streams in affected.vulnerable.items():
        failing[package_id] = {stream: [(advisory_id, row.fixed or (
            "<= %s" % row.last_affected if row.last_affected else None))
            for advisory_id, row in found] for stream, found in streams.items()}
    idents = {advisory_id: info.ident
              for advisory_id, info in store.advisories.by_id(advisory_ids).items()}
    return Target(affected.hosts, affected.streams, affected.packages, failing, idents,
                  store.advisories.cves(sorted(advisory_ids)))


def requirement_target(store, text):
    """The Target of a requirement "NAME OP VERSION": the rows of NAME
    that do not meet it (a host without the package is not concerned, as
    compare counts it)."""
    requirement = parse_requirement(text)
    packages = store.advisories.package_rows([requirement.name])
    fixed = "%s %s" % (requirement.op, requirement.version)
    failing = {package_id: {None: [(None, fixed)]} for package_id, row in packages.items()
               if row.name == requirement.name
               and not requirement.satisfied_by(row.packager, row.version)}
    hosts = {host.id: host for host in store.fleet.hosts_at(FAR_FUTURE)}
    return Target(hosts, {}, packages, failing)


def _merged(intervals):
    merged = []
    for start, end in sorted(intervals, key=lambda i: i[0]):
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            if merged[-1][1] is not None and (end is None or end > merged[-1][1]):
                merged[-1][1] = end
            continue
        merged.append([start, end])
    return merged


def _inside(windows, at):
    return any(start <= at and (end is None or end > at) for start, end in windows)


def describe(campaign):
    """What a campaign asks, in words: `advisory ALSA-2024:2433 on el9`."""
    text = {ADVISORY: "advisory %s", CVE: "the advisories of %s",
            TAG: "the advisories tagged %s", REQUIREMENT: "requirement %s"}[campaign.kind] \
        % campaign.target
    if campaign.system:
        text += " on %s" % campaign.system
    return text


def advisory_ids_of_tag(store, name, at=None):
    """The ids of the advisories tag `name` names (as it stood at `at`;
    None: now); CampaignError when there is no such tag."""
    try:
        return store.tags.advisory_ids(name, at)
    except UnknownTag as exc:
        raise CampaignError(str(exc))


def exceptions_of(store):
    """An Excepting of every exception ever recorded (ended ones too: a
    past date uses them as they stood, and the burn-down each day's)."""
    return excepting(store, store.exceptions.listed())


def target_of(store, table, campaign, at=None):
    """The Target of a campaign (a tag's as it stood at `at`); CampaignError
    for an advisory or tag the store does not know."""
    if campaign.kind == REQUIREMENT:
        return requirement_target(store, campaign.target)
    if campaign.kind == ADVISORY:
        try:
            ids = [store.advisories.get(campaign.target)[0].id]
        except UnknownAdvisory as exc:
            raise CampaignError(str(exc))
    elif campaign.kind == CVE:
        ids = [info.id for info in store.advisories.listed(cve=campaign.target)]
    else:
        ids = advisory_ids_of_tag(store, campaign.target, at)
    return advisory_target(store, table, ids)


def status_at(store, table, campaign, at, site=None):
    """The CampaignStatus of a campaign at `at` (of one site, if given),
    from the history, with the exceptions as they stood then. A tag's
    advisories are those it named at `at`, or when the campaign was added
    if that is later (a start set in the past reaches back before it)."""
    return status(store, target_of(store, table, campaign, max(at, campaign.created)),
                  campaign, at, site, exceptions_of(store))


def status_document(status):
    """A CampaignStatus as the JSON document `status --format json`
    prints and a closed campaign keeps: one object a site."""
    return [dict(site._asdict(), hosts=[h._asdict() for h in site.hosts],
                 excepted_hosts=[e._asdict() for e in site.excepted_hosts])
            for site in status.sites]


def final_status(campaign):
    """The status a closed campaign kept (its sites, as documents)."""
    return json.loads(campaign.final) if campaign.final else []


def status(store, target, campaign, at, site=None, excepted=None):
    """The CampaignStatus of a campaign at `at` (of one site, if given)."""
    start = campaign.start
    wanted = None if site is None else site_key(site)
    hosts = {host_id: host for host_id, host in target.hosts.items()
             if (wanted is None or site_key(host.site) == wanted)
             and (campaign.system is None or system_matches(campaign.system, host.system or ""))}
    findings = defaultdict(list)
    history = store.advisories.package_history(sorted(target.failing))
    for package_id, rows in history.items():
        for host_id, installed, removed in rows:
            if host_id in hosts and installed <= at and (removed is None or removed > start):
                for key, fixed in target.failing_for(package_id, host_id):
                    findings[host_id].append(Finding(package_id, key, fixed, installed, removed))
    reporting = store.campaigns.hosts_reporting(start, at)
    per_site = defaultdict(lambda: defaultdict(list))  # site -> state -> [(host, details)]
    windows = {}  # host id -> windows exposed and not excepted
    for host_id, found in findings.items():
        host = hosts[host_id]
        exposed_now, excepted_now, pieces = [], [], []
        for finding in found:
            package = target.packages[finding.package_id]
            # (a requirement's findings name no advisory: no exception covers them)
            spans = excepted.spans(finding.key, package, host.site, host.name) \
                if excepted and finding.key is not None else []
            end = FAR_FUTURE if finding.removed is None else finding.removed
            pieces += [(low, None if high == FAR_FUTURE else high)
                       for low, high, _ in outside(finding.installed, end, spans)]
            if not (finding.installed <= at and (finding.removed is None or finding.removed > at)):
                continue
            active = excepted.at(finding.key, package, host.site, host.name, at) \
                if spans else []
            if active:
                excepted_now.append(ExceptedPackage(host.name, package.name, package.version,
                                                    active[0].id, active[0].reason))
            else:
                exposed_now.append((package, finding))
        windows[host_id] = _merged(pieces)
        if exposed_now:
            state = EXPOSED if host_id in reporting else SILENT
        elif excepted_now:
            state = EXCEPTED
        else:
            state = FIXED if host_id in reporting else SILENT
        per_site[host.site][state].append((host, exposed_now, excepted_now))
    sites = [_site_status(name, states, campaign, at, target)
             for name, states in per_site.items()]
    sites.sort(key=lambda s: (STATES.index(s.state), -(s.overdue_days or 0),
                              site_order(s.site)))
    return CampaignStatus(campaign, at, sites, _burndown(windows, hosts, start, at))


def _site_status(name, states, campaign, at, target):
    exposed_hosts = []
    for host, exposed_now, _ in states[EXPOSED] + states[SILENT]:
        by_package = {}
        for package, finding in exposed_now:
            key = (package.name, package.version, finding.fixed)
            entry = by_package.setdefault(key, [])
            if finding.key is not None:
                entry.append(target.idents.get(finding.key))
        exposed_hosts += [ExposedPackage(host.name, package_name, version, fixed,
                                         sorted(set(a for a in idents if a)))
                          for (package_name, version, fixed), idents in by_package.items()]
    exposed_hosts.sort(key=lambda h: (h.host, h.package, h.installed))
    excepted = sorted((e for _, _, found in states[EXCEPTED] for e in found),
                      key=lambda e: (e.host, e.package))
    counts = {state: len(states[state]) for state in (FIXED, EXPOSED, EXCEPTED, SILENT)}
    affected = sum(counts.values())
    overdue_days = None
    if counts[EXPOSED]:
        state = OVERDUE if at > campaign.deadline else OPEN
        if state == OVERDUE:
            overdue_days = -(-(at - campaign.deadline) // DAY)
    elif counts[SILENT]:
        state = UNKNOWN
    else:
        state = DONE
    return CampaignSite(name, state, affected, counts[FIXED], counts[EXPOSED],
                        counts[EXCEPTED], counts[SILENT], campaign.deadline, overdue_days,
                        exposed_hosts, excepted)


def _burndown(windows, hosts, start, at):
    """[BurnDay] from the start's day to `at`'s (at most MAX_DAYS): hosts
    exposed (excepted time aside; a silent host still counts) and sites
    with such a host, at the end of each day."""
    first = start - start % DAY
    last = at - at % DAY
    first = max(first, last - (MAX_DAYS - 1) * DAY)
    ends = [min(day + DAY - 1, at) for day in range(first, last + DAY, DAY)]
    host_deltas = [0] * (len(ends) + 1)
    site_spans = defaultdict(list)
    for host_id, host_windows in windows.items():
        for low, high in host_windows:
            lo = bisect.bisect_left(ends, low)
            hi = len(ends) if high is None else bisect.bisect_left(ends, high)
            if lo < hi:
                host_deltas[lo] += 1
                host_deltas[hi] -= 1
                site_spans[site_key(hosts[host_id].site)].append((lo, hi))
    site_deltas = [0] * (len(ends) + 1)
    for spans in site_spans.values():
        for lo, hi in _merged(spans):
            site_deltas[lo] += 1
            site_deltas[hi] -= 1
    days, exposed, sites = [], 0, 0
    for index, end in enumerate(ends):
        exposed += host_deltas[index]
        sites += site_deltas[index]
        days.append(BurnDay(end - end % DAY, exposed, sites))
    return days

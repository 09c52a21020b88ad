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

import json
from collections import defaultdict, namedtuple
from collections.abc import Sequence

from .advisories.exceptions import excepting, outside
from .advisories.exposure import AffectedPackages, affected_rows
from .baselines import parse_requirement, system_matches
from .dates import DAY, FAR_FUTURE, MAX_DAYS
from .db.database import maker
from .limits import MAX_CAMPAIGN_NAME, MAX_CAMPAIGN_SYSTEM, MAX_CAMPAIGN_TARGET
from .text import has_invisible
from .db.advisory_store import UnknownAdvisory
from .db.tag_store import UnknownTag
from .site_names import site_key, site_keys, site_order

ADVISORY, CVE, TAG, REQUIREMENT = "advisory", "cve", "tag", "requirement"
KINDS = (ADVISORY, CVE, TAG, REQUIREMENT)
# a site's state
DONE, OPEN, OVERDUE, UNKNOWN = "done", "open", "overdue", "unknown"
STATES = (OVERDUE, OPEN, UNKNOWN, DONE)  # the order sites are listed in
# a host's state
FIXED, EXPOSED, EXCEPTED, SILENT = "fixed", "exposed", "excepted", "silent"
# the stages of the notices a site is sent
NOTICE, OVERDUE_NOTICE = "notice", "overdue"
# a campaign of more than ten years is a typo (SEC03's is 7 days)
MAX_CAMPAIGN_DAYS = 3660
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
    if deadline - start > MAX_CAMPAIGN_DAYS * DAY:
        raise CampaignError("the deadline must come within %d days of the start"
                            % MAX_CAMPAIGN_DAYS)
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
    """The CampaignStatus of a campaign at `at` (of one site, or of a
    collection of sites, if given),
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


def site_counts(store, table, campaign, now, site=None):
    """{state: how many sites are in it} of a campaign now (a closed one:
    as it was closed); of one site, or of a collection of sites, if
    given."""
    if campaign.closed is not None:
        states = [found["state"] for found in final_status(campaign, site)]
    else:
        states = [found.state for found in status_at(store, table, campaign, now, site).sites]
    return {state: states.count(state) for state in STATES}


def final_status(campaign, site=None):
    """The status a closed campaign kept (its sites, as documents); of
    one site, or of a collection of sites, if given."""
    kept = json.loads(campaign.final) if campaign.final else []
    wanted = site_keys(site)
    return [found for found in kept if wanted is None or site_key(found["site"]) in wanted]


def status(store, target, campaign, at, site=None, excepted=None):
    """The CampaignStatus of a campaign at `at` (of one site, or of a
    collection of sites, if given); excepted: the exceptions.Excepting of every exception. Each of a
    host's failing intervals is read once: the days it covers are a bit
    mask, and only a package an exception may cover is judged advisory by
    advisory (a fleet holds hundreds of thousands of such intervals)."""
    start = campaign.start
    wanted = site_keys(site)
    hosts = {host_id: host for host_id, host in target.hosts.items()
             if (wanted is None or site_key(host.site) in wanted)
             and (campaign.system is None or system_matches(campaign.system, host.system or ""))}
    reporting = store.campaigns.hosts_reporting(start, at)
    days = _Days(start, at)
    candidates = excepted.candidates if excepted else {}
    listing = _Listing(target)
    # what a package row is for a host of a stream, worked out once:
    # [failing, whether an exception may cover it, its listing]
    kinds = {}
    masks = defaultdict(int)  # host id -> the days it was exposed, at their end
    exposed = defaultdict(list)  # host id -> the listings of the rows it still holds
    judged = defaultdict(list)  # host id -> [(package id, installed, removed, failing)]
    count, base = days.count, days.first + DAY - 1  # (the first day's end)
    streams = target.streams
    for package_id, rows in store.advisories.package_history(
            sorted(target.failing), start, at).items():
        for host_id, installed, removed in rows:
            if host_id not in hosts:
                continue
            kind = kinds.get((package_id, streams.get(host_id)))
            if kind is None:
                failing = target.failing_for(package_id, host_id)
                kind = kinds[package_id, streams.get(host_id)] = [
                    failing, any(key in candidates for key, _ in failing), None]
            if not kind[0]:
                continue
            if kind[1]:  # an exception may cover it: below
                judged[host_id].append((package_id, installed, removed, kind[0]))
                masks[host_id] |= 0  # (affected, whatever the exceptions leave)
                continue
            # the days it covers at their end (as _Days.mask, inline: a fleet
            # has hundreds of thousands of these)
            held = removed is None or removed > at
            lo = max(0, -(-(installed - base) // DAY))
            hi = count if held else min(count, max(0, -(-(removed - base) // DAY)))
            if lo < hi:
                masks[host_id] |= (1 << hi) - (1 << lo)
            if held:
                exposed[host_id].append(kind[2] if kind[2] is not None
                                        else listing.of(package_id, kind))
    per_site = defaultdict(lambda: defaultdict(list))  # site -> state -> [(host, ...)]
    for host_id in list(masks):
        host, mask = hosts[host_id], masks[host_id]
        exposed_now, excepted_now = exposed.get(host_id, []), []
        for package_id, installed, removed, failing in judged.get(host_id, ()):
            # advisory by advisory (a requirement's findings name none, and
            # no exception covers them)
            held = removed is None or removed > at
            package = target.packages[package_id]
            end = FAR_FUTURE if removed is None else removed
            standing = []
            for key, fixed in failing:
                spans = excepted.spans(key, package, host.site, host.name) \
                    if key in candidates else []
                for low, high, _ in outside(installed, end, spans):
                    mask |= days.mask(low, None if high == FAR_FUTURE else high)
                by = excepted.at(key, package, host.site, host.name, at) if held and spans \
                    else []
                if by:
                    excepted_now.append(ExceptedPackage(host.name, package.name,
                                                        package.version, by[0].id, by[0].reason))
                elif held:
                    standing.append((key, fixed))
            if standing:
                exposed_now.append(listing.of(package_id, [tuple(standing), True, None]))
        masks[host_id] = mask
        if exposed_now:
            state = EXPOSED if host_id in reporting else SILENT
        elif excepted_now:
            state = EXCEPTED
        else:
            state = FIXED if host_id in reporting else SILENT
        per_site[host.site][state].append((host, exposed_now, excepted_now))
    sites = [_site_status(name, states, campaign, at)
             for name, states in per_site.items()]
    sites.sort(key=lambda s: (STATES.index(s.state), -(s.overdue_days or 0),
                              site_order(s.site)))
    return CampaignStatus(campaign, at, sites, days.burndown(masks, hosts))


class _Days(object):
    """The UTC days from a campaign's start to `at` (at most MAX_DAYS, the
    last ending at `at`): which of them an interval covers at their end,
    as a bit mask."""

    def __init__(self, start, at):
        first, last = start - start % DAY, at - at % DAY
        self.first = max(first, last - (MAX_DAYS - 1) * DAY)
        self.count = (last - self.first) // DAY + 1
        self.ends = [min(day + DAY - 1, at) for day in range(self.first, last + DAY, DAY)]

    def index(self, t):
        """The first day whose end is at or after t."""
        return min(self.count, max(0, -(-(t - self.first - DAY + 1) // DAY)))

    def mask(self, start, end):
        lo = self.index(start)
        hi = self.count if end is None else self.index(end)
        return (1 << hi) - (1 << lo) if lo < hi else 0

    def burndown(self, masks, hosts):
        """[BurnDay]: the hosts exposed (excepted time aside; a silent
        host counts) and the sites with one, at the end of each day."""
        site_masks = defaultdict(int)
        for host_id, mask in masks.items():
            site_masks[site_key(hosts[host_id].site)] |= mask
        return [BurnDay(end - end % DAY, sum(1 for m in masks.values() if m >> i & 1),
                        sum(1 for m in site_masks.values() if m >> i & 1))
                for i, end in enumerate(self.ends)]


class _Listing(object):
    """What a host still holding a failing package row is listed with: the
    row's name and version, each fixed version and the advisories that
    give it."""

    def __init__(self, target):
        self.target = target

    def of(self, package_id, kind):
        """The listing of a row (kind: [failing, exceptable, listing]),
        worked out once a kind."""
        if kind[2] is None:
            package = self.target.packages[package_id]
            by_fixed = defaultdict(set)
            for key, fixed in kind[0]:
                ident = self.target.idents.get(key)
                by_fixed[fixed].update([ident] if ident else [])
            kind[2] = [(package.name, package.version, fixed, sorted(idents))
                       for fixed, idents in by_fixed.items()]
        return kind[2]


class _HostsExposed(Sequence):
    """A site's [ExposedPackage], in host, package and version order, made
    when first read: a whole fleet's can be hundreds of thousands, and
    where the sites stand needs none of them."""

    def __init__(self, groups):
        self._groups = groups  # [(host name, [listing])]
        self._rows = None

    def _all(self):
        if self._rows is None:
            make = maker(ExposedPackage)
            self._rows = sorted((make((host,) + entry) for host, listings in self._groups
                                 for listing in listings for entry in listing),
                                key=lambda h: (h.host, h.package, h.installed))
            self._groups = None
        return self._rows

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self):
        return len(self._all())

    def __eq__(self, other):
        return list(self) == list(other)

    def __repr__(self):
        return repr(self._all())


def _site_status(name, states, campaign, at):
    exposed_hosts = _HostsExposed([(host.name, exposed_now) for host, exposed_now, _
                                   in states[EXPOSED] + states[SILENT]])
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

"""Silent hosts and sites, for the CLI (`stale`) and the pages alike: who
has not reported for a number of days (a whole site as one row, listed
sites never heard of), and what the collector knows of why: reports of
theirs held in the quarantine, or their names reporting under another
site (a typo twin). Records and numbers only; cli.py words them."""

from collections import defaultdict, namedtuple

from .analysis import is_silent
from .site_names import named_sites, same_site, site_key, site_order
from .statuses import LISTED

# a silent host, or a whole silent site (host None: its newest report;
# hosts: how many it has), or a listed site that never reported
# (last_report and silent_for None, hosts 0); silent_for in seconds;
# reasons: [SilenceReason]
Silent = namedtuple("Silent", "site host last_report silent_for hosts reasons")
# what the collector knows of why hosts are silent: kind HELD, `reports`
# of their reports received since their last applied one wait in the
# quarantine (under site `site`: theirs, or the other name they carry;
# held: the quarantine's kinds of them, as `quarantine` lists them), the
# newest received `at` (the quarantine keeps the newest report of a host
# and signer, not when the first came); kind ELSEWHERE, their names report
# under site `site` since `at` (reports, held None). hosts: of how many of
# the row's hosts it is true
SilenceReason = namedtuple("SilenceReason", "kind site reports at held hosts")
HELD, ELSEWHERE = "held", "elsewhere"


def stale(store, days, now, site=None, visible=None):
    """[Silent] of the hosts silent for more than `days` (of one site, or
    of a collection of sites (a site reader's), if given), the longest
    silent first: a site whose every host is silent is one row (host None,
    its newest report); then the listed sites that never reported
    (last_report None). Each with what the collector knows of why
    (SilenceReasons): its reports held in the quarantine, or its host
    names reporting under another site (a typo twin); `visible` (a
    collection of sites, None for all) keeps only the reasons that name
    one of them, so that a site reader reads no other site's name."""
    wanted = None if site is None else {site_key(name) for name in named_sites(site)}
    shown = None if visible is None else {site_key(name) for name in named_sites(visible)}
    if shown is None:
        hosts, entries = store.hosts.listed(), store.review.quarantined()
    else:  # (a reason may name the visible sites only: theirs are all it reads)
        names = named_sites(visible)
        hosts = [h for name in names for h in store.hosts.listed(name)]
        entries = [e for name in names for e in store.review.quarantined(name)]
    by_name = defaultdict(list)
    for host in hosts:
        by_name[host.name.lower()].append(host)
    held = defaultdict(list)
    for entry in entries:
        held[entry.host.lower()].append(entry)
    per_site = defaultdict(list)
    for host in hosts:
        if wanted is None or site_key(host.site) in wanted:
            per_site[host.site].append(host)
    rows = []
    for site_name, site_hosts in per_site.items():
        silent = [h for h in site_hosts if is_silent(h.last_report, now, days)]
        if not silent:
            continue
        reasons = [(h, [r for r in _silence_reasons(h, by_name, held)
                        if shown is None or site_key(r.site) in shown]) for h in silent]
        if len(silent) == len(site_hosts):
            last = max(h.last_report for h in site_hosts)
            rows.append(Silent(site_name, None, last, now - last, len(site_hosts),
                               _of_hosts([r for _, found in reasons for r in found])))
            continue
        rows += [Silent(site_name, h.name, h.last_report, now - h.last_report, 1, tuple(found))
                 for h, found in reasons]
    rows.sort(key=lambda r: (r.last_report, site_order(r.site), r.host or ""))
    reported = {site_key(h.site) for h in hosts}
    never = [row.name for row in store.sites.rows() if row.status == LISTED
             and site_key(row.name) not in reported
             and (wanted is None or site_key(row.name) in wanted)]
    return rows + [Silent(name, None, None, None, 0, ()) for name in sorted(never, key=site_order)]


def _silence_reasons(host, by_name, held):
    """[SilenceReason] of one silent host: the reports of its name held
    since its last applied one (under its site or another name), and the
    host of its name at another site that reported after it."""
    found = []
    since_last = [e for e in held.get(host.name.lower(), ()) if e.received > host.last_report]
    by_site = defaultdict(list)
    for entry in since_last:
        by_site[site_key(entry.site)].append(entry)
    for entries in sorted(by_site.values(), key=lambda es: max(e.received for e in es)):
        found.append(SilenceReason(HELD, entries[0].site, len(entries),
                                   max(e.received for e in entries),
                                   tuple(sorted({e.kind for e in entries})), 1))
    twins = [other for other in by_name.get(host.name.lower(), ())
             if not same_site(other.site, host.site) and other.last_report > host.last_report]
    if twins:
        twin = max(twins, key=lambda other: other.last_report)
        found.append(SilenceReason(ELSEWHERE, twin.site, None, twin.first_report, None, 1))
    return found


def _of_hosts(reasons):
    """The SilenceReasons of a site's hosts as the site's: one per kind and
    site, reports added up, the newest held or the first report elsewhere,
    the hosts counted."""
    merged = {}
    for reason in reasons:
        key = (reason.kind, site_key(reason.site))
        before = merged.get(key)
        if before is None:
            merged[key] = reason
        elif reason.kind == HELD:
            merged[key] = before._replace(reports=before.reports + reason.reports,
                                          at=max(before.at, reason.at),
                                          held=tuple(sorted(set(before.held + reason.held))),
                                          hosts=before.hosts + reason.hosts)
        else:
            merged[key] = before._replace(at=min(before.at, reason.at),
                                          hosts=before.hosts + reason.hosts)
    return tuple(sorted(merged.values(), key=lambda r: (r.kind, site_order(r.site))))

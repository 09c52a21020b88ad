"""What the officer's advisory pages show (pages.py renders them):

    /officer/advisories          advisories with hosts exposed now, sortable
                                 (severity, exposed hosts, sites, published),
                                 of a tag (?tag=NAME); their tags, and the
                                 findings exceptions took out, counted apart;
                                 per site, `vulnerable`'s lines (advisories
                                 and distinct CVEs)
    /officer/advisory/CVE-ID     the advisories naming the CVE, each with its
                                 hosts exposed now (one: pages.py answers a
                                 303 to it)
    /officer/advisory/ID         hosts exposed now, the exposure curve, per
                                 site: hosts ever exposed, median and worst
                                 days exposed after publication; its tags,
                                 its exceptions, the hosts they except now

Both of a site reader's sites only (`sites`; None: every site): its
hosts counted, its sites listed, the exceptions that may apply to them.
"""

import time

from ..dates import FAR_FUTURE
from ..db import UnknownAdvisory
from ..db.advisory_store import published_or_seen
from ..search import CVE_ID
from ..site_names import named_sites, site_key, site_keys
from . import exposure as judging
from .exposure_commands import exposures
from .exceptions import excepting, state_of
from .records import SEVERITIES, SEVERITY_RANK
from .tags import is_link

SORT_KEYS = ("advisory", "severity", "published", "hosts", "sites")


class PageArgumentError(ValueError):
    """A bad query parameter (400)."""


def advisories_context(store, table, args, sites=None):
    severity = args.get("severity") or ""
    if severity and severity not in SEVERITIES:
        raise PageArgumentError("severity=%r: one of %s" % (severity[:20], ", ".join(SEVERITIES)))
    severities = (severity,) if severity else judging.SECURITY_SEVERITIES
    tag = args.get("tag") or ""
    tagged = store.tags.advisory_ids(tag) if tag else None  # an unknown tag: 404
    now = int(time.time())
    result = judging.vulnerable(store, table, now, sites, severities=severities,
                                advisory_ids=tagged,
                                excepting=excepting(store, store.exceptions.in_force(now)))
    exposed = {}
    for excepted, rows in ((False, result[1]), (True, result.excepted)):
        for site, host, advisory in (row[:3] for row in rows):
            entry = exposed.setdefault(advisory, {"hosts": set(), "sites": set(),
                                                  "excepted": set()})
            if excepted:
                entry["excepted"].add((site, host))
            else:
                entry["hosts"].add((site, host))
                entry["sites"].add(site)
    infos = {info.ident: info for info in store.advisories.listed(severities=severities)
             if tagged is None or info.id in tagged}
    cves = store.advisories.cves([infos[ident].id for ident in exposed]) if exposed else {}
    tags = store.tags.names_of()
    rows = []
    for ident, entry in exposed.items():
        info = infos[ident]
        rows.append({"advisory": ident, "severity": info.severity,
                     "rank": SEVERITY_RANK[info.severity], "title": info.title,
                     "published": published_or_seen(info), "dated": info.published is not None,
                     "cves": cves.get(info.id, []), "hosts": len(entry["hosts"]),
                     "sites": len(entry["sites"]), "excepted": len(entry["excepted"]),
                     "tags": tags.get(info.id, [])})
    sort = args.get("sort") if args.get("sort") in SORT_KEYS else "severity"
    descending = args.get("order") == "desc"
    key = {"severity": lambda r: (r["rank"], -r["hosts"], r["advisory"]),
           "hosts": lambda r: (r["hosts"], r["advisory"]),
           "sites": lambda r: (r["sites"], r["advisory"]),
           "published": lambda r: (r["published"], r["advisory"]),
           "advisory": lambda r: r["advisory"]}[sort]
    rows.sort(key=key, reverse=descending)
    return {"rows": rows, "sort": sort, "descending": descending, "severity": severity,
            "severities": SEVERITIES, "stored": len(infos), "tag": tag,
            "tag_info": store.tags.get(tag) if tag else None, "tags": store.tags.listed(),
            "excepted": sum(row["excepted"] for row in rows), "is_link": is_link,
            "summary": result[0]}


def advisory_context(store, table, ident, sites=None, first=None, last=None, now_only=False):
    """The advisory page: its hosts of the days from `first` to `last`
    (midnights; None: unbounded) or exposed now (`now_only`), as
    `exposure` takes --from, --to and --now."""
    info, content = store.advisories.get(ident)
    now = int(time.time())
    exceptions = store.exceptions.listed()
    result = judging.exposure(store, table, info, now, sites,
                              excepting(store, exceptions), first, last, now_only)
    now_exposed = [h for h in result.hosts if h.fixed_at is None]
    names = store.tags.names_of().get(info.id, [])
    cves = set(content["cves"])
    return {"info": info, "content": content, "published": published_or_seen(info),
            "hosts": now_exposed, "ever": len(result.hosts), "sites": result.sites,
            "first": first, "last": last, "now_only": now_only,
            "curve": result.curve, "excepted": result.excepted, "is_link": is_link,
            "tags": [tag for tag in store.tags.listed() if tag.name in names],
            "exceptions": [(e, state_of(e, now)) for e in within(store, exceptions, sites)
                           if e.advisory == info.ident or e.cve in cves]}


def advisories_of_cve(store, text):
    """The advisories (AdvisoryInfo, by ident) naming the CVE `text` (a CVE
    id, case ignored; none: []), when no advisory has that id; None for
    any other text (an advisory's id: its own page)."""
    if not CVE_ID.match(text):
        return None
    try:
        store.advisories.get(text)
        return None
    except UnknownAdvisory:
        return store.advisories.listed(cve=text.upper())


def cve_context(store, table, cve, infos, sites=None):
    """The page of the CVE `cve` that several advisories (`infos`) name: each
    with its hosts and sites exposed now, as `exposure CVE --now` counts
    them (of a site reader's sites: `sites`), and the hosts exposed now to
    any of them, each once."""
    results = exposures(store, table, infos, sites, now_only=True)
    hosts = {(h.site, h.host) for result in results for h in result.hosts}
    cves = store.advisories.cves([info.id for info in infos])
    return {"cve": cve.upper(),
            "rows": [{"info": r.info, "published": published_or_seen(r.info),
                      "cves": cves.get(r.info.id, []), "hosts": len(r.hosts),
                      "sites": len(r.sites)} for r in results],
            "hosts": len(hosts), "sites": len({site for site, _ in hosts})}


def within(store, exceptions, sites):
    """The exceptions that may apply to a host of these sites (None:
    every exception): one that names another site, or a host none of
    them has, is none of a site reader's business."""
    if sites is None:
        return exceptions
    wanted = site_keys(sites)
    # (host names as exceptions.covers compares them)
    hosts = {host.name.lower().rstrip(".") for name in named_sites(sites)
             for host in store.fleet.hosts_at(FAR_FUTURE, name)}
    return [e for e in exceptions if (e.site is None or site_key(e.site) in wanted)
            and (e.host is None or e.host.lower().rstrip(".") in hosts)]

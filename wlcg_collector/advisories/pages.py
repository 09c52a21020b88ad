"""What the officer's advisory pages show (pages.py renders them):

    /officer/advisories          advisories with hosts exposed now, sortable
                                 (severity, exposed hosts, sites, published)
    /officer/advisory/ID         hosts exposed now, the exposure curve, per
                                 site: hosts ever exposed, median and worst
                                 days exposed after publication
"""

import time

from ..db.advisory_store import published_or_seen
from . import exposure as judging
from .records import SEVERITIES, SEVERITY_RANK

SORT_KEYS = ("advisory", "severity", "published", "hosts", "sites")


class PageArgumentError(ValueError):
    """A bad query parameter (400)."""


def advisories_context(store, table, args):
    severity = args.get("severity") or ""
    if severity and severity not in SEVERITIES:
        raise PageArgumentError("severity=%r: one of %s" % (severity[:20], ", ".join(SEVERITIES)))
    severities = (severity,) if severity else judging.SECURITY_SEVERITIES
    now = int(time.time())
    _, details = judging.vulnerable(store, table, now, severities=severities)
    exposed = {}
    for site, host, advisory in (row[:3] for row in details):
        entry = exposed.setdefault(advisory, {"hosts": set(), "sites": set()})
        entry["hosts"].add((site, host))
        entry["sites"].add(site)
    infos = {info.ident: info for info in store.advisories.listed(severities=severities)}
    cves = store.advisories.cves([infos[ident].id for ident in exposed]) if exposed else {}
    rows = []
    for ident, entry in exposed.items():
        info = infos[ident]
        rows.append({"advisory": ident, "severity": info.severity,
                     "rank": SEVERITY_RANK[info.severity], "title": info.title,
                     "published": published_or_seen(info), "dated": info.published is not None,
                     "cves": cves.get(info.id, []), "hosts": len(entry["hosts"]),
                     "sites": len(entry["sites"])})
    sort = args.get("sort") if args.get("sort") in SORT_KEYS else "severity"
    descending = args.get("order") == "desc"
    key = {"severity": lambda r: (r["rank"], -r["hosts"], r["advisory"]),
           "hosts": lambda r: (r["hosts"], r["advisory"]),
           "sites": lambda r: (r["sites"], r["advisory"]),
           "published": lambda r: (r["published"], r["advisory"]),
           "advisory": lambda r: r["advisory"]}[sort]
    rows.sort(key=key, reverse=descending)
    return {"rows": rows, "sort": sort, "descending": descending, "severity": severity,
            "severities": SEVERITIES, "stored": len(infos)}


def advisory_context(store, table, ident):
    info, content = store.advisories.get(ident)
    result = judging.exposure(store, table, info, int(time.time()))
    now_exposed = [h for h in result.hosts if h.fixed_at is None]
    return {"info": info, "content": content, "published": published_or_seen(info),
            "hosts": now_exposed, "ever": len(result.hosts), "sites": result.sites,
            "curve": result.curve}

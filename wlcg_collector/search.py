"""What the officer's search box finds for a text: hosts whose name
holds it, sites whose name holds it, the advisory of that id, the CVE
that advisories name, and the hosts holding a package of that name now;
each of the sites a request may read (readers.Scope.sites) only.
Records, no formatting: pages.py renders them, page_json.py answers them."""

import re
from collections import namedtuple

from .db import UnknownAdvisory
from .site_names import site_key

# hosts and sites a search lists, each (a text that matches more: say more)
MOST_MATCHES = 100
CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}\Z", re.IGNORECASE)

# hosts: [Host]; sites: [site name]; advisory: its ident or None; cve:
# the CVE id (upper case) if an advisory names it, else None; package:
# the package rows held now ((site, host, version, arch), a page of them)
# and how many in all
Found = namedtuple("Found", "text hosts sites advisory cve package package_total")


def search(store, text, sites, first, most):
    """Found for `text` (stripped; empty: nothing found) among `sites`
    (None: every site); the package's holders from the `first`, `most`
    of them."""
    text = text.strip()
    if not text:
        return Found(text, [], [], None, None, [], 0)
    hosts = store.hosts.named_like(text, sites, MOST_MATCHES)
    needle = site_key(text)
    site_names = [site for site, _, _, _ in store.sites.overview(0, sites)
                  if needle in site_key(site)][:MOST_MATCHES]
    try:
        advisory = store.advisories.get(text)[0].ident
    except UnknownAdvisory:
        advisory = None
    cve = None
    if CVE_ID.match(text) and store.advisories.listed(cve=text.upper()):
        cve = text.upper()
    total, holders = store.hosts.holding(text, sites, first, most)
    return Found(text, hosts, site_names, advisory, cve, holders, total)


def only_match(found):
    """The one thing `found` names, as (kind, value), when no package of
    that name is held and it names one thing, or one exactly (case
    ignored; "a1" finds a1 and a10, "a10" goes to a10): ("host", Host),
    ("site", name), ("advisory", ident) or ("cve", id); else None."""
    if found.package_total:
        return None
    matches = ([("host", host, host.name) for host in found.hosts] +
               [("site", site, site) for site in found.sites] +
               ([("advisory", found.advisory, found.advisory)] if found.advisory else []) +
               ([("cve", found.cve, found.cve)]
                if found.cve and found.cve != found.advisory else []))
    exact = [m for m in matches if site_key(m[2]) == site_key(found.text)]
    for chosen in (matches, exact):
        if len(chosen) == 1:
            return chosen[0][:2]
    return None

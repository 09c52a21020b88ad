"""The sites the grid knows: lists of official site names as the officer
imports them, and the names closest to one that is not on the list.

Three formats, told apart by their first character (or named):

- plain: one site name a line; '#' starts a comment.
- cric: a CRIC site export, a JSON object keyed by site name, as CRIC's
  `?json` queries return (WLCG CRIC: /api/core/site/query/?json). Kept of
  each entry: tier_level, country, rc_site (the GOCDB name) and state.
- gocdb: the XML of GOCDB's get_site or get_site_list method
  (https://gocdb.github.io/api/read/get_site): <SITE NAME="..."> elements,
  with COUNTRY, SHORT_NAME and CERTIFICATION_STATUS as child elements or
  attributes.

A list is the officer's, but often fetched from the network: every name is
checked as the report parser checks a reported site, and a list with one
bad entry is refused whole, with one line naming it.
"""

import json
import re
import xml.etree.ElementTree as ElementTree
from collections import namedtuple

from .closest import SUGGESTIONS, closest_names
from .limits import MAX_SITE_FIELD as MAX_FIELD
from .report import HEADER_LIMITS, SITE_RE, SITE_RULE, is_site_name
from .site_names import same_site, site_key, site_order
from .statuses import ACCEPTED, LISTED

FORMATS = ("plain", "cric", "gocdb")
MAX_SITES = 100000
# a re-import that would retire more than this share of the listed sites
# (and more than a handful) is taken for a truncated export
SHRINK_SHARE = 0.5
SHRINK_MINIMUM = 10

# an official site: name as the list spells it; tier (int or None),
# country, gocdb (the GOCDB name when the list gives another), state (the
# list's own word: ACTIVE, Certified, ...)
ListedSite = namedtuple("ListedSite", "name tier country gocdb state")


class SiteListError(Exception):
    """A site list that cannot be imported: the message is the one-line reason."""


def check_site_name(name, where):
    """The name, if a report could carry it as its site; else SiteListError."""
    if not isinstance(name, str) or not is_site_name(name):
        raise SiteListError("%s: %r is not a site name (%s, at most %d characters)"
                            % (where, str(name)[:120], SITE_RULE, HEADER_LIMITS["site"]))
    return name


def _text(value, where, field):
    """An optional metadata value: a short printable string, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise SiteListError("%s: %s is not text" % (where, field))
    value = " ".join(value.split())
    if not value.isprintable():
        raise SiteListError("%s: %s holds characters that are not printable" % (where, field))
    return value[:MAX_FIELD] or None


def _tier(value, where):
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.upper().startswith("T") and text[1:].isdigit():  # "T2" as some exports say
        text = text[1:]
    if not re.match(r"^[0-9]{1,2}$", text):
        raise SiteListError("%s: tier_level %r is not a tier number" % (where, str(value)[:20]))
    return int(text)


def detect_format(data):
    """plain, cric or gocdb, from the first character that is not space."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        return "cric"
    if head == b"<":
        return "gocdb"
    return "plain"


def parse_site_list(data, fmt=None, name="the list"):
    """[ListedSite] of a list's bytes, in the list's order; SiteListError
    for a list that cannot be read, an entry that is not a site, a name
    listed twice (in any case) or an empty list."""
    fmt = fmt or detect_format(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SiteListError("%s is not UTF-8 (byte %d)" % (name, exc.start))
    parser = {"plain": _parse_plain, "cric": _parse_cric, "gocdb": _parse_gocdb}.get(fmt)
    if parser is None:
        raise SiteListError("unknown site list format %r (%s)" % (fmt, ", ".join(FORMATS)))
    sites = parser(text, name)
    if not sites:
        raise SiteListError("%s names no site" % name)
    if len(sites) > MAX_SITES:
        raise SiteListError("%s names more than %d sites" % (name, MAX_SITES))
    seen = {}
    for site in sites:
        key = site_key(site.name)
        if key in seen:
            raise SiteListError("%s names site %s twice (%s and %s: names are compared "
                                "without regard to case)" % (name, site.name, seen[key],
                                                             site.name))
        seen[key] = site.name
    return sites


def _parse_plain(text, name):
    sites = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if len(line.split()) > 1:
            raise SiteListError("%s line %d: %r is more than one name (one site a line)"
                                % (name, number, line[:120]))
        sites.append(ListedSite(check_site_name(line, "%s line %d" % (name, number)),
                                None, None, None, None))
    return sites


def _parse_cric(text, name):
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise SiteListError("%s is not JSON: %s" % (name, exc))
    except RecursionError:  # json's own bound: no export nests a thousand deep
        raise SiteListError("%s is not JSON: nested too deeply" % name)
    if not isinstance(document, dict):
        raise SiteListError("%s is not a CRIC site export (a JSON object keyed by site name)"
                            % name)
    sites = []
    for key, entry in document.items():
        where = "%s, site %r" % (name, key[:120])
        check_site_name(key, name)
        if not isinstance(entry, dict):
            raise SiteListError("%s: the entry is not a JSON object" % where)
        gocdb = entry.get("rc_site")
        if isinstance(gocdb, list):  # some CRIC flavours give several
            gocdb = gocdb[0] if gocdb else None
        gocdb = _text(gocdb, where, "rc_site")
        if gocdb is not None:
            check_site_name(gocdb, where + " rc_site")
        sites.append(ListedSite(key, _tier(entry.get("tier_level"), where),
                                _text(entry.get("country"), where, "country"),
                                gocdb if gocdb != key else None,
                                _text(entry.get("state"), where, "state")))
    return sites


def _parse_gocdb(text, name):
    # The standard library's parser expands entities: a list with a DTD is
    # refused before it is parsed (no entity expansion, no external fetch).
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise SiteListError("%s holds a DOCTYPE or an ENTITY: not a GOCDB export" % name)
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise SiteListError("%s is not XML: %s" % (name, exc))
    elements = [root] if root.tag == "SITE" else root.findall("SITE")
    if root.tag not in ("results", "SITE"):
        raise SiteListError("%s is not a GOCDB get_site export (<results> of <SITE>)" % name)

    def field(element, key):
        child = element.find(key)
        if child is not None and child.text:
            return child.text
        return element.get(key)
    sites = []
    for number, element in enumerate(elements, 1):
        site_name = element.get("NAME")
        where = "%s, SITE %d" % (name, number)
        if site_name is None:
            raise SiteListError("%s has no NAME" % where)
        check_site_name(site_name, where)
        where = "%s, site %r" % (name, site_name)
        short = _text(field(element, "SHORT_NAME"), where, "SHORT_NAME")
        sites.append(ListedSite(site_name, None, _text(field(element, "COUNTRY"), where,
                                                        "COUNTRY"),
                                short if short and short != site_name and
                                SITE_RE.match(short) else None,
                                _text(field(element, "CERTIFICATION_STATUS"), where,
                                      "CERTIFICATION_STATUS")))
    return sites


# ---------------------------------------------------------------- suggestions

def suggestions(name, official, limit=SUGGESTIONS):
    """The official names closest to `name`, closest first: official is
    [(site name, [aliases])] (an alias: the site's GOCDB name); closest's
    rule, a name that is the same site (case ignored) none of them."""
    return closest_names(name, [(site, aliases) for site, aliases in official
                                if not same_site(site, name)], limit)


def shrink_refusal(current, listed):
    """The line refusing an import that would retire most of the listed
    sites (a truncated export, a query that went wrong), or None: current
    is [SiteRow], listed [ListedSite]."""
    names = {site_key(site.name) for site in listed}
    before = [row for row in current if row.status == LISTED]
    gone = [row.name for row in before if site_key(row.name) not in names]
    if len(gone) > SHRINK_MINIMUM and len(gone) > SHRINK_SHARE * len(before):
        return ("the new list would retire %d of the %d listed sites (%s, ...): if that is "
                "right, import it with --force" % (len(gone), len(before), ", ".join(gone[:3])))
    return None


# ---------------------------------------------------------------- the officer's views

# sites(): every site the officer expects or that hosts report under
SiteLine = namedtuple("SiteLine", "site status tier country gocdb hosts last_report")
# unknown(): a site name not on the list, who is behind it and what was
# meant; also_at: [(suggested site, how many of its host names are there
# too)] of the suggestions that have some (the same hosts, reporting under
# two names)
UnknownSite = namedtuple("UnknownSite", "site hosts quarantined last_report suggestions "
                                        "host_names senders also_at")


def site_lines(site_rows, host_sites):
    """[SiteLine] by name: site_rows [SiteRow] (the list), host_sites the
    store's [Site] (hosts and newest report of each site hosts report
    under). A site hosts report under that is not on a loaded list is
    "unknown"; with no list loaded, its status is None."""
    listed = {site_key(row.name): row for row in site_rows}
    lines = {}
    for row in site_rows:
        lines[site_key(row.name)] = SiteLine(row.name, row.status, row.tier, row.country,
                                             row.gocdb, 0, None)
    for site in host_sites:
        key = site_key(site.site)
        if key not in listed:
            lines[key] = SiteLine(site.site, "unknown" if site_rows else None, None, None, None,
                                  site.hosts, site.last_report)
        else:
            lines[key] = lines[key]._replace(hosts=site.hosts, last_report=site.last_report)
    return sorted(lines.values(), key=lambda line: site_order(line.site))


def unknown_sites(site_rows, hosts, quarantined):
    """[UnknownSite] by name, of the names hosts report under (hosts:
    [SiteHost]) or quarantined reports carry (quarantined: [(site, host,
    sender, received)]) that a loaded list does not hold, each with the
    closest official names. Empty when no list is loaded."""
    if not site_rows:
        return []
    known = {site_key(row.name) for row in site_rows}
    official = [(row.name, [row.gocdb] if row.gocdb else []) for row in site_rows
                if row.status in (LISTED, ACCEPTED)]
    found = {}
    names_at = {}  # the host names of each known site
    for host in hosts:
        if site_key(host.site) in known:
            names_at.setdefault(site_key(host.site), set()).add(host.name)

    def entry(site):
        return found.setdefault(site_key(site), {"site": site, "hosts": set(), "held": 0,
                                                 "last": None, "senders": set()})
    for host in hosts:
        if site_key(host.site) in known:
            continue
        item = entry(host.site)
        item["hosts"].add(host.name)
        item["senders"].add(host.created_by)
        if host.last_report >= 0 and (item["last"] is None or host.last_report > item["last"]):
            item["last"] = host.last_report
    for site, host, sender, received in quarantined:
        if site_key(site) in known:
            continue
        item = entry(site)
        item["held"] += 1
        item["hosts"].add(host)
        item["senders"].add(sender)
    unknown = []
    for _, item in sorted(found.items()):
        closest = suggestions(item["site"], official)
        shared = [(site, len(item["hosts"] & names_at.get(site_key(site), set())))
                  for site in closest]
        unknown.append(UnknownSite(item["site"], len(item["hosts"]), item["held"], item["last"],
                                   closest, sorted(item["hosts"]),
                                   sorted(s for s in item["senders"] if s),
                                   [(site, count) for site, count in shared if count]))
    return unknown

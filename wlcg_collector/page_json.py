"""The officer's pages as JSON, for scripts. A page asked with
`?format=json`, or with an Accept header that prefers application/json to
text/html, answers what its command's `--format json` prints (made by the
same functions), under the same access rules; an error is {"error":
"..."} with its status.

A list is answered a page at a time, in the command's order: `page` from
1 (past the last: an empty list), `per_page` PER_PAGE unless asked, at
most MAX_PER_PAGE; the headers X-Total, X-Page and X-Per-Page say how
many there are and which page this is (as GitLab's API does), so that the
body stays the command's own JSON. A page that shows several commands'
data answers an object with a key a part, each list paged alike; X-Total
is the longest part's, X-Total-PART each list part's.

A site reader's JSON is its pages' (pages.py): each answer asked of
storage for the request's readers.Scope, its sites' rows only and its
numbers counted over their hosts, as the command with --site; another
site, its hosts and the quarantine are 404 in the words a site that does
not exist gets; no unknown sites, no notice to another site.

JsonPages is a part of pages.OfficerPages: each page's answer, taking the
request's scope and the page's own arguments, read through the page's
helpers.
"""

import json
import time

from . import search, topology
from .advisories.commands import (advisory_document, advisory_list_rows, vulnerable_at,
                                  vulnerable_host_rows, vulnerable_rows, vulnerable_site_rows)
from .advisories.exposure_commands import curve_rows, exposure_rows, exposures
from .advisories.exposure import SECURITY_SEVERITIES
from .advisories.records import SEVERITIES
from .advisories.streams import StreamTable
from .baseline_commands import compliance_rows, summary_rows
from .campaign_commands import burndown_rows, campaign_rows, closed_status, notice_rows
from .campaigns import CampaignError, status_at, status_document
from .cli import before_first_report, history_rows, host_rows, state_rows
from .fleet_commands import adoption_rows, stale_rows
from .limits import MAX_PAGE, MAX_PER_PAGE, MAX_SEARCH, PER_PAGE
from .numerals import decimal_number, whole_number
from .output import json_rows, record_rows
from .page_args import (PageError, date_arg, host_of, number_arg, require_site, site_arg,
                        stored_requirements)
from .site_commands import SITE_COLUMNS, UNKNOWN_COLUMNS, unknown_row
from .trust import UNKNOWN_SITE
from .trust_commands import quarantine_rows

CONTENT_TYPE = "application/json; charset=utf-8"
# `sites` with no list of sites loaded: only what the hosts tell
UNLISTED_SITE_COLUMNS = ["site", "hosts", "last_report"]
# how specific a media range of an Accept header is
EXACT, SUBTYPES, ANY = 3, 2, 1


def wants_json(args, accept):
    """Whether a request asks for JSON: format=json, or an Accept header
    that prefers it (prefers_json)."""
    return args.get("format") == "json" or (not args.get("format") and prefers_json(accept))


def prefers_json(accept):
    """Whether an Accept header names JSON (application/json or
    application/*) with a quality above 0 and not below text/html's. A
    browser's (text/html first, */*;q=0.8 for the rest) and */* alone get
    the HTML."""
    json_match = html_match = (0, 0.0)  # (how specific, quality) of the best match
    for item in accept.split(","):
        fields = item.split(";")
        kind = fields[0].strip().lower()
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = decimal_number(value)
                except ValueError:
                    quality = 0.0
        json_match = max(json_match, (_specificity(kind, "application", "json"), quality))
        html_match = max(html_match, (_specificity(kind, "text", "html"), quality))
    return json_match[0] >= SUBTYPES and json_match[1] > 0 and json_match[1] >= html_match[1]


def _specificity(kind, main, sub):
    """How specifically media range `kind` names main/sub (0: not)."""
    if kind == "%s/%s" % (main, sub):
        return EXACT
    if kind == main + "/*":
        return SUBTYPES
    return ANY if kind == "*/*" else 0


def search_text(args):
    """The search box's text (q=); PageError (400) for one longer than any
    name it could find."""
    text = args.get("q", "")
    if len(text) > MAX_SEARCH:
        raise PageError(400, "q: %d characters at most" % MAX_SEARCH)
    return text


def paging(args):
    """(page, per_page) of a request; PageError (400) for a value that is
    not a whole number in range."""
    return (_whole(args, "page", 1, MAX_PAGE), _whole(args, "per_page", PER_PAGE, MAX_PER_PAGE))


def _whole(args, name, default, most):
    text = args.get(name)
    if not text:
        return default
    try:
        # (more digits than the largest has: refused unread)
        value = whole_number(text) if len(text) <= len(str(most)) else 0
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise PageError(400, "%s=%r: a whole number from 1 to %d" % (name, text[:20], most))
    return value


def answer(data, page, per_page):
    """(body, headers) of a page's data: a list, the page of it, or an
    object of parts, each list part the page of it and other values as
    they are; the headers say the totals and the page."""
    start = (page - 1) * per_page
    if isinstance(data, list):
        body, totals = data[start:start + per_page], [("X-Total", len(data))]
    else:
        body = {part: value[start:start + per_page] if isinstance(value, list) else value
                for part, value in data.items()}
        totals = [("X-Total-" + part.capitalize(), len(value)) for part, value in data.items()
                  if isinstance(value, list)]
        totals.insert(0, ("X-Total", max([total for _, total in totals] or [0])))
    return body, [(name, str(value)) for name, value in
                  totals + [("X-Page", page), ("X-Per-Page", per_page)]]


def json_body(value):
    """The bytes of a JSON answer: ASCII, and no '<', '>' or '&' even
    inside a string (hosts write these values: nothing in them can read as
    markup to a client that guesses a type)."""
    text = json.dumps(value, indent=1)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return (text + "\n").encode("ascii")


class JsonPages(object):
    """The JSON answer of each officer page (a part of OfficerPages)."""

    def json_page(self, scope, parts, args):
        """(body, headers) of the page `parts` names, as the request's
        readers.Scope may read it (None: no such page)."""
        page, per_page = paging(args)
        if parts == ["search"]:  # (paged as storage reads it: a package may be on every host)
            return self.search_json(scope, args, page, per_page)
        if not parts:
            data = self.overview_json(scope, args)
        elif parts[0] == "site" and len(parts) == 2:
            data = self.site_json(scope, parts[1], args)
        elif parts[0] == "host" and len(parts) == 3:
            data = self.host_json(scope, parts[1], parts[2], args)
        elif parts[0] == "baseline" and len(parts) == 2:
            data = self.baseline_json(scope, parts[1], args)
        elif parts == ["adoption"]:
            data = self.adoption_json(scope, args)
        elif parts == ["quarantine"]:
            data = self.quarantine_json(scope, args)
        elif parts == ["advisories"]:
            data = self.advisories_json(scope, args)
        elif parts[0] == "advisory" and len(parts) == 2:
            data = self.advisory_json(scope, parts[1], args)
        elif parts == ["campaigns"]:
            data = self.campaigns_json(scope)
        elif parts[0] == "campaign" and len(parts) == 2:
            data = self.campaign_json(scope, parts[1])
        else:
            return None
        return answer(data, page, per_page)

    def send_json(self, start_response, status, value, extra=()):
        return self.send(start_response, status, json_body(value), CONTENT_TYPE, extra)

    # -- each page: its command's records

    def search_json(self, scope, args, page, per_page):
        """(body, headers) of the search box's answer (search.py), of the
        scope's sites: hosts, sites, the advisory, the CVE and the
        package's holders now (a page of them; X-Total-Package: how many)."""
        found = search.search(self.store, search_text(args), scope.sites,
                              (page - 1) * per_page, per_page)
        body = {"query": found.text,
                "hosts": [{"site": h.site, "host": h.name} for h in found.hosts],
                "sites": found.sites, "advisory": found.advisory, "cve": found.cve,
                "package": [dict(zip(("site", "host", "version", "arch"), row))
                            for row in found.package]}
        return body, [(name, str(value)) for name, value in (
            ("X-Total", found.package_total), ("X-Total-Package", found.package_total),
            ("X-Page", page), ("X-Per-Page", per_page))]

    def overview_json(self, scope, args):
        """`sites`, `sites --unknown`, `stale --days STALE` and, with a
        baseline, `compare BASELINE --summary`. A site reader's: its
        sites' lines of `sites` and `stale`, `compare --summary` of its
        hosts (one site: `--site SITE`'s), no unknown sites."""
        stale_days = number_arg(args, "stale", self.stale_days)
        listed = self.store.sites.rows()
        # (the whole list read, as the page does: a reader's site off it is "unknown")
        sites = [line for line in topology.site_lines(listed,
                                                      self.store.sites.reported(scope.sites))
                 if scope.allows(line.site)]
        data = {"sites": record_rows(sites, SITE_COLUMNS if listed else UNLISTED_SITE_COLUMNS)}
        if scope.team:
            unknown = topology.unknown_sites(listed, self.store.sites.hosts(),
                                             self.store.sites.quarantined(UNKNOWN_SITE))
            data["unknown"] = json_rows([unknown_row(site, "json") for site in unknown],
                                        UNKNOWN_COLUMNS)
        data["stale"] = stale_rows(self.store, stale_days, int(time.time()), scope.sites,
                                   scope.sites)
        if args.get("baseline"):
            _, requirements = stored_requirements(self.store, args["baseline"])
            data["compliance"] = json_rows(*summary_rows(self.store, self.compliance(
                requirements, None, scope.sites, marked=False)))
        return data

    def site_json(self, scope, site, args):
        """`hosts --site SITE` and, with a baseline, `compare BASELINE --site SITE`."""
        require_site(self.store, scope, site)
        data = {"hosts": json_rows(*host_rows(self.store, site))}
        if args.get("baseline"):
            _, requirements = stored_requirements(self.store, args["baseline"])
            data["compliance"] = compliance_rows(self.compliance(requirements, None, site))
        return data

    def host_json(self, scope, site, name, args):
        """`state HOST --site SITE [--at DATE]` (q=TEXT: the packages whose
        name holds TEXT, case ignored; a date before the host's first
        report: 404, as `state` refuses it) and `history HOST --site SITE`."""
        host = host_of(self.store, scope, site, name)
        at = date_arg(args, "at")
        before = before_first_report(host, at)
        if before:  # (as `state` refuses it)
            raise PageError(404, before)
        needle = args.get("q", "").lower()
        return {"state": [row for row in state_rows(self.store, host, at)
                          if needle in row["name"].lower()],
                "history": history_rows(self.store, host)}

    def baseline_json(self, scope, ref, args):
        """`compare NAME[@REV] [--site S] [--at DATE]` (a site reader: of
        its hosts)."""
        _, requirements = stored_requirements(self.store, ref)
        at = date_arg(args, "at")
        return compliance_rows(self.compliance(requirements, at, site_arg(self.store, scope, args)))

    def adoption_json(self, scope, args):
        """`adoption REQUIREMENT [--from] [--to] [--site]`, as the page works it out."""
        if not args.get("requirement"):
            raise PageError(400, "requirement=: name a requirement, as NAME OP VERSION")
        context = self.adoption(scope, args)
        if context["error"]:
            raise PageError(400, context["error"])
        return adoption_rows(context["rows"])

    def quarantine_json(self, scope, args):
        """`quarantine [--site S]`: the team's (a site reader: no such page)."""
        if not scope.team:
            raise PageError(404, "no such page")
        return quarantine_rows(self.store, args.get("site") or None)

    def advisories_json(self, scope, args):
        """`advisories list`, `vulnerable`, `vulnerable --summary` and
        `vulnerable --hosts`, of the severity asked (one: that one only, as
        the page) or the security ones, of tag=NAME if given; a site
        reader's `vulnerable` of its hosts."""
        severity = args.get("severity") or ""
        if severity and severity not in SEVERITIES:
            raise PageError(400, "severity=%r: one of %s" % (severity[:20], ", ".join(SEVERITIES)))
        severities = (severity,) if severity else SECURITY_SEVERITIES
        tag = args.get("tag") or None
        result, exceptions = vulnerable_at(self.store, StreamTable(self.os_streams), None,
                                           scope.sites, severities, tag)
        return {"advisories": advisory_list_rows(self.store, severities, tag=tag),
                "vulnerable": vulnerable_rows(result, exceptions),
                "sites": vulnerable_site_rows(result), "hosts": vulnerable_host_rows(result)}

    def cve_json(self, scope, cve, infos):
        """`advisories list --cve CVE` and `exposure CVE --now` (a site
        reader: of its hosts) of a CVE that several advisories (`infos`,
        advisories/pages.advisories_of_cve) name."""
        return {"advisories": advisory_list_rows(self.store, cve=cve),
                "exposure": exposure_rows(exposures(self.store, StreamTable(self.os_streams),
                                                    infos, scope.sites, now_only=True))}

    def advisory_json(self, scope, ident, args):
        """`advisories show ID`, `exposure ID` and `exposure ID --curve`
        (a site reader: of its hosts)."""
        info, content = self.store.advisories.get(ident)
        results = exposures(self.store, StreamTable(self.os_streams), [info], scope.sites,
                            *self.exposure_bounds(args))
        return {"advisory": advisory_document(self.store, info, content),
                "exposure": exposure_rows(results), "curve": curve_rows(results)}

    def campaigns_json(self, scope):
        """`campaign list` (a site reader: its sites counted)."""
        try:
            return campaign_rows(self.store, StreamTable(self.os_streams), int(time.time()),
                                 scope.sites)
        except CampaignError as exc:
            raise PageError(404, str(exc))

    def campaign_json(self, scope, name):
        """`campaign status NAME`, `campaign status NAME --burndown` (a
        closed campaign: its final status, no burn-down) and `campaign log
        NAME`; a site reader's of its sites (`--site SITE`'s), the notices
        sent to them."""
        campaign = self.store.campaigns.get(name)
        if campaign.closed is not None:
            status, burndown = closed_status(campaign, scope.sites), []
        else:
            try:
                current = status_at(self.store, StreamTable(self.os_streams), campaign,
                                    int(time.time()), scope.sites)
            except CampaignError as exc:
                raise PageError(404, str(exc))
            status, burndown = status_document(current), burndown_rows(current)
        return {"status": status, "burndown": burndown,
                "notices": notice_rows(self.store, campaign, scope.sites)}

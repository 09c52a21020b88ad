"""The officer's web pages under /officer/: server-rendered HTML (Jinja2,
autoescaped: everything shown comes from hosts), usable without JavaScript,
read-only (GET and HEAD only: no state changes, so no CSRF tokens), behind
the access rules of access.py and a strict Content-Security-Policy.

    /officer/                          sites: hosts, last report, silent hosts, compliance
    /officer/site/SITE                 its hosts
    /officer/host/SITE/HOST            packages now or ?at=DATE (?q= filter), history
    /officer/baseline/NAME[@REV]       compliance table; ?format=csv|json downloads
    /officer/adoption?requirement=...  the adoption curve, drawn as an SVG chart
    /officer/quarantine[?site=SITE]    reports kept aside for review (actions: the CLI)
    /officer/advisories                advisories with hosts exposed now (advisories/pages.py)
    /officer/advisory/ID               one advisory: who is exposed, since when, per site
    /officer/advisory/CVE-ID           the advisories naming a CVE (one: a 303 to it)
    /officer/campaigns                 campaigns: deadline, sites done, open, overdue
    /officer/campaign/NAME             one campaign: each site's state, the burn-down
    /officer/search?q=TEXT             a host, site, package, advisory or CVE: 303 to the
                                       one match, or the matches by kind

A host's trust (verified, site, pinned, unsigned) shows wherever it is
listed: unsigned hosts' rows are ones anybody could have written.

Every page answers JSON for scripts too (`?format=json`, or an Accept
header that prefers application/json): page_json.py.

What a request may read is decided once, its readers.Scope (scope_of):
the team reads every site; a site reader reads these pages, and their
JSON, of its own sites only, each page's data asked of storage for those
sites, and no quarantine. Another site's page is 404 as a site that does
not exist is, so that a reader cannot tell which sites and hosts there
are.

Every link, form, redirect and cookie path starts at the application's
mount point (SCRIPT_NAME: /wlcg-collector under the RPM's Apache snippet,
nothing under `wlcg-collector serve`).
"""

import functools
import http
import os
import sys
import time
import urllib.parse

from . import (analysis, campaign_pages, cli, compliance_cache, page_json, search, topology,
               trust)
from .advisories import pages as advisory_pages
from .advisories.exposure_commands import exposure_days
from .advisories.streams import StreamTable
from .access import TOKEN_COOKIE, Access, remote_user, verified_dn
from .baseline_commands import COMPARE_COLUMNS, compliance_rows, silent_note
from .baseline_checks import epoch_traps
from .baselines import BaselineError
from .campaigns import CampaignError
from .dates import DAY, format_day, format_time
from .drawing import chart, compliance_band, line_chart
from .db import StoreError, StoreUnavailable
from .history import changes
from .output import FEW, first_few, render
from .page_args import (PageError, date_arg, host_of, mount_point, number_arg, page_url,
                        require_site, site_arg, sorted_rows, stored_requirements,
                        unknown_line)
from .readers import EVERY_SITE, NO_SITE
from .site_names import same_site, site_key
from .statuses import LISTED, RETIRED

HERE = os.path.dirname(os.path.abspath(__file__))
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                    ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
                    ("Cache-Control", "no-store")]
SORT_KEYS = ("site", "tier", "country", "hosts", "last_report", "silent", "compliance")
# the baseline page's summary columns (analysis.SiteCompliance)
SUMMARY_SORT_KEYS = ("site", "hosts", "applicable", "behind", "compliant")
TIMELINE_LIMIT = 200
# a site's page shows the reports its quotas refused in this many UTC days
QUOTA_DAYS = 7
# where a request's readers.Scope is kept once decided (scope_of)
SCOPE_KEY = "wlcg_collector.scope"


def _environment():
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(HERE, "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    # (url is given with each page: it depends on where the request came in)
    env.globals.update(time=format_time, day=format_day, RETIRED=RETIRED, band=compliance_band,
                       UNSIGNED=trust.UNSIGNED,
                       key=lambda value: trust.short_fingerprint(value) or "")
    return env


class OfficerPages(page_json.JsonPages):
    def __init__(self, config, store, token=None, keeper=None):
        self.store = store
        self.keeper = keeper  # where compare's holders are kept (see compliance_cache)
        self.stale_days = config.stale_days
        self.os_streams = config.os_streams
        self.access = Access(config.officer_allow, token)
        self.readers = config.site_readers
        self.env = _environment()  # ImportError without Jinja2: the caller answers 503

    def __call__(self, environ, start_response, path):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        token = query.get("token", [""])[0]
        root = mount_point(environ) + "/officer"
        args = {k: v[0] for k, v in query.items()}
        # a script's request: every answer JSON, its errors too
        json_asked = page_json.wants_json(args, environ.get("HTTP_ACCEPT", ""))
        if token and self.access.token_matches(token):
            # the development server's link: keep the token in a cookie
            rest = {k: v[0] for k, v in query.items() if k != "token"}
            location = page_url(root, *[urllib.parse.unquote(p) for p in path.split("/") if p],
                                **rest)
            start_response("303 See Other", [
                ("Location", location), ("Content-Length", "0"),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Set-Cookie", "%s=%s; Path=%s; HttpOnly; SameSite=Strict"
                 % (TOKEN_COOKIE, token, root))] + SECURITY_HEADERS)
            return [b""]
        try:
            scope = self.scope_of(environ)
        except StoreUnavailable:
            message = "the database is unavailable, try again later"
            if json_asked:
                return self.send_json(start_response, 503, {"error": message})
            return self.text(start_response, 503, "503: " + message)
        if scope is None:
            message = ("the officer's pages need an authenticated member of the team or "
                       "reader of a site")
            if json_asked:
                return self.send_json(start_response, 403, {"error": message})
            return self.text(start_response, 403, "403 Forbidden: " + message)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            if json_asked:
                return self.send_json(start_response, 405, {"error": "these pages are read-only"},
                                      [("Allow", "GET, HEAD")])
            return self.text(start_response, 405, "405: these pages are read-only",
                             [("Allow", "GET, HEAD")])
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        page = functools.partial(self.html, start_response, root, scope=scope)
        error = functools.partial(self.error, start_response, root, json_asked, scope)
        try:
            if parts == ["static", "style.css"]:
                with open(os.path.join(HERE, "static", "style.css"), "rb") as handle:
                    return self.send(start_response, 200, handle.read(), "text/css")
            # a CVE's id: the one advisory naming it (JSON too: a script follows
            # it), else the page of those that do
            named = (advisory_pages.advisories_of_cve(self.store, parts[1])
                     if parts[:1] == ["advisory"] and len(parts) == 2 else None)
            if named and len(named) == 1:
                return self.send(start_response, 303, b"", "text/plain; charset=utf-8", [
                    ("Location", page_url(root, "advisory", named[0].ident, **args))])
            if named and json_asked:
                return self.send_json(start_response, 200, *page_json.answer(
                    self.cve_json(scope, parts[1], named), *page_json.paging(args)))
            if json_asked:
                answer = self.json_page(scope, parts, args)
                if answer is None:
                    raise PageError(404, "no such page")
                return self.send_json(start_response, 200, *answer)
            if args.get("format") and parts[:1] != ["baseline"]:
                raise PageError(400, "format=%r: json" % args["format"][:20])
            if not parts:
                return page("overview.html", self.overview(scope, args))
            if parts[0] == "site" and len(parts) == 2:
                return page("site.html", self.site(scope, parts[1], args))
            if parts[0] == "host" and len(parts) == 3:
                return page("host.html", self.host(scope, parts[1], parts[2], args))
            if parts[0] == "baseline" and len(parts) == 2:
                return self.baseline(start_response, root, scope, parts[1], args)
            if parts == ["adoption"]:
                return page("adoption.html", self.adoption(scope, args))
            if parts == ["quarantine"]:
                return page("quarantine.html", self.quarantine(scope, args))
            if parts == ["advisories"]:
                return page("advisories.html", self.advisories(scope, args))
            if named:
                return page("advisory_cve.html", advisory_pages.cve_context(
                    self.store, StreamTable(self.os_streams), parts[1], named, scope.sites))
            if parts[0] == "advisory" and len(parts) == 2:
                return page("advisory.html", self.advisory(scope, parts[1], args))
            if parts == ["campaigns"]:
                return page("campaigns.html", self.campaigns(scope))
            if parts[0] == "campaign" and len(parts) == 2:
                return page("campaign.html", self.campaign(scope, parts[1]))
            if parts == ["search"]:
                return self.search(start_response, root, scope, args)
            raise PageError(404, "no such page")
        except PageError as exc:
            return error(exc.status, str(exc))
        except StoreUnavailable:
            return error(503, "the database is unavailable, try again later")
        except StoreError as exc:
            return error(404, unknown_line(exc, scope))

    # -- responses

    def send(self, start_response, status, body, content_type, extra=()):
        start_response("%d %s" % (status, http.HTTPStatus(status).phrase), [
            ("Content-Type", content_type), ("Content-Length", str(len(body)))]
            + SECURITY_HEADERS + list(extra))
        return [body]

    def text(self, start_response, status, message, extra=()):
        return self.send(start_response, status, (message + "\n").encode(),
                         "text/plain; charset=utf-8", extra)

    def error(self, start_response, root, json_asked, scope, status, message):
        """An error as the request asked: {"error": message} or the error
        page (its navigation as `scope` reads)."""
        if json_asked:
            return self.send_json(start_response, status, {"error": message})
        return self.html(start_response, root, "error.html", {"message": message}, status,
                         scope=scope)

    def html(self, start_response, root, template, context, status=200, scope=None):
        """A page; `scope` (the request's readers.Scope) says what the
        navigation offers: none given, the least (no site)."""
        body = self.env.get_template(template).render(
            url=functools.partial(page_url, root),
            scope=scope if scope is not None else NO_SITE, **context).encode("utf-8")
        return self.send(start_response, status, body, "text/html; charset=utf-8")

    # -- who reads what

    def scope_of(self, environ):
        """The request's readers.Scope, decided once and kept on the
        request (SCOPE_KEY): every site for the team (the allow list, the
        development server's token), a site reader's sites, or None for
        anybody else. StoreUnavailable when a reader's sites cannot be
        read."""
        if SCOPE_KEY not in environ:
            if self.access.identity(environ) is not None:
                environ[SCOPE_KEY] = EVERY_SITE
            else:
                environ[SCOPE_KEY] = self.readers.scope(self.store, verified_dn(environ),
                                                        remote_user(environ))
        return environ[SCOPE_KEY]

    # -- helpers

    def baseline_names(self):
        return [b.name for b in self.store.baselines.latest()]

    # -- pages

    def overview(self, scope, args):
        now = int(time.time())
        stale_days = number_arg(args, "stale", self.stale_days)
        overview = self.store.sites.overview(now - stale_days * DAY, scope.sites)
        sites = {site: {"site": site, "hosts": hosts, "last_report": last, "silent": silent,
                        "compliance": None, "behind": None, "applicable": None}
                 for site, hosts, last, silent in overview}
        baseline = args.get("baseline") or ""
        caveats = []
        if baseline:
            _, requirements = stored_requirements(self.store, baseline)
            answer = self.answer(requirements, None, scope.sites, scope.sites, marked=False)
            caveats = answer.caveats
            # (a site as the overview spells it: hosts of the same site
            # spelt in another case are a site of their own in compare)
            summaries = [summary for summary in answer.compliance.summary()
                         if summary.site in sites]
            by_name = {site_key(name): row for name, row in sites.items()}
            for summary in summaries:
                row = by_name.get(site_key(summary.site))
                if row is not None:
                    row["compliance"] = summary.compliant
                    row["behind"] = summary.behind
                    row["applicable"] = summary.applicable
        # the list of sites: tier and country; names not on it shown apart,
        # to the team (a reader sees its own sites' rows, never another name)
        site_rows = [row for row in self.store.sites.rows() if scope.allows(row.name)]
        listed = {site_key(row.name): row for row in site_rows}
        unknown = [name for name in sites
                   if scope.team and site_rows and site_key(name) not in listed]
        rows = [row for name, row in sites.items() if name not in unknown]
        for row in rows:
            row["stale"] = row["silent"] == row["hosts"]
            meta = listed.get(site_key(row["site"]))
            row["tier"] = meta.tier if meta else None
            row["country"] = meta.country if meta else None
            row["status"] = meta.status if meta else None
        reporting = {site_key(name) for name in sites}
        without_reports = [row.name for row in site_rows
                           if row.status == LISTED and site_key(row.name) not in reporting]
        unknown_sites = topology.unknown_sites(
            site_rows, self.store.sites.hosts(unknown) if unknown else [],
            self.store.sites.quarantined(trust.UNKNOWN_SITE)) if site_rows and scope.team else []
        sort = args.get("sort") if args.get("sort") in SORT_KEYS else "site"
        descending = args.get("order") == "desc"
        rows = sorted_rows(rows, sort, descending)
        return {"rows": rows, "sort": sort, "descending": descending, "baseline": baseline,
                "caveats": caveats,
                "baselines": self.baseline_names(), "stale_days": stale_days, "now": now,
                "unknown": unknown_sites, "without_reports": without_reports,
                "listed": bool(site_rows)}

    def compliance(self, requirements, at=None, site=None, marked=True):
        """compare's Compliance for the question (compliance_cache decides
        how it is worked out); its warnings go to the error log. Not
        `marked`: its silent hosts are not looked for (a summary shows
        none of them)."""
        return self.answer(requirements, at, site, marked=marked).compliance

    def answer(self, requirements, at=None, site=None, visible=None, marked=True):
        """compare's ComplianceAnswer: its warnings go to the error log, its
        caveats (naming the systems of the `visible` sites only) to the
        page; its hosts silent longer than stale_days marked, if `marked`."""
        answer = compliance_cache.compliance_answer(
            self.store, requirements, at, site, self.keeper, visible,
            self.stale_days if marked else None)
        for warning in answer.warnings:
            sys.stderr.write("wlcg-collector: warning: %s\n" % warning)
        return answer

    def site(self, scope, site, args):
        require_site(self.store, scope, site)
        status, behind_on = {}, {}
        baseline = args.get("baseline") or ""
        if baseline:
            _, requirements = stored_requirements(self.store, baseline)
            result = self.compliance(requirements, None, site)
            status = result.behind_counts()
            behind_on = {h.host: first_few(h.first, h.behind) for h in result.hosts_behind(FEW)}
        meta = [row for row in self.store.sites.rows() if same_site(row.name, site)]
        now = int(time.time())
        return {"site": site, "baseline": baseline, "status": status, "behind_on": behind_on,
                "baselines": self.baseline_names(), "hosts": self.store.hosts.listed(site=site),
                "meta": meta[0] if meta else None, "quota_days": QUOTA_DAYS,
                "contacts": self.store.contacts.of_site(site),
                "quota_events": self.store.quotas.events(
                    site, now - now % DAY - (QUOTA_DAYS - 1) * DAY)}

    def host(self, scope, site, name, args):
        host = host_of(self.store, scope, site, name)
        at = date_arg(args, "at")
        needle = args.get("q", "").lower()
        packages = [p for p in self.store.hosts.state(host.id, at) if needle in p.name.lower()]
        timeline = []
        for when, action, package, arch, old, new in reversed(
                changes(host.packager, self.store.hosts.intervals(host.id))):
            if not timeline or timeline[-1]["time"] != when:
                timeline.append({"time": when, "changes": []})
            timeline[-1]["changes"].append({"action": action, "name": package, "arch": arch,
                                            "old": old, "new": new})
        return {"site": site, "host": host, "packages": packages, "q": args.get("q", ""),
                "at": args.get("at", ""), "before": cli.before_first_report(host, at),
                "timeline": timeline[:TIMELINE_LIMIT],
                "more": max(0, len(timeline) - TIMELINE_LIMIT)}

    def quarantine(self, scope, args):
        if not scope.team:
            raise PageError(404, "no such page")
        site = args.get("site") or None
        return {"site": site or "", "entries": self.store.review.quarantined(site)}

    def advisories(self, scope, args):
        try:
            return advisory_pages.advisories_context(self.store, StreamTable(self.os_streams),
                                                     args, scope.sites)
        except advisory_pages.PageArgumentError as exc:
            raise PageError(400, str(exc))

    def exposure_bounds(self, args):
        """(first, last, now_only) of ?from=, ?to= and ?now=, as `exposure`
        takes --from, --to and --now."""
        try:
            first, last = exposure_days(date_arg(args, "from"), date_arg(args, "to"))
        except ValueError as exc:
            raise PageError(400, "from/to: %s" % exc)
        return first, last, bool(args.get("now"))

    def advisory(self, scope, ident, args):
        context = advisory_pages.advisory_context(self.store, StreamTable(self.os_streams),
                                                  ident, scope.sites,
                                                  *self.exposure_bounds(args))
        context["chart"] = line_chart(context["curve"], ("hosts", "sites"))
        return context

    def campaigns(self, scope):
        try:
            return campaign_pages.campaigns_context(self.store, StreamTable(self.os_streams),
                                                    scope.sites)
        except CampaignError as exc:
            raise PageError(404, str(exc))

    def campaign(self, scope, name):
        try:
            context = campaign_pages.campaign_context(self.store,
                                                      StreamTable(self.os_streams), name,
                                                      scope.sites)
        except CampaignError as exc:
            raise PageError(404, str(exc))
        burndown = context["burndown"]
        context["chart"] = line_chart(burndown, ("hosts", "sites")) if burndown else None
        context["deadline_x"] = None
        if len(burndown) > 1:  # where the deadline falls among the days drawn
            chart, first, last = context["chart"], burndown[0].day, burndown[-1].day
            deadline = context["campaign"].deadline
            if first <= deadline <= last:
                span = chart["width"] - 2 * chart["margin"]
                context["deadline_x"] = round(chart["margin"] + span * (
                    (deadline - first) / DAY) / (len(burndown) - 1), 1)
        return context

    def baseline(self, start_response, root, scope, ref, args):
        baseline, requirements = stored_requirements(self.store, ref)
        at = date_arg(args, "at")
        answer = self.answer(requirements, at, site_arg(self.store, scope, args), scope.sites)
        result = answer.compliance
        columns = analysis.COMPLIANCE_COLUMNS
        fmt = args.get("format")
        if fmt == "csv":  # (format=json: JsonPages.baseline_json)
            body = render(compliance_rows(result), COMPARE_COLUMNS, fmt).encode("utf-8")
            return self.send(start_response, 200, body, "text/csv; charset=utf-8", [
                ("Content-Disposition", 'attachment; filename="%s-%d.%s"'
                 % (baseline.name, baseline.revision, fmt))])
        if fmt:
            raise PageError(400, "format=%r: csv or json" % fmt[:20])
        sort = args.get("sort") if args.get("sort") in SUMMARY_SORT_KEYS else "site"
        descending = args.get("order") == "desc"
        summary = sorted_rows([s._asdict() for s in result.summary()], sort, descending)
        return self.html(start_response, root, "baseline.html", {
            "name": baseline.name, "revision": baseline.revision, "created": baseline.created,
            "at": args.get("at", ""), "site": args.get("site") or "", "summary": summary,
            "sort": sort, "descending": descending, "caveats": answer.caveats,
            "behind": [dict(zip(columns, row), silent=silent_note(result, row[0], row[1]))
                       for row in result.rows("behind")],
            "requirements": [r.text + (" [%s]" % ", ".join(r.systems) if r.systems else "")
                             for r in requirements]}, scope=scope)

    def search(self, start_response, root, scope, args):
        """The search box's answer: 303 to the one thing the text names,
        else the page listing what it found by kind (search.py)."""
        page, per_page = page_json.paging(args)
        found = search.search(self.store, page_json.search_text(args), scope.sites,
                              (page - 1) * per_page, per_page)
        only = search.only_match(found)
        if only is not None:
            kind, value = only
            segments = {"host": lambda: ("host", value.site, value.name),
                        "site": lambda: ("site", value)}.get(kind, lambda: ("advisory", value))()
            location = page_url(root, *segments)
            return self.send(start_response, 303, b"", "text/plain; charset=utf-8",
                             [("Location", location)])
        return self.html(start_response, root, "search.html", {
            "found": found, "page": page, "per_page": per_page,
            "pages": max(1, -(-found.package_total // per_page))}, scope=scope)

    def adoption(self, scope, args):
        text = args.get("requirement", "")
        baseline = args.get("baseline") or None
        context = {"requirement": text, "rows": [], "chart": None, "error": None,
                   "site": args.get("site", ""), "first": args.get("from", ""),
                   "last": args.get("to", ""), "baseline": baseline or "", "warnings": [],
                   "baselines": self.baseline_names()}
        if not text:
            return context
        try:
            requirements = analysis.adoption_requirements(self.store, text, baseline)
        except (ValueError, BaselineError) as exc:
            context["error"] = "requirement %r: %s" % (text, exc)
            return context
        try:
            first, last = analysis.day_range(date_arg(args, "from"),
                                             date_arg(args, "to"), int(time.time()))
        except ValueError as exc:
            raise PageError(400, "from/to: %s" % exc)
        seen = set()
        rows = analysis.adoption(self.store, requirements, first, last,
                                 site_arg(self.store, scope, args), seen)
        context.update(rows=rows, chart=chart(rows), warnings=epoch_traps(
            requirements, {requirements[0].name: seen}))
        return context

"""What a page's request asks, read as the pages read it: where the pages
are (the mount point) and their links; the sites, hosts, dates and numbers
of its query, another site's name refused as a name nobody reported under
(404, worded alike), a malformed value as a 400 (PageError); and the
line a page gives for a name that names nothing."""

import urllib.parse

from . import analysis
from .baselines import BaselineError
from .dates import parse_date
from .db import UnknownHost
from .db.errors import UnknownName
from .numerals import decimal_number
from .site_names import site_order


class PageError(Exception):
    """A request a page cannot answer: its status (400, 404) and one line."""

    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status


def mount_point(environ):
    """The path the application is mounted at (SCRIPT_NAME), URL-quoted:
    '' at the server's root, '/wlcg-collector' under the RPM's snippet."""
    script = environ.get("SCRIPT_NAME", "").rstrip("/")
    try:
        raw = script.encode("latin-1")  # PEP 3333: the request's bytes, as Latin-1
    except UnicodeEncodeError:  # a server that decoded them itself
        raw = script.encode("utf-8")
    return urllib.parse.quote(raw, safe="/")


def page_url(root, *segments, **query):
    """ROOT/SEG/SEG?k=v with every part quoted; root is where the pages
    are (mount point + /officer)."""
    path = root + "/" + "/".join(urllib.parse.quote(str(s), safe="@") for s in segments)
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


def site_arg(store, scope, args):
    """The sites a question with an optional ?site= is about: that site
    (404 unless it has a host and the scope reads it: another site's
    name is as unknown as a name nobody reported under), else the
    scope's (None: every site)."""
    site = args.get("site") or None
    if site is None:
        return scope.sites
    require_site(store, scope, site)
    return site

def require_site(store, scope, site):
    """UnknownHost (404) unless `site` has a host and the scope reads it,
    worded alike either way."""
    if not scope.allows(site):
        raise UnknownHost("unknown site %r" % site)
    analysis.require_site(store, site)

def host_of(store, scope, site, name):
    """The Host `name` of `site`; UnknownHost (404) unless the scope
    reads the site, worded as storage words a site that does not
    exist."""
    if not scope.allows(site):
        raise UnknownHost("unknown site %r" % site)  # (as hosts.get words it)
    return store.hosts.get(site, name)


def date_arg(args, name):
    if not args.get(name):
        return None
    try:
        return parse_date(args[name])
    except ValueError as exc:
        raise PageError(400, str(exc))

def number_arg(args, name, default):
    if not args.get(name):
        return default
    try:
        value = decimal_number(args[name])
    except ValueError:
        raise PageError(400, "%s=%r is not a number" % (name, args[name][:20]))
    if not value > 0:
        raise PageError(400, "%s must be a positive number of days" % name)
    return value

def stored_requirements(store, ref):
    """(Baseline, requirements) of a stored NAME[@REVISION]."""
    try:
        return analysis.stored_baseline(store, ref)
    except (ValueError, BaselineError) as exc:
        raise PageError(400, str(exc))


def sorted_rows(rows, sort, descending):
    """Rows (dicts) by column `sort`: a site in site_order, the CLI's;
    ties in site order, rows without a value last either way."""
    rows = sorted(rows, key=lambda r: site_order(r["site"]))
    key = (lambda r: site_order(r["site"])) if sort == "site" else (lambda r: r[sort])
    known = sorted([r for r in rows if r[sort] is not None], key=key, reverse=descending)
    return known + [r for r in rows if r[sort] is None]


def unknown_line(exc, scope):
    """What a page says of a name that names nothing: to the team, with
    the closest names there are (as the command line says it); to a site
    reader, the bare message: names filtered to its sites would still tell
    which of the others exist (one close to its own would go missing)."""
    if scope.team and isinstance(exc, UnknownName):
        return exc.line()
    return str(exc)

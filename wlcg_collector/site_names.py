"""Site names: when two names are the same site, and the order sites are
listed in, in Python and in SQL.

A site name is printable ASCII (report.SITE_RULE), and case does not
count: the site columns compare so (MariaDB's utf8mb4_general_ci, SQLite's
NOCASE), and so does every comparison made here. Sites are listed as their
upper case orders them, on both back ends and in Python alike.

Nothing is imported here, so that storage and the pure modules alike use
these rules."""


def site_key(name):
    """What makes two site names one site: their keys are equal (case
    ignored). Also the name quotas.py stores a site's usage under: a
    change here is a change of stored rows."""
    return name.lower()


def same_site(one, other):
    """Whether two site names name the same site."""
    return site_key(one) == site_key(other)


def site_order(name):
    """The key sites are listed by, everywhere: as MariaDB's collation of
    the site columns (utf8mb4_general_ci) orders printable ASCII, all a
    site name may hold, which is as its upper case does: 'T2A' before
    'T2_X' (SQLite's NOCASE: after), 'praguelcg2' before 'T2_X' (Python's
    own order: after)."""
    return name.upper()


def site_order_sql(column):
    """site_order in SQL, for an ORDER BY of a site column: the same text
    on both back ends, whatever the column's collation orders by. (UPPER()
    of printable ASCII is the same in SQLite, MariaDB and Python.)"""
    return "UPPER(%s)" % column


def site_keys(site):
    """The keys of the sites a question is about: None for every site;
    for one name, or a collection of names (a site reader's), their keys."""
    if site is None:
        return None
    if isinstance(site, str):
        return frozenset((site_key(site),))
    return frozenset(site_key(name) for name in site)


def named_sites(site):
    """The names a question about `site` reads one at a time: None for
    every site; one name; or a collection of names, each site once, in
    site order."""
    if site is None:
        return None
    if isinstance(site, str):
        return [site]
    names = {}
    for name in site:
        names.setdefault(site_key(name), name)
    return sorted(names.values(), key=site_order)

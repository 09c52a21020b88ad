"""Who may read some sites only, besides the team (every site), and what a
request may read, decided once: its Scope.

A site reader is named in a file (`[officer] site_readers`: `SITE
IDENTITY` a line, the identity a certificate DN in either form or a user
name), or by GOCDB: whoever the imported contacts of a site give one of
the roles `[officer] site_reader_roles` names reads that site, matched on
the contact's certificate DN. An identity on the team's allow list is the
team, whatever else names it.

A reader's sites are resolved when a request is served: a name that
`sites rename` or `sites merge` made an alias of another site reads that
site, without a restart."""

import re
from collections import namedtuple

from .access import is_dn, normalise_dn
from .report import SITE_RULE, is_site_name
from .site_names import named_sites, site_key, site_keys, site_order
from .text import has_invisible

# a line of the site_readers file: the site as written, the identity,
# the line's number
FileReader = namedtuple("FileReader", "site identity line")
# one reader as `wlcg-collector readers` lists it: the site read (ALL_SITES
# for the team), the identity, where it comes from (TEAM, FILE, GOCDB), the
# role (GOCDB), the file's line (FILE), and the name the file wrote when a
# rename or merge has made it another site's since
Reader = namedtuple("Reader", "site identity source role line written")
TEAM, FILE, GOCDB = "team", "file", "gocdb"
ALL_SITES = "*"
# a comment is a line whose first character that is not a space is '#', or
# follows an entry after two spaces or more: a DN's value may hold " #"
# ("CN=Robot #2"), which one space keeps in the DN
_COMMENT = re.compile(r"(^\s*|\s{2,})#.*$")
_ENTRY = re.compile(r"^(\S+)\s+(\S.*)$")


class ReadersError(ValueError):
    """A site_readers file or setting that cannot be used: the message
    names the line."""


def parse_site_readers(text, name):
    """[FileReader] of a site_readers file's text (name: how messages
    name the file); ReadersError naming the first line that is not `SITE
    IDENTITY`."""
    found = []
    # lines end at "\n" only (a "\r" before it dropped): splitlines() would
    # also end one at U+2028, \x1c, \f and the like, where an editor shows
    # one line, and hide a second entry in it; here they reach
    # has_invisible and are refused. A tab separates as a space does.
    for number, raw in enumerate(text.split("\n"), 1):
        raw = (raw[:-1] if raw.endswith("\r") else raw).replace("\t", " ")
        where = "%s line %d" % (name, number)
        if has_invisible(raw):  # (comments too: what an editor shows is what is read)
            raise ReadersError("%s: holds a control or invisible character" % where)
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        match = _ENTRY.match(line)
        if match is None:
            raise ReadersError("%s: %r is not SITE IDENTITY" % (where, line[:120]))
        site, identity = match.group(1), match.group(2).strip()
        if not is_site_name(site):
            raise ReadersError("%s: %r is not a site name (%s)" % (where, site[:120], SITE_RULE))
        if is_dn(identity):
            if not normalise_dn(identity):
                raise ReadersError("%s: %r cannot be read as a certificate DN"
                                   % (where, identity[:200]))
        elif re.search(r"\s", identity):
            raise ReadersError("%s: %r is neither a DN nor a user name (a user name holds no "
                               "space)" % (where, identity[:200]))
        found.append(FileReader(site, identity, number))
    return found


def parse_roles(text):
    """The GOCDB role names of `site_reader_roles` (comma or line
    separated); ReadersError for one that holds a control character."""
    roles = [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]
    for role in roles:
        if has_invisible(role):
            raise ReadersError("site_reader_roles: %r holds a control or invisible character"
                               % role[:120])
    return roles


class Scope(object):
    """What one request may read: every site (the team: sites None), or
    these sites (a site reader's names, each once, in site order)."""

    def __init__(self, sites=None):
        self.sites = None if sites is None else tuple(named_sites(sites))
        self._keys = site_keys(self.sites)

    @property
    def team(self):
        return self.sites is None

    def allows(self, site):
        """Whether the request may read site `site` (names compared as
        site_names does)."""
        return self._keys is None or site_key(site) in self._keys

    def __repr__(self):
        return "Scope(team)" if self.team else "Scope(%s)" % ", ".join(self.sites)


EVERY_SITE = Scope()
NO_SITE = Scope(())


class SiteReaders(object):
    """The configured readers: the file's lines (`path`: the file) and the
    GOCDB roles that read by role."""

    def __init__(self, entries=(), roles=(), path=None):
        self.entries = list(entries)
        self.roles = list(roles)
        self.path = path
        self._by_user, self._by_dn = {}, {}
        # (the newest contact import, {DN: [site]} of the contacts holding
        # one of the roles): read again only when an import has come
        self._by_role = (None, None)
        for entry in self.entries:
            if is_dn(entry.identity):
                self._by_dn.setdefault(normalise_dn(entry.identity), []).append(entry)
            else:
                self._by_user.setdefault(entry.identity, []).append(entry)

    def scope(self, store, dn, user):
        """The Scope of a request that is not the team's, from its verified
        certificate DN and its user name (each "" when none): the sites
        the file and the roles give it, resolved through the stored
        aliases; None when it may read nothing."""
        name = normalise_dn(dn) if dn else ()
        written = [entry.site for entry in self._by_dn.get(name, []) if name]
        written += [entry.site for entry in self._by_user.get(user, []) if user]
        if name and self.roles:
            written += self.role_sites(store).get(name, [])
        if not written:
            return None
        aliases = alias_map(store)
        return Scope([aliases.get(site_key(site), site) for site in written])

    def role_sites(self, store):
        """{normalised DN: [site]} of the contacts holding one of the
        roles, as the newest contact import left them: one small query a
        request, the contacts read and their DNs parsed only after an
        import."""
        latest = store.contacts.latest_import()
        kept, by_dn = self._by_role
        if by_dn is None or kept != latest:
            by_dn = {}
            for found in store.contacts.holding(self.roles):
                by_dn.setdefault(normalise_dn(found.certdn), []).append(found.site)
            by_dn.pop((), None)  # (a DN that cannot be read names nobody)
            self._by_role = (latest, by_dn)
        return by_dn

    def listed(self, store, allow, site=None):
        """[Reader]: the team (`allow`: [officer] allow) reading every site,
        then the readers of the file and of the roles by site; of those
        who may read `site` (resolved as a request's sites are), if
        given."""
        aliases = alias_map(store)
        wanted = None if site is None else site_key(aliases.get(site_key(site), site))
        rows = [Reader(ALL_SITES, identity, TEAM, None, None, None) for identity in allow]
        found = []
        for entry in self.entries:
            resolved = aliases.get(site_key(entry.site), entry.site)
            found.append(Reader(resolved, entry.identity, FILE, None, entry.line,
                                None if resolved == entry.site else entry.site))
        if self.roles:
            for contact in store.contacts.holding(self.roles):
                if normalise_dn(contact.certdn):
                    found.append(Reader(aliases.get(site_key(contact.site), contact.site),
                                        contact.certdn, GOCDB, contact.role, None, None))
        found = [row for row in found if wanted is None or site_key(row.site) == wanted]
        found.sort(key=lambda row: (site_order(row.site), row.source, row.identity))
        return rows + found

    def unknown_site(self, store):
        """The first line of the file whose site is none the collector
        knows (on the list of sites, a host's, or an alias a rename or
        merge left), as "FILE line N: ..."; None when every one is known."""
        if not self.entries:
            return None
        known = {site_key(row.name) for row in store.sites.rows()}
        known |= {site_key(row.site) for row in store.sites.reported()}
        known |= set(alias_map(store))
        for entry in self.entries:
            if site_key(entry.site) not in known:
                return ("%s line %d: unknown site %r (not on the list of sites, no host "
                        "reported under it)" % (self.path, entry.line, entry.site))
        return None


def alias_map(store):
    """{site_key of an old name: the site a rename or merge made of it}."""
    return {site_key(alias.alias): alias.site for alias in store.sites.aliases()}

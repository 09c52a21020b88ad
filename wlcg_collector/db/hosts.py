"""What the store knows of single hosts and sites: their facts, their
packages now or at any time, their intervals and their reports."""

from ..closest import closest_names
from .database import Part
from .errors import AmbiguousHost, UnknownHost
from .records import Host, Interval, Package, ReportRow


class HostReads(Part):
    """Reads of one host, or of the hosts of a site (tables: hosts,
    installs, reports); `sites` (site_store.SiteStore) says whether a
    site exists."""

    def __init__(self, db, sites):
        Part.__init__(self, db)
        self.sites = sites

    def listed(self, site=None, reported_before=None):
        """[Host] that have reported, in site and name order; of one site,
        and last heard of before a time, if given."""
        where, params = "", []
        if site is not None:
            where += " AND site = " + self.dialect.placeholder
            params.append(site)
        if reported_before is not None:
            where += " AND last_report < " + self.dialect.placeholder
            params.append(reported_before)
        return self.db.read(self.sql.SELECT_HOSTS.format(where=where), params, Host)

    def get(self, site, name):
        """The Host `name` of `site`; UnknownHost if there is none."""
        row = self.db.read_one(self.sql.SELECT_HOST, (site, name.lower()))
        if row is None:
            if not self.sites.exists(site):
                raise UnknownHost("unknown site %r" % site, self.sites.closest_to(site))
            raise UnknownHost("unknown host %r at site %r" % (name, site),
                              self.closest_to(name, site))
        return Host(*row)

    def find(self, name, site=None):
        """The Host of that name (at that site, if given); UnknownHost with a
        one-line reason if there is not exactly one."""
        if site is not None:
            return self.get(site, name)
        rows = self.db.read(self.sql.SELECT_HOSTS_NAMED, (name.lower(),))
        if not rows:
            raise UnknownHost("unknown host %r" % name, self.closest_to(name))
        if len(rows) > 1:
            raise AmbiguousHost(name, [Host(*r).site for r in rows])
        return Host(*rows[0])

    def named_like(self, text, sites, most):
        """[Host] whose name holds `text` (case ignored), of these sites
        (None: every site), in site and name order, the first `most`."""
        pattern = "%" + "".join("!" + c if c in "!%_" else c for c in text.lower()) + "%"
        where, params = self._of_sites("site", sites)
        return self.db.read(self.sql.SELECT_HOSTS_LIKE.format(where=where),
                            [pattern] + params + [most], Host)

    def holding(self, package, sites, first, most):
        """(how many, [(site, host, version, arch)]) of the package rows
        named `package` installed now on a host of these sites (None: every
        site): how many in all, and `most` of them from the `first`, in
        site, host, arch and version order."""
        where, params = self._of_sites("h.site", sites)
        count = self.db.read_one(self.sql.COUNT_HOLDING_NOW.format(where=where),
                                 [package] + params)[0]
        rows = self.db.read(self.sql.SELECT_HOLDING_NOW.format(where=where),
                            [package] + params + [most, first]) if count else []
        return int(count), [tuple(row) for row in rows]

    def _of_sites(self, column, sites):
        """(SQL condition, parameters) of rows of these sites (None: every site)."""
        if sites is None:
            return "", []
        sites = sorted(sites)
        if not sites:
            return " AND 1 = 0", []
        return " AND %s IN (%s)" % (column, self.db.marks(len(sites))), sites

    def closest_to(self, name, site=None):
        """The host names closest to one that names no host
        (closest.closest_names): of one site, or of the whole fleet."""
        where, params = "", ()
        if site is not None:
            where, params = " WHERE site = " + self.dialect.placeholder, (site,)
        statement = self.sql.SELECT_NAMES_OF_HOSTS.format(where=where)
        return closest_names(name.lower(), [row[0] for row in self.db.read(statement, params)])

    def state(self, host_id, at=None):
        """[Package] installed at time `at` (None: now), by name, arch, version."""
        if at is None:
            return self.db.read(self.sql.SELECT_STATE_NOW, (host_id,), Package)
        return self.db.read(self.sql.SELECT_STATE_AT, (host_id, at, at), Package)

    def intervals(self, host_id, since=None):
        """[Interval] of a host still open or closed at or after `since`."""
        return self.db.read(self.sql.SELECT_INTERVALS, (host_id, -1 if since is None else since),
                            Interval)

    def reports(self, host_id):
        """[ReportRow] of a host, oldest first."""
        return self.db.read(self.sql.SELECT_REPORTS, (host_id,), ReportRow)

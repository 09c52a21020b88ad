"""What the store knows of single hosts and sites: their facts, their
packages now or at any time, their intervals and their reports."""

from .errors import UnknownHost
from .records import Host, Interval, Package, ReportRow, Site

TABLES = ("hosts", "packages", "installs", "reports")


class HostReads(object):
    """Mixed into Store."""

    def sites(self):
        """[Site] in name order."""
        return self.read(self.sql.SELECT_SITES, (), Site)

    def site_overview(self, silent_before):
        """([(site, hosts, last report, hosts silent since silent_before)]
        of the sites with a host that has reported, {site: its sets token}
        of every site), in one read: a site's token changes whenever one of
        its hosts' sets does (a changed set, a new host, a rollback), or a
        host comes or goes."""
        rows, tokens = [], {}
        for site, hosts, last, silent, count, with_set, total in self.read(
                self.sql.SELECT_SITE_OVERVIEW, (silent_before,)):
            tokens[site] = (count, with_set, int(total) if total is not None else None)
            if hosts:
                rows.append((site, int(hosts), last, int(silent)))
        return rows, tokens

    def site_exists(self, site):
        return self.read_one(self.sql.SELECT_SITE_EXISTS, (site,)) is not None

    def hosts(self, site=None, reported_before=None):
        """[Host] that have reported, in site and name order; of one site,
        and last heard of before a time, if given."""
        where, params = "", []
        if site is not None:
            where += " AND site = " + self.dialect.placeholder
            params.append(site)
        if reported_before is not None:
            where += " AND last_report < " + self.dialect.placeholder
            params.append(reported_before)
        return self.read(self.sql.SELECT_HOSTS.format(where=where), params, Host)

    def host(self, site, name):
        """The Host `name` of `site`; UnknownHost if there is none."""
        row = self.read_one(self.sql.SELECT_HOST, (site, name.lower()))
        if row is None:
            if not self.site_exists(site):
                raise UnknownHost("unknown site %r" % site)
            raise UnknownHost("unknown host %r at site %r" % (name, site))
        return Host(*row)

    def find_host(self, name, site=None):
        """The Host of that name (at that site, if given); UnknownHost with a
        one-line reason if there is not exactly one."""
        if site is not None:
            return self.host(site, name)
        rows = self.read(self.sql.SELECT_HOSTS_NAMED, (name.lower(),))
        if not rows:
            raise UnknownHost("unknown host %r" % name)
        if len(rows) > 1:
            raise UnknownHost("host %r is known at several sites (%s): give --site"
                              % (name, ", ".join(Host(*r).site for r in rows)))
        return Host(*rows[0])

    def state(self, host_id, at=None):
        """[Package] installed at time `at` (None: now), by name, arch, version."""
        if at is None:
            return self.read(self.sql.SELECT_STATE_NOW, (host_id,), Package)
        return self.read(self.sql.SELECT_STATE_AT, (host_id, at, at), Package)

    def intervals(self, host_id, since=None):
        """[Interval] of a host still open or closed at or after `since`."""
        return self.read(self.sql.SELECT_INTERVALS, (host_id, -1 if since is None else since),
                         Interval)

    def reports(self, host_id):
        """[ReportRow] of a host, oldest first."""
        return self.read(self.sql.SELECT_REPORTS, (host_id,), ReportRow)

    def count_resend(self, digest):
        """Whether a report of this digest (the SHA-256 of its plaintext) is
        stored already; if so it is counted on its row as store_report
        counts a duplicate, and nothing else changes. (Ingest asks before
        openssl verifies a signed report again.)"""
        if self.read_one("SELECT 1 FROM reports WHERE digest = " + self.dialect.placeholder,
                         (digest,)) is None:
            return False
        self.transaction(lambda cursor: cursor.execute(self.sql.COUNT_DUPLICATE, (digest,)))
        return True

    def row_counts(self):
        """{table: rows} of the four tables that grow."""
        return {table: self.read(self.sql.COUNT_ROWS.format(table=table))[0][0]
                for table in TABLES}

    def orphan_intervals(self):
        """How many intervals name a host or package row that does not exist:
        always 0 (installs has no foreign keys to say so itself)."""
        return self.read(self.sql.COUNT_ORPHAN_INTERVALS)[0][0]

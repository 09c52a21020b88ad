"""The officer's reads over the whole fleet, shaped for analysis.py: who
held which package row at a time, a package's intervals over a span, the
intervals that changed since a time. They go by package row or by changed
host through covering indexes, and leave every judgement (versions,
baselines, what counts as an upgrade) to their callers."""

from collections import defaultdict

from .database import (CHUNK, PARTS_PER_CONNECTION, Part, chunks, holder_rows, maker,
                       numbers_to_bitmap)
from .records import HostAt, Interval, PackageInterval, PackageRow
from ..site_names import named_sites
from .fleet_statements import HostSite

# Hosts whose changes since T are read host by host, each host's whole
# history; over more, package row by package row (fleet-wide, 10,000 hosts
# on MariaDB: 0.7 s against 20 s host by host; see docs/benchmarks.md).
# Package row by package row reads every host's changes, so only when the
# hosts asked about are at least a share of the fleet's: a site of 250
# hosts in a fleet of 4,000 took 10 s so, against 1.7 s host by host.
HOSTS_READ_BY_HOST = 200
FLEET_SHARE_READ_BY_PACKAGE = 0.5


class FleetQueries(Part):
    """The officer's questions over the whole fleet (reads of hosts,
    packages and installs)."""

    def hosts_at(self, at, site=None):
        """[HostAt] of the hosts known at `at`, in site and name order."""
        return self.db.transaction(lambda cursor: self.dialect.hosts_at(cursor, at, site),
                                   write=False)

    def systems(self, site=None):
        """The systems the hosts report (of one site, or of a collection of
        sites, a reader's, if given), sorted."""
        if site is None:
            rows = self.db.read(self.sql.SELECT_SYSTEMS)
        else:
            rows = [row for name in named_sites(site)
                    for row in self.db.read(self.sql.SELECT_SITE_SYSTEMS, (name,))]
        return sorted({system for (system,) in rows})

    def silent_since(self, before, at=None):
        """{host id: its last report} of the hosts whose last report (at
        `at`, None: now; at a past time, its last applied report then) is
        older than `before`."""
        if at is None:
            return dict(self.db.read(self.sql.SELECT_SILENT_HOSTS, (before,)))
        return dict(self.db.read(self.sql.SELECT_SILENT_HOSTS_AT, (at, before)))

    def host_names(self, host_ids):
        """{host id: HostAt} of these hosts."""
        found = {}
        for chunk in chunks(sorted(host_ids)):
            statement = self.sql.SELECT_HOST_NAMES.format(marks=self.db.marks(len(chunk)))
            for row in self.db.read(statement, chunk):
                found[row[0]] = HostAt(*row)
        return found

    def _rows(self, cursor, statement, params):
        """The rows of a statement: in cursor's transaction if given, else
        in a read of its own."""
        if cursor is None:
            return self.db.read(statement, params)
        cursor.execute(statement, tuple(params))
        return cursor.fetchall()

    def packages_named(self, names, cursor=None):
        """{package id: PackageRow} of every package row called one of `names`."""
        found = {}
        for chunk in chunks(sorted(names)):
            for row in self._rows(cursor, self.sql.SELECT_PACKAGES_NAMED.format(
                    marks=self.db.marks(len(chunk))), chunk):
                found[row[0]] = PackageRow(*row)
        return found

    def packages_by_id(self, package_ids, cursor=None):
        """{package id: PackageRow} of these ids."""
        found = {}
        for chunk in chunks(sorted(set(package_ids))):
            for row in self._rows(cursor, self.sql.SELECT_PACKAGES_BY_ID.format(
                    marks=self.db.marks(len(chunk))), chunk):
                found[row[0]] = PackageRow(*row)
        return found

    def hosts_with_packages(self, package_ids, at):
        """{package id: [host ids as decimal strings]}: who had each package
        installed at `at`, read in one transaction. (Half a million ids are
        left as the strings the database gave: a caller that only compares
        them need not convert each one.)"""
        sql = self.sql

        def work(cursor):
            found = {}
            for package_id, ids in holder_rows(cursor, sql.SELECT_OPEN_HOLDERS,
                                               sql.SELECT_PAST_HOLDERS, package_ids, at,
                                               self.dialect.placeholder):
                if isinstance(ids, bytes):
                    ids = ids.decode("ascii")
                found.setdefault(package_id, []).extend(ids.split(","))
            return found
        return self.db.transaction(work, write=False)

    def holder_bitmaps(self, package_ids, at, host_ids=None):
        """{package id: bitmap}: who had each package installed at `at`,
        as bytes with bit i of byte i // 8 set for host id i (millions of
        holders are a few hundred kilobytes). Of these hosts only, if
        given: read host by host, for a few hosts."""
        if host_ids is None:
            return self.hosts_and_holders(package_ids, at, hosts=False)[1]
        found = defaultdict(list)
        for hosts in chunks(sorted(host_ids)):
            for packages in chunks(sorted(package_ids)):
                statement = self.sql.SELECT_HOST_HOLDINGS.format(
                    hosts=self.db.marks(len(hosts)), marks=self.db.marks(len(packages)))
                for package_id, host_id in self.db.read(statement, hosts + packages + [at, at]):
                    found[package_id].append(host_id)
        return {package_id: numbers_to_bitmap(ids) for package_id, ids in found.items()}

    def set_reports(self):
        """{host id: set_report or 0} of the hosts known now: a few
        hundred kilobytes at 100,000 hosts, read before anything they
        vouch for (compliance_cache)."""
        return self.db.transaction(self.dialect.set_reports, write=False)

    def first_reports(self):
        """{host id: time of its first report} of the hosts known: before
        it, nothing is known of what a host had."""
        return dict(self.db.read(self.sql.SELECT_FIRST_REPORTS))

    def hosts_and_holders(self, package_ids, at, hosts=True):
        """(hosts_at(at) or None, holder_bitmaps(package_ids, at)) of the
        whole fleet, read at once on several connections: the hosts on
        this one, and the package rows in parts on read_connections others
        (server threads scanning the index), PARTS_PER_CONNECTION parts
        each: each thread turns a part into bitmaps while the server reads
        another's. Rows go to the parts in turn, so that each part has
        rows of every kind."""
        ids = sorted(package_ids)
        count = max(1, min(len(ids), PARTS_PER_CONNECTION * self.db.read_connections))
        parts = [ids[i::count] for i in range(count)]

        def holders(part):
            return lambda: self.db.transaction(
                lambda cursor: self.dialect.holder_bitmaps(cursor, part, at), write=False)
        works = [holders(part) for part in parts]
        if hosts:
            works.insert(0, lambda: self.hosts_at(at))
        parts = self.db.concurrently(*works)
        found = {}
        for part in parts[1:] if hosts else parts:
            found.update(part)
        return (parts[0] if hosts else None), found

    def package_intervals(self, name, start, end, site=None):
        """[PackageInterval] of package `name` on any host (of `site`) at
        some time in [start, end]."""
        where, params = "", []
        if site is not None:
            where, params = " AND site = " + self.dialect.placeholder, [site]
        hosts = {host.id: (host.site, host.packager) for host in self.db.read(
            self.sql.SELECT_HOST_SITES.format(where=where), params, HostSite)}
        packages = self.packages_named([name])
        version_arch = {package_id: (row.version, row.arch)
                        for package_id, row in packages.items()}
        make = maker(PackageInterval)
        rows = []
        for chunk in chunks(sorted(packages)):
            marks = self.db.marks(len(chunk))
            for statement, extra in ((self.sql.SELECT_OPEN_PACKAGE_INTERVALS, [end]),
                                     (self.sql.SELECT_CLOSED_PACKAGE_INTERVALS, [start, end])):
                for host_id, package_id, installed, removed in self.db.read(
                        statement.format(marks=marks), chunk + extra):
                    site_packager = hosts.get(host_id)
                    if site_packager is not None:
                        rows.append(make((host_id,) + site_packager + version_arch[package_id]
                                         + (installed, removed)))
        return rows

    def changed_hosts(self, since, site=None, package=None):
        """The ids of the hosts whose package set changed at or after
        `since` (of `site`; in package `name`, if given)."""
        if package is None:
            where, params = "", [since]
            if site is not None:
                where = " AND h.site = " + self.dialect.placeholder
                params.append(site)
            return {row[0] for row in self.db.read(self.sql.SELECT_CHANGED_HOSTS.format(
                where=where), params)}
        found = set()
        for chunk in chunks(sorted(self.packages_named([package]))):
            marks = self.db.marks(len(chunk))
            if site is None:
                sql, params = self.sql.SELECT_HOSTS_CHANGING_PACKAGE, \
                    chunk + [since] + chunk + [since]
            else:
                sql, params = self.sql.SELECT_SITE_HOSTS_CHANGING_PACKAGE, \
                    chunk + [since, site] + chunk + [since, site]
            found.update(row[0] for row in self.db.read(sql.format(marks=marks), params))
        return found

    def changed_intervals(self, host_ids, since, package=None, kept=None):
        """{host id: [Interval]} of these hosts, the intervals opened or
        closed at or after `since` (of package `name` only, if given); and
        if kept is given (a function of that answer giving {(name, arch):
        host ids}), open_intervals_before(kept(answer)) added to it. All is
        read in one snapshot, the package rows of `package` too: a report
        stored meanwhile is seen whole or not at all."""
        def work(cursor):
            self.dialect.snapshot(cursor)
            found = defaultdict(list)
            rows = {}  # package id -> PackageRow, read as needed
            named = sorted(self.packages_named([package], cursor)) \
                if package is not None else None
            if named is not None and len(named) > CHUNK:
                named = None  # (a name with that many builds: filtered here instead)
            for changed in self._changed_rows(cursor, host_ids, since, named):
                rows.update(self.packages_by_id(
                    {package_id for _, package_id, _, _ in changed} - set(rows), cursor))
                for host_id, package_id, installed, removed in changed:
                    row = rows[package_id]
                    if package is None or row.name == package:
                        found[host_id].append(Interval(row.name, row.version, row.arch,
                                                       installed, removed))
            if kept is not None:
                for host_id, intervals in self.open_intervals_before(
                        kept(found), since, cursor).items():
                    found[host_id] += intervals
            return found
        return self.db.transaction(work, write=False)

    def _changed_rows(self, cursor, host_ids, since, named):
        """Lists of (host id, package id, installed, removed), the intervals
        of these hosts opened or closed at or after `since` (of the package
        rows `named` only, if not None), all read in one snapshot. A few
        hosts are read host by host, each its whole history (the primary
        key's range); more, if they are at least a share of the fleet's
        hosts (FLEET_SHARE_READ_BY_PACKAGE), package row by package row, only
        the intervals that changed (installs_package), those of other hosts
        left out here. (In the snapshot changed_intervals began.)"""
        found = []
        if named is None and len(host_ids) > HOSTS_READ_BY_HOST:
            cursor.execute(self.sql.COUNT_ALL_HOSTS)
            by_package = len(host_ids) >= FLEET_SHARE_READ_BY_PACKAGE * cursor.fetchone()[0]
        else:
            by_package = False
        if by_package:
            wanted = set(host_ids)
            cursor.execute(self.sql.SELECT_ALL_PACKAGE_IDS)
            for chunk in chunks(sorted(row[0] for row in cursor.fetchall())):
                cursor.execute(self.sql.SELECT_CHANGED_INSTALLS_BY_PACKAGE.format(
                    marks=self.db.marks(len(chunk))), tuple(chunk + [since] + chunk + [since]))
                found.append([row for row in cursor.fetchall() if row[0] in wanted])
            return found
        for chunk in chunks(sorted(host_ids)):
            marks = self.db.marks(len(chunk))
            if named is None:
                cursor.execute(self.sql.SELECT_CHANGED_INSTALLS.format(marks=marks),
                               tuple(chunk + [since] + chunk + [since]))
            else:  # that package's rows only: a fifth of the rows, or less
                cursor.execute(self.sql.SELECT_CHANGED_INSTALLS_OF.format(
                    marks=marks, packages=self.db.marks(len(named))),
                    tuple(chunk + named + [since] + chunk + named + [since]))
            found.append(cursor.fetchall())
        return found

    def open_intervals_before(self, wanted, since, cursor=None):
        """{host id: [Interval]} still open that began before `since`, of
        the (name, arch) pairs and hosts in `wanted` ({(name, arch): host
        ids})."""
        found = defaultdict(list)
        if not wanted:
            return found
        packages = self.packages_named({name for name, _ in wanted}, cursor)
        ids = sorted(p for p, row in packages.items() if (row.name, row.arch) in wanted)
        for chunk in chunks(ids):
            # one string of "host installed" pairs a package row: every
            # holder of the row is listed, few are wanted
            for package_id, pairs in self._rows(
                    cursor, self.sql.SELECT_OPEN_INSTALLS_BEFORE.format(
                        marks=self.db.marks(len(chunk))), chunk + [since]):
                row = packages[package_id]
                hosts = {str(h) for h in wanted[(row.name, row.arch)]}
                if isinstance(pairs, bytes):
                    pairs = pairs.decode("ascii")
                for pair in pairs.split(","):
                    host_id, installed = pair.split(" ")
                    if host_id in hosts:
                        found[int(host_id)].append(Interval(row.name, row.version, row.arch,
                                                            int(installed), None))
        return found

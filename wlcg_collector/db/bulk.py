"""Bulk loads: a whole fleet's history written at once, as ingesting its
reports would have left it (benchmarks and tests build large fleets this
way; ingest itself never does). The rows must be consistent: they are not
checked one by one."""

import hashlib
import json

from ..statuses import APPLIED
from .database import Part, chunks
from .open_sets import rebuild_all
from .packages import package_key

BATCH = 200000


class BulkLoader(Part):
    """Whole histories written at once (store.testing: never by ingest)."""

    def bulk_load(self, packager, packages, hosts, intervals, reports=(), progress=None):
        """Write package rows, hosts, their intervals and report rows into an
        initialised store that has none of these hosts.

        packages: [(name, version, arch)] of `packager`; hosts: [BulkHost]; intervals:
        (host index, package index, installed, removed) tuples (removed
        None while installed), indexes into those two lists, any number,
        read in batches; reports: (host index, collected, packages) tuples
        of the reports that changed a set (their digests are made up).
        progress(n) is called after each batch with the intervals written
        so far. Each host's open set (open_sets.py) is made from its
        intervals at the end. Returns (host ids, package ids) in the lists'
        order."""
        package_ids = self._bulk_packages(packager, packages)
        host_ids = self._bulk_hosts(hosts)
        sql, dialect = self.sql, self.dialect

        def write(batch, report_batch):
            def work(cursor):
                dialect.bulk_installs(cursor, batch)
                if report_batch:
                    cursor.executemany(sql.INSERT_REPORT, report_batch)
            self.db.transaction(work)

        conn = self.db.connection()
        cursor = conn.cursor()
        state = dialect.bulk_begin(cursor)
        try:
            batch, report_rows, written = [], [], 0
            for host, package, installed, removed in intervals:
                batch.append((host_ids[host], package_ids[package], installed, removed))
                if len(batch) >= BATCH:
                    write(batch, [])
                    written += len(batch)
                    batch = []
                    if progress:
                        progress(written)
            for host, collected, count in reports:
                name = hosts[host].site + "/" + hosts[host].name
                digest = hashlib.sha256(("bulk/%s/%d" % (name, collected)).encode()).digest()
                report_rows.append((host_ids[host], digest, collected, collected, "bulk", count,
                                    1, 1, None, APPLIED))
            write(batch, report_rows)
            if progress:
                progress(written + len(batch))
        finally:
            dialect.bulk_end(cursor, state)
            cursor.close()
        if host_ids:  # each host's open set, from the intervals written
            rebuild_all(self.db, min(host_ids), max(host_ids))
        return host_ids, package_ids

    def _bulk_packages(self, packager, packages):
        sql = self.sql

        def work(cursor):
            for part in chunks(packages, 50000):
                cursor.executemany(sql.INSERT_BULK_PACKAGE, [
                    (packager, name, version, arch, package_key(packager, name, version, arch))
                    for name, version, arch in part])
            cursor.execute(sql.SELECT_PACKAGE_KEYS, (packager,))
            return {bytes(key): package_id for key, package_id in cursor.fetchall()}
        ids = self.db.transaction(work)
        return [ids[package_key(packager, *p)] for p in packages]

    def _bulk_hosts(self, hosts):
        sql = self.sql

        def work(cursor):
            cursor.executemany(sql.INSERT_BULK_HOST, [
                (h.site, h.name, h.packager, h.system, h.kernel, h.arch,
                 json.dumps(h.facts, sort_keys=True), h.packages, h.first_report,
                 h.last_report, h.last_report) for h in hosts])
            cursor.execute(sql.SELECT_HOST_IDS)
            return {(site, name): host_id for site, name, host_id in cursor.fetchall()}
        ids = self.db.transaction(work)
        return [ids[(h.site, h.name)] for h in hosts]

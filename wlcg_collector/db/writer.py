"""Storing one report: the only writer of hosts, installs and reports.

The store grows with changes, not with reports: an unchanged package set
costs one report row and one host update; a changed one closes and opens
only the intervals that differ. Each report is one transaction; the
writers of one host serialise on its row (see the dialects' LOCK_HOST),
never through a process-wide lock, so any number of collector processes
may ingest at once."""

import json

from .database import chunks, split_ids
from .packages import PACKAGE_CACHE_LIMIT, PackageIds, find_or_create_ids
from .records import IngestResult


class _Duplicate(Exception):
    """The report's digest is stored already."""


class ReportWriter(object):
    """Mixed into Store: store_report."""

    def _init_writer(self, package_cache=PACKAGE_CACHE_LIMIT):
        self.package_ids = PackageIds(package_cache)

    def store_report(self, report, received, sender, clock_skew=300):
        """Store one validated report (see report.Report) in one
        transaction; an IngestResult says what it did."""
        collected = report.ts
        if collected is None or collected > received + clock_skew:
            collected = received
        facts = json.dumps(report.headers, sort_keys=True)
        learned = {}

        def work(cursor):
            learned.clear()  # from an attempt rolled back
            return self._store(cursor, report, received, collected, sender, facts, learned)
        try:
            result = self.transaction(work)
        except _Duplicate:
            # the same report, committed by another process meanwhile
            return IngestResult("duplicate")
        if learned:
            self.package_ids.add(report.packager, learned)
        return result

    def _store(self, cursor, report, received, collected, sender, facts, learned):
        # A report already stored is caught by the unique digest when its row
        # is inserted (rolling back whatever was done): one query less for
        # every report that is not a retry.
        sql = self.sql
        cursor.execute(sql.LOCK_HOST, (report.site, report.host))
        row = cursor.fetchone()
        if row is None:
            cursor.execute(sql.INSERT_HOST,
                           (report.site, report.host, report.packager, collected, received))
            cursor.execute(sql.LOCK_HOST, (report.site, report.host))
            row = cursor.fetchone()
        host_id, set_hash, last_report, first_report = row
        if set_hash is not None:
            set_hash = bytes(set_hash)

        def add_report(changed, applied):
            try:
                cursor.execute(sql.INSERT_REPORT, (
                    host_id, report.digest, received, collected, sender[:64],
                    len(report.packages), int(changed), int(applied)))
            except self.dialect.integrity_errors:
                raise _Duplicate()

        if collected < last_report:
            # older than what we know: on the record, but never rewrites
            add_report(False, False)
            cursor.execute(sql.UPDATE_HOST_FIRST_REPORT, (collected, host_id, collected))
            return IngestResult("older")
        if set_hash == report.set_hash:
            add_report(False, True)
            self._update_host(cursor, host_id, report, facts, collected, received)
            return IngestResult("unchanged")
        changes = self._apply_changes(cursor, host_id, report, collected,
                                      set_hash is not None, last_report, learned)
        add_report(True, True)
        self._update_host(cursor, host_id, report, facts, collected, received)
        return IngestResult("changed", changes)

    def _update_host(self, cursor, host_id, report, facts, collected, received):
        headers = report.headers
        cursor.execute(self.sql.UPDATE_HOST_STATE, (
            report.packager, headers.get("system"), headers.get("kernel"), headers.get("arch"),
            facts, report.set_hash, len(report.packages), collected, received, host_id))

    def _apply_changes(self, cursor, host_id, report, collected, has_set, last_report, learned):
        """Close the intervals of the packages gone, open those of the new
        ones; the sets compare as package ids."""
        wanted = set(find_or_create_ids(self.dialect, cursor,
                                        self.package_ids.table(report.packager),
                                        report.packager, report.packages, learned))
        current = set()
        if has_set:  # a host's first applied report finds nothing open
            cursor.execute(self.sql.SELECT_OPEN_PACKAGE_IDS, (host_id,))
            current = split_ids(cursor.fetchone()[0])
        gone = sorted(current - wanted)
        new = sorted(wanted - current)  # in key order: the rows go in one after another
        for chunk in chunks(gone):
            marks = self.marks(len(chunk))
            if collected <= last_report:
                # opened by a report of this same time: an interval that would
                # end where it began never existed
                cursor.execute(self.sql.DELETE_OPENED_SINCE.format(marks=marks),
                               [host_id, collected] + chunk)
            cursor.execute(self.sql.CLOSE_INSTALLS.format(marks=marks),
                           [collected, host_id] + chunk)
        if new:
            self.dialect.insert_installs(cursor, host_id, new, collected)
        return len(gone) + len(new)

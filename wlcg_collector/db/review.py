"""What the officer does to repair the data: review the quarantine (accept
or drop a report kept aside), see who is pinned to which key, and roll a
host back to what it was at a date."""

import json
import time

from .. import trust
from ..limits import MAX_OFFICER
from ..package_lines import package_set_hash
from ..report import facts_hash
from ..statuses import ROLLED_BACK
from .database import Part
from .errors import RepairRefused, UnknownHost, UnknownQuarantined
from .writer import ACCEPT_SITE
from .records import PendingReport, Quarantined, Rollback, SiteKey
from .open_sets import rebuild as rebuild_open_sets
from .statements import HostState


class Review(Part):
    """The officer's repairs (tables: quarantine, site_keys, and the pins
    and history of hosts): `writer` (writer.ReportWriter) applies an
    accepted report, `hosts` (hosts.HostReads) lists hosts with their
    keys."""

    def __init__(self, db, writer, hosts):
        Part.__init__(self, db)
        self.writer = writer
        self.hosts = hosts

    # -- the quarantine

    def quarantined(self, site=None):
        """[Quarantined] oldest first (their report text left out)."""
        where, params = "", []
        if site is not None:
            where, params = " WHERE site = " + self.dialect.placeholder, [site]
        return [Quarantined(*(row + (None,))) for row in self.db.read(
            self.sql.SELECT_QUARANTINED.format(where=where), params)]

    def quarantined_one(self, entry_id):
        """The Quarantined entry `entry_id`, with its report text."""
        row = self.db.read_one(self.sql.SELECT_QUARANTINED_ONE, (entry_id,))
        if row is None:
            raise UnknownQuarantined("no quarantined report %s" % entry_id)
        entry = Quarantined._make(row)
        return entry._replace(report=bytes(entry.report))

    def drop(self, entry_id):
        def work(cursor):
            cursor.execute(self.sql.DELETE_QUARANTINED, (entry_id,))
            if cursor.rowcount != 1:
                raise UnknownQuarantined("no quarantined report %s" % entry_id)
        self.db.transaction(work)

    def accept(self, entry, report, received, who, rules=None):
        """Apply a quarantined report (`report` its parsed text) as the
        officer `who` decided: a signed one pins its key to the host (and a
        site key to the site), an unsigned one leaves the host unsigned;
        the entry leaves the quarantine in the same transaction. An entry
        held only because its site was unknown accepts the site, not the
        key: its key is judged by `rules` (the collector's) as any other
        report's, and may be held again, as a key change."""
        signer = None
        if entry.fingerprint is not None:
            signer = trust.Signer(entry.signer_kind, bytes(entry.fingerprint),
                                  entry.signer_subject)
        accept = ACCEPT_SITE if entry.kind == trust.UNKNOWN_SITE else True
        rules = rules or trust.Rules()
        collected = report.ts if report.ts is not None else entry.received
        # (judged as ingest would: from the address it came from)
        sender = entry.sender if accept == ACCEPT_SITE else who

        def take_out(cursor):
            cursor.execute(self.sql.DELETE_QUARANTINED, (entry.id,))
            if cursor.rowcount != 1:
                raise UnknownQuarantined("no quarantined report %s" % entry.id)
        return self.writer.store_accepted(PendingReport(report, received, sender, signer=signer,
                                                        rules=rules),
                                          min(collected, received), accept, take_out)

    # -- keys

    def keys(self, site=None):
        """[Host] with their trust, in site and name order."""
        return self.hosts.listed(site)

    def site_keys(self, site=None):
        """[SiteKey] pinned per site."""
        where, params = "", []
        if site is not None:
            where, params = " WHERE site = " + self.dialect.placeholder, [site]
        return self.db.read(self.sql.SELECT_SITE_KEYS.format(where=where), params, SiteKey)

    def signers_of(self, host):
        """[trust.Signer] of the keys that signed a Host's reports, applied
        (their kind as the host's pin says, when it is that key) or held in
        the quarantine."""
        sql = self.sql

        def work(cursor):
            found = {}
            cursor.execute(sql.SELECT_QUARANTINED_SIGNERS, (host.site, host.name))
            for fingerprint, kind, subject in cursor.fetchall():
                found[bytes(fingerprint)] = trust.Signer(kind, bytes(fingerprint), subject)
            cursor.execute(sql.SELECT_REPORT_SIGNERS, (host.id,))
            for (fingerprint,) in cursor.fetchall():
                fingerprint = bytes(fingerprint)
                if fingerprint not in found:
                    pinned = host.key_fingerprint is not None and \
                        bytes(host.key_fingerprint) == fingerprint
                    kind = trust.KIND_OF_TRUST.get(host.trust) if pinned else trust.HOST_KEY
                    found[fingerprint] = trust.Signer(kind, fingerprint,
                                                      host.key_subject if pinned else None)
            return list(found.values())
        return self.db.transaction(work, write=False)

    def set_pin(self, host, signer, now, who):
        """Pin a Host to signer (a trust.Signer), or make it unsigned
        (signer None): its reports are then judged against that, as they
        are after its first signed report. Returns the host's pin before,
        as (trust, fingerprint)."""
        sql = self.sql
        level, fingerprint, subject = (trust.UNSIGNED, None, None) if signer is None else (
            trust.trust_of(signer), signer.fingerprint, signer.subject)

        def work(cursor):
            state = self._lock_host(cursor, host)
            cursor.execute(sql.UPDATE_HOST_PIN, (level, fingerprint, subject, now,
                                                 who[:MAX_OFFICER], state.id))
            return state.trust, state.key_fingerprint
        return self.db.transaction(work)

    def _lock_host(self, cursor, host):
        """The HostState of a Host (as the officer named it), its row locked
        by id: no report of it is stored meanwhile, whatever a rename did
        to its site's name since it was looked up. UnknownHost when a
        merge or a set-aside has taken its row away."""
        cursor.execute(self.sql.LOCK_HOST_BY_ID, (host.id,))
        state = HostState.of(cursor.fetchone())
        if state is None:
            raise UnknownHost("no host %s at site %s" % (host.name, host.site))
        return state

    # -- rollback

    def rollback(self, host, to, dry_run=False):
        """Make a Host's state, facts and history what they were at time
        `to`: the intervals opened after it go, those closed after it are
        open again, the facts are those of then, and the reports applied
        after it stay in the audit trail, marked rolled back. The host's
        pin is not touched (the Rollback says what it is: keys pin and
        keys unpin change it). A time before the host's first report is
        refused: the host would vanish from every listing while its rows
        and pin stay. dry_run: only count. Returns a Rollback."""
        sql = self.sql
        _check_rollback_time(host, host.first_report, to)  # (before any lock is waited for)

        def work(cursor):
            state = self._lock_host(cursor, host)
            _check_rollback_time(host, state.first_report, to)  # (a merge may have moved it)
            counts = []
            for count, params in ((sql.COUNT_OPENED_AFTER, (host.id, to)),
                                  (sql.COUNT_CLOSED_AFTER, (host.id, to, to)),
                                  (sql.COUNT_REPORTS_AFTER, (host.id, to)),
                                  (sql.COUNT_FACTS_AFTER, (host.id, to))):
                cursor.execute(count, params)
                counts.append(cursor.fetchone()[0])
            if dry_run:
                return Rollback(*counts)
            cursor.execute(sql.DELETE_OPENED_AFTER, (host.id, to))
            cursor.execute(sql.REOPEN_CLOSED_AFTER, (host.id, to, to))
            cursor.execute(sql.MARK_REPORTS_ROLLED_BACK, (ROLLED_BACK, host.id, to))
            packager = host.packager
            if counts[3]:
                cursor.execute(sql.SELECT_FACTS_AT, (host.id, to))
                then = cursor.fetchone()
                if then is not None:  # (none: facts older than schema 9 are not known)
                    packager = then[0]  # (the set's hash is made with the packager of then)
                    cursor.execute(sql.UPDATE_HOST_FACTS, tuple(then) + (
                        facts_hash(json.loads(then[4])), host.id))
                    cursor.execute(sql.DELETE_FACTS_AFTER, (host.id, to))
            cursor.execute(sql.SELECT_STATE_NOW, (host.id,))
            packages = sorted(tuple(row) for row in cursor.fetchall())
            cursor.execute(sql.SELECT_LAST_APPLIED, (host.id,))
            last = cursor.fetchone()[0]
            cursor.execute(sql.UPDATE_HOST_AFTER_ROLLBACK, (
                package_set_hash(packager, packages) if packages else None, host.id,
                len(packages), last if last is not None else -1, host.id))
            rebuild_open_sets(sql, cursor, [host.id])  # (with the set_hash just written)
            return Rollback(*counts)
        return self.db.transaction(work)


def _check_rollback_time(host, first_report, to):
    """RepairRefused when `to` is before the host's first report: the host
    would vanish from every listing while its rows and pin stay."""
    if to < first_report:
        raise RepairRefused(
            "%s at %s first reported at %s: roll back to that time or later (a host rolled "
            "back to before its first report would vanish from every listing)" % (
                host.name, host.site, time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                    time.gmtime(first_report))))

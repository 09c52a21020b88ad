"""Storing one report: the only writer of hosts, installs and reports.

The store grows with changes, not with reports: an unchanged package set
costs one report row and one host update; a changed one closes and opens
only the intervals that differ. Each report is one transaction; the
writers of one host serialise on its row (see the dialects' LOCK_HOST),
never through a process-wide lock, so any number of collector processes
may ingest at once."""

from .. import trust
from ..limits import MAX_SENDER
from ..statuses import (APPLIED, CHANGED, DUPLICATE, OLDER, QUARANTINED, REPLAYED,
                        UNCHANGED)
from .database import Part
from ..report import ReportError, facts_hash
from .errors import DuplicateRow, QuotaExceeded, ReadAgain
from .memory import release_memory
from .packages import PACKAGE_CACHE_LIMIT, PackageIds, PackageSources, find_or_create_ids
from .quotas import DEFAULT_LIMITS, Limits, proves_sender, usage_read
from .records import Held, HostFound, IngestResult, PendingReport
from .resends import Resends
from .set_writer import HostSetWriter
from .statements import HostAndSet, HostState

# a report this large gives its connection's memory back afterwards
LARGE_REPORT = 5000
# the unique key of the reports' digests (a report stored already)
REPORT_DIGEST_KEY = "reports_digest"
# a report with this many package rows to find or make does that first, in
# a transaction of its own (see resolve_first)
RESOLVE_FIRST = 100


DEFAULT_RULES = trust.Rules()
# store_report's accept: the officer accepts a report's site, not its key
ACCEPT_SITE = "site"
__all__ = ["ReportWriter", "Limits", "DEFAULT_LIMITS", "DEFAULT_RULES"]


class _ResolveFirst(Exception):
    """The report's changed set has many package rows to find or make:
    they are made first, in a transaction of their own (_resolve_first),
    for the site its name led to (`site`)."""

    def __init__(self, site):
        Exception.__init__(self, site)
        self.site = site


class _Attempt(object):
    """One report stored inside a transaction: what it is (a
    PendingReport), what the officer decided of it (accept), and what the
    transaction found or made of package rows (learned: ids by package;
    created: the rows it made). resolve_first: it may stop to make many
    package rows first (see _ResolveFirst). resolved: where the site names
    of a batch's reports led in its transaction ({name sent:
    SiteResolution}), or None (asked each time)."""

    def __init__(self, pending, limits, accept=False, learned=None, created=None,
                 resolve_first=False, collected=None, resolved=None):
        self.pending = pending
        self.report = pending.report
        self.collected = pending.collected if collected is None else collected
        self.signer = pending.signer
        self.rules = pending.rules or DEFAULT_RULES
        self.limits = limits
        self.accept = accept
        self.learned = {} if learned is None else learned
        self.created = set() if created is None else created
        self.resolve_first = resolve_first
        self.resolved = resolved


class ReportWriter(Part):
    """Storing reports (tables: hosts, host_facts, installs, reports,
    packages, quarantine, site_keys): `sites` (site_store.SiteStore)
    resolves a report's site, `quotas` (quotas.Quotas) bounds what it may
    write. package_cache: how many package ids it keeps in memory."""

    def __init__(self, db, sites, quotas, package_cache=PACKAGE_CACHE_LIMIT):
        Part.__init__(self, db)
        self.sites = sites
        self.quotas = quotas
        self.package_ids = PackageIds(package_cache)
        self.package_sources = PackageSources(package_cache)
        self.sets = HostSetWriter(db, self.package_ids, self.package_sources)
        self.resends = Resends(db)
        # the dialect's LOCK_HOST_AND_SET that also reads the day's counts a
        # changed report is checked against (MySQL), None where there is none
        self.lock_with_usage = getattr(self.sql, "LOCK_HOST_SET_AND_USAGE", None)

    def store_report(self, report, received, sender, clock_skew=300, signer=None,
                     rules=DEFAULT_RULES, limits=DEFAULT_LIMITS, accept=False, tally=None):
        """Store one validated report (see report.Report) in one
        transaction; an IngestResult says what it did. signer: the
        trust.Signer of a signed report (None: unsigned). accept: the
        officer accepts it (from the quarantine; ACCEPT_SITE: accepts its
        site, and its key is judged by the rules): applied, and the host
        pinned to its signer, whatever the host's pin. tally: called
        (cursor, outcome) as the last statement of the transaction that
        stores or counts the report (/metrics' count: metrics_store.Tally)."""
        pending = PendingReport(report, received, sender, clock_skew, signer, rules)
        if not report.parsed and self.dialect.lock_is_global:
            # A block other than the host's latest is read now, before the
            # transaction: a bad one never holds the database's lock. (With
            # row locks, it is read inside, holding its host's row only: a
            # round trip less.) The host's latest block, byte for byte, is
            # not read at all.
            stored = self.db.read_one(self.sql.PEEK_BLOCK, (report.site, report.host))
            if stored is None or stored[0] is None or bytes(stored[0]) != report.block_hash:
                self._read_packages(report, {})
        attempt = _Attempt(pending, limits, accept, resolve_first=not accept)

        def work(cursor):
            attempt.learned.clear()  # from an attempt rolled back
            attempt.created.clear()
            result = self._store(cursor, attempt)
            if tally is not None:
                tally(cursor, result.outcome)
            return result
        try:
            try:
                result = self.db.transaction(work)
            except _ResolveFirst as first:
                self._resolve_first(attempt, first.site)
                attempt.resolve_first = False
                result = self.db.transaction(work)
        except DuplicateRow:
            # the same report again (a retry, or committed by another process
            # meanwhile): counted on its row, nothing else
            self.resends.count_stored(report.digest, tally)
            return IngestResult(DUPLICATE)
        except QuotaExceeded as exc:  # rolled back: the refusal is all that is kept
            if exc.event is not None:
                self.quotas.record_event(exc.event, received)
            raise
        self._after_commit(report, result, attempt.learned, attempt.created)
        if report.parsed and len(report.lines) >= LARGE_REPORT:  # (unread: nothing built)
            release_memory(self.dialect, self.db.connection())
        return result

    def store_accepted(self, pending, collected, accept, before):
        """Apply a report the officer accepted (a PendingReport, collected
        at `collected`; accept: True, or ACCEPT_SITE for its site only) in
        one transaction with before(cursor), which takes it out of the
        quarantine; its IngestResult."""
        attempt = _Attempt(pending, DEFAULT_LIMITS, accept, collected=collected)

        def work(cursor):
            attempt.learned.clear()  # from an attempt rolled back
            attempt.created.clear()
            before(cursor)
            return self._store(cursor, attempt)
        result = self.db.transaction(work)
        self._after_commit(pending.report, result, attempt.learned, attempt.created)
        return result

    def _after_commit(self, report, result, learned, created):
        """What a stored report leaves for later, once its transaction has
        committed: the package ids it found or made (learned), the sources
        of the rows it made (created) and of the rows it found without one."""
        if learned:
            self.package_ids.add(report.packager, learned)
        if result.parsed and report.sources and result.outcome in (CHANGED, UNCHANGED):
            self.package_sources.settle(report.packager, created)  # made with their sources
            self.sets.record_sources(report)

    def store_reports(self, batch, limits=DEFAULT_LIMITS):
        """Store several reports (PendingReports) in one transaction (the
        bulk path: one commit for many). Returns, in order, each one's
        IngestResult or the ReportError or QuotaExceeded that refused it.
        The reports stored already (a body sent again: pakiti-client's
        unchanged report is the same text every day) are found first, in
        one statement, and counted as store_report counts a duplicate; where
        a site name leads is asked once a name.
        When any of the others fails (or is a duplicate of one stored
        meanwhile, or of another in the batch), the batch is rolled back
        and each is stored in a transaction of its own: a failed report
        fails alone."""
        learned, created = {}, {}  # per packager: package ids are

        def work(cursor):
            learned.clear()
            created.clear()
            resolved = {}
            resent = self.resends.count_batch(cursor, [p.report.digest for p in batch])
            return [IngestResult(DUPLICATE) if pending.report.digest in resent
                    else self._store(cursor, _Attempt(
                        pending, limits, learned=learned.setdefault(pending.report.packager, {}),
                        created=created.setdefault(pending.report.packager, set()),
                        resolved=resolved))
                    for pending in batch]
        try:
            results = self.db.transaction(work)
        except (DuplicateRow, ReportError, QuotaExceeded):
            results = []
            for pending in batch:
                try:
                    results.append(self.store_report(*pending, limits=limits))
                except (ReportError, QuotaExceeded) as exc:
                    results.append(exc)
            return results
        for pending, result in zip(batch, results):
            if result.outcome == DUPLICATE:
                continue
            packager = pending.report.packager
            self._after_commit(pending.report, result, learned.pop(packager, None),
                               created[packager])
        if any(p.report.parsed and len(p.report.lines) >= LARGE_REPORT for p in batch):
            release_memory(self.dialect, self.db.connection())
        return results

    def _resolve_first(self, attempt, site):
        """Find or make a report's many new package rows in a transaction of
        their own, before the host's: the write lock (SQLite) or the host's
        row lock is then held for its intervals only, and a large forged
        report delays genuine ones less. Only for a report the rules would
        apply now (a quarantined or refused one makes no rows). Package rows
        are shared and never change: one made for a report that ends up
        otherwise (its host's pin changed meanwhile) is no harm."""
        report = attempt.report
        known = self.package_ids.table(report.packager)
        missing = [line for line in report.lines if line not in known]
        if len(missing) < RESOLVE_FIRST:
            return

        def would_apply(cursor):
            found = self._find_host(cursor, self.sql.PEEK_HOST, site, attempt)
            if self._decide(attempt, found).action != trust.APPLY:
                return False
            try:  # (rows it would make and then refuse would stay)
                self.quotas.check_room(cursor, found.row, self._proven(attempt, found),
                                       attempt.pending, site, attempt.limits, len(missing))
            except QuotaExceeded:
                return False
            return True
        if not self.db.transaction(would_apply, write=False):
            return
        learned, created = {}, set()

        def work(cursor):
            learned.clear()
            created.clear()
            find_or_create_ids(self.dialect, cursor, {}, report.packager, missing, learned,
                               report.sources, created)
        self.db.transaction(work)
        self.package_ids.add(report.packager, learned)
        if report.sources:
            self.package_sources.settle(report.packager, created)

    # -- one report, inside its transaction: where it goes, what the rules
    # decide, the host it is for, what it changes

    def _store(self, cursor, attempt):
        """Store one report inside the transaction `cursor` is in, under
        the site its name leads to. (A report already stored is caught by
        the unique digest when its row is inserted, rolling back whatever
        was done: one query less for every report that is not a retry.)"""
        sent, resolved = attempt.report.site, attempt.resolved
        site = None if resolved is None or attempt.accept else resolved.get(sent)
        if site is None:
            site = self.sites.resolve_site(cursor, sent, attempt.pending.received, attempt.accept)
            if resolved is not None and not attempt.accept:
                resolved[sent] = site  # (a batch of one site's reports asks once)
        found = self._find_host(cursor, self.sql.LOCK_HOST_AND_SET, site.site, attempt)
        decision = self._decide(attempt, found, site.unknown)
        if decision.action == trust.QUARANTINE:
            result = self._quarantine(cursor, attempt, site.site, decision)
        else:
            host = found.row or self._new_host(cursor, attempt, site.site, found)
            result = self._apply(cursor, attempt, site.site, found, host, decision)
        result.site = site
        return result

    def _find_host(self, cursor, statement, site, attempt):
        """The HostFound of the report's host at `site`, read with
        `statement` (PEEK_HOST, or LOCK_HOST_AND_SET under the host's lock,
        with its open set unless the report's block is its stored one)."""
        has_set, open_ids, usage = False, None, None
        if statement is self.sql.LOCK_HOST_AND_SET and self.lock_with_usage is not None:
            cursor.execute(self.lock_with_usage, (attempt.report.block_hash,) + usage_read(
                site, attempt.pending.sender) + (site, attempt.report.host))
            fetched = cursor.fetchone()
            row, has_set, open_ids = HostAndSet.of(None if fetched is None else fetched[:-1])
            usage = None if fetched is None else fetched[-1] or ""
        elif statement is self.sql.LOCK_HOST_AND_SET:
            cursor.execute(statement, (attempt.report.block_hash, site, attempt.report.host))
            row, has_set, open_ids = HostAndSet.of(cursor.fetchone())
        else:
            cursor.execute(statement, (site, attempt.report.host))
            row = HostState.of(cursor.fetchone())
        site_pin, site_has_hosts = None, False
        if attempt.signer is not None and attempt.signer.kind == trust.SITE_KEY:
            cursor.execute(self.sql.SELECT_SITE_KEY, (site,))
            found = cursor.fetchone()
            site_pin = bytes(found[0]) if found else None
            if site_pin is None:
                cursor.execute(self.sql.SELECT_ONE_HOST_OF_SITE, (site,))
                site_has_hosts = cursor.fetchone() is not None
        pin = None if row is None else trust.HostPin(row.trust, row.key_fingerprint,
                                                      row.signed_ts, row.last_received)
        return HostFound(row, pin, site_pin, site_has_hosts, has_set, open_ids, usage)

    @staticmethod
    def _decide(attempt, found, unknown_site=False):
        """The trust.Decision for the report: the officer's (accepted: the
        host is pinned to what signed it), or the rules' (accepted for its
        site only: its key is judged as any other's)."""
        if attempt.accept is True:
            return trust.accepted(attempt.signer)
        return trust.decide(found.pin, found.site_pin, attempt.signer, attempt.collected,
                            attempt.pending.received, attempt.rules,
                            unknown_site and not attempt.accept, found.site_has_hosts)

    @staticmethod
    def _proven(attempt, found):
        return proves_sender(found.pin, found.site_pin, attempt.signer)

    def _new_host(self, cursor, attempt, site, found):
        """Make the row of a host the store has not seen, within the day's
        new-host quotas; its HostState (locked)."""
        sql, pending = self.sql, attempt.pending
        if not attempt.accept:  # the officer's own decision is no flood
            self.quotas.check_new_host(cursor, pending, site, attempt.limits,
                                       self._proven(attempt, found))
        report, received = attempt.report, pending.received
        values = (site, report.host, report.packager, attempt.collected, received, received,
                  pending.sender[:MAX_SENDER])
        # a rename or merge of the site that committed after resolve_site
        # read its alias, or is committing now, moves the host away: a new
        # host here would be a stale copy under the old name, so the report
        # is stored again, under the new name. Read after the insert, not
        # before: a move committing between the two would otherwise go
        # unseen, and an alias written but not committed is waited for
        # (LOCK_SITE_ALIAS); a move that has not written it yet moves this
        # host with the others (its UPDATE waits for this transaction)
        together = getattr(cursor, "execute_together", None)
        if self.dialect.returning and together is not None:
            # (the row as LOCK_HOST reads it, locked by the insert, and the
            # alias read after it, in one block: a round trip less)
            together([(sql.INSERT_HOST_RETURNING, values), (sql.LOCK_SITE_ALIAS, (site,))])
            row = cursor.fetchone()
            cursor.nextset()
        else:
            if self.dialect.returning:
                cursor.execute(sql.INSERT_HOST_RETURNING, values)
            else:
                cursor.execute(sql.INSERT_HOST, values)
                cursor.execute(sql.LOCK_HOST, (site, report.host))
            row = cursor.fetchone()
            cursor.execute(sql.LOCK_SITE_ALIAS, (site,))
        if cursor.fetchone() is not None:
            raise ReadAgain("site %s was renamed while a report of it was stored" % site)
        return HostState.of(row)

    def _add_report(self, cursor, attempt, host, changed, outcome, unread=False):
        """The report's row on the audit trail (unread: its block is the
        host's stored one, of host.package_count packages), a write that
        may be sent later (Database.defer: the host's row names the report
        by its digest). DuplicateRow: the report's digest is stored
        already (where the write was deferred, from a later statement, or
        the transaction's end)."""
        pending, report = attempt.pending, attempt.report
        self.db.defer(cursor, self.sql.INSERT_REPORT, (
            host.id, report.digest, pending.received, attempt.collected,
            pending.sender[:MAX_SENDER],
            host.package_count if unread else len(report.lines), int(changed),
            int(outcome == APPLIED), None if attempt.signer is None
            else attempt.signer.fingerprint, outcome), unique_key=REPORT_DIGEST_KEY)

    def _apply(self, cursor, attempt, site, found, host, decision):
        """Apply a report the rules let through to its host's row (host: a
        HostState): pins first, then the set, unless the report is a
        replay or older than what the host has."""
        sql, pending = self.sql, attempt.pending
        if decision.action == trust.REPLAY:
            self._add_report(cursor, attempt, host, False, REPLAYED)
            return IngestResult(REPLAYED)
        if decision.pin_site is not None:
            self._pin_site(cursor, site, decision.pin_site, pending.received, pending.sender)
        pin = found.pin
        if decision.pin is not None and (pin is None or (pin.trust, pin.fingerprint)
                                         != (decision.pin.trust, decision.pin.fingerprint)):
            cursor.execute(sql.UPDATE_HOST_PIN, tuple(decision.pin) + (
                pending.received, pending.sender[:MAX_SENDER], host.id))
        # the host's latest signed ts: with its state when that is written
        # (one statement less), else on its own
        collected = attempt.collected
        signed_ts = collected if attempt.signer is not None and (
            pin is None or collected > pin.signed_ts) else None
        if collected < host.last_report:
            # older than what we know: on the record, but never rewrites (not
            # even first_report: a forged old ts would date the host back)
            if signed_ts is not None:
                cursor.execute(sql.UPDATE_HOST_SIGNED_TS, (signed_ts, host.id))
            self._add_report(cursor, attempt, host, False, OLDER)
            return IngestResult(OLDER, note=decision.note)
        # the block the host sent last, byte for byte: the same set, validated
        # when it was stored (its packages need not be parsed again)
        if host.block_hash is not None and host.block_hash == attempt.report.block_hash:
            self._add_report(cursor, attempt, host, False, APPLIED, unread=True)
            self._update_host(cursor, host, attempt,
                              stored_set=(host.set_hash, host.package_count),
                              signed_ts=signed_ts)
            return IngestResult(UNCHANGED, note=decision.note, parsed=False)
        self._read_packages(attempt.report, attempt.learned)
        if host.set_hash == attempt.report.set_hash:
            self._add_report(cursor, attempt, host, False, APPLIED)
            self._update_host(cursor, host, attempt, signed_ts=signed_ts)
            return IngestResult(UNCHANGED, note=decision.note)
        changes, open_set = self._change_set(cursor, attempt, site, found, host)
        self._add_report(cursor, attempt, host, True, APPLIED)
        self._update_host(cursor, host, attempt, set_report=True, signed_ts=signed_ts,
                          open_set=open_set)
        return IngestResult(CHANGED, changes, note=decision.note)

    def _read_packages(self, report, learned):
        """Read a report's package lines (once): those of the package rows
        this process knows, and those found or made earlier in this
        transaction (learned: a batch's reports before this one), are
        valid lines of reports it read, and are not checked again (a
        changed report's lines are mostly its host's lines of before; a
        new `ingest`'s first batch knows no package row until it
        commits)."""
        report.read_packages((self.package_ids.table(report.packager), learned))

    def _change_set(self, cursor, attempt, site, found, host):
        """The report's set replaces the host's, within the day's bounds of
        changes (but for a host's first set, the new-host quotas', and the
        officer's own decision); (the intervals closed and opened, the
        host's open set when it is to be written with the host's row)."""
        bounded = not attempt.accept and host.set_hash is not None
        if bounded:
            proven = self._proven(attempt, found)
            self.quotas.check_changes(cursor, host.id, attempt.pending, site, attempt.limits,
                                      proven, read=found.usage)
        report = attempt.report
        if attempt.resolve_first:
            known = self.package_ids.table(report.packager)
            if list(map(known.__contains__, report.lines)).count(False) >= RESOLVE_FIRST:
                raise _ResolveFirst(site)
        changes, opened, open_set = self.sets.replace(
            cursor, host, found, report, attempt.collected, attempt.learned, attempt.created)
        if bounded:
            self.quotas.count_changes(cursor, host.id, attempt.pending, site, attempt.limits,
                                      proven, opened)
        return changes, open_set

    def _pin_site(self, cursor, site, fingerprint, received, sender):
        sender = sender[:MAX_SENDER]
        cursor.execute(self.sql.INSERT_SITE_KEY, (site, fingerprint, received, sender))
        cursor.execute(self.sql.UPDATE_SITE_KEY, (fingerprint, received, sender, site))

    def _quarantine(self, cursor, attempt, site, decision):
        """Keep the report aside for the officer, within the quarantine's
        bounds (quotas.py: it replaces the entry of the same host and
        signer; QuotaExceeded rather than evict another). Only a valid
        report is kept: its package lines are read now (ReportError:
        nothing stored)."""
        report, pending, signer = attempt.report, attempt.pending, attempt.signer
        report.read_packages()  # a bad line is this report's error, not the officer's
        self.db.execute_unique(cursor, self.sql.INSERT_QUARANTINE, (  # DuplicateRow: kept already
            report.digest, pending.received, pending.sender[:MAX_SENDER], site, report.host,
            decision.kind, decision.reason, None if signer is None else signer.fingerprint,
            None if signer is None else signer.kind,
            None if signer is None else signer.subject, report.plaintext,
            len(report.plaintext)))
        self.quotas.bound_quarantine(cursor, pending, site, attempt.limits)
        return IngestResult(QUARANTINED, held=Held(
            decision.kind, decision.reason, None if signer is None else signer.fingerprint))

    def _update_host(self, cursor, host, attempt, stored_set=None, set_report=False,
                     signed_ts=None, open_set=None):
        """The host's facts and set from the report (host: its HostState;
        stored_set: the stored set hash and package count, when the report's
        block is the stored one; set_report: the report, whose row is
        written, changed the set (the host's row names it, found by its
        digest); signed_ts: the report's ts when it is the host's
        newest signed one; open_set: the host's open set, to write in its
        row of host_sets, which is there). Facts that differ from the
        host's last ones (ts aside) get a row of host_facts: a rollback
        takes them back."""
        report, collected = attempt.report, attempt.collected
        headers = report.headers
        set_hash, count = stored_set if stored_set is not None else (report.set_hash,
                                                                     len(report.lines))
        system, kernel, arch = headers.get("system"), headers.get("kernel"), headers.get("arch")
        new_facts = facts_hash(headers)
        if new_facts != host.facts_hash:
            self.db.defer(cursor, self.sql.INSERT_HOST_FACTS, (
                host.id, collected, report.packager, system, kernel, arch, report.facts))
        values = (report.packager, system, kernel, arch, report.facts, set_hash,
                  report.block_hash, count, report.digest if set_report else None, signed_ts,
                  collected, attempt.pending.received, new_facts)
        if open_set is None:
            self.db.defer(cursor, self.sql.UPDATE_HOST_STATE, values + (host.id,))
        else:
            self.db.defer(cursor, self.sql.UPDATE_HOST_STATE_AND_SET, values + (open_set, host.id))

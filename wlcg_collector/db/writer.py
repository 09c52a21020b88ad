"""Storing one report: the only writer of hosts, installs and reports.

The store grows with changes, not with reports: an unchanged package set
costs one report row and one host update; a changed one closes and opens
only the intervals that differ. Each report is one transaction; the
writers of one host serialise on its row (see the dialects' LOCK_HOST),
never through a process-wide lock, so any number of collector processes
may ingest at once."""

import hashlib
from collections import ChainMap

from .. import trust
from ..limits import MAX_SENDER
from ..statuses import (APPLIED, CHANGED, DUPLICATE, OLDER, QUARANTINED, REPLAYED,
                        UNCHANGED)
from .database import Part, chunks, split_ids
from ..report import ReportError, facts_json
from .errors import DuplicateRow, QuotaExceeded, ReadAgain, StoreError
from .memory import release_memory
from .packages import (PACKAGE_CACHE_LIMIT, PackageIds, PackageSources, find_or_create_ids,
                       package_key, record_sources)
from .quotas import DEFAULT_LIMITS, Limits, proves_sender
from .records import IngestResult
from .statements import HostState

# a report this large gives its connection's memory back afterwards
LARGE_REPORT = 5000
# a report with this many package rows to find or make does that first, in
# a transaction of its own (see resolve_first)
RESOLVE_FIRST = 100


def facts_hash(headers):
    """What tells a host's facts apart from its last ones: every header but
    ts (which changes with each report)."""
    return hashlib.sha256(facts_json(
        {k: v for k, v in headers.items() if k != "ts"}).encode("utf-8")).digest()


DEFAULT_RULES = trust.Rules()
# store_report's accept: the officer accepts a report's site, not its key
ACCEPT_SITE = "site"
__all__ = ["ReportWriter", "Limits", "DEFAULT_LIMITS", "DEFAULT_RULES"]


class _ResolveFirst(Exception):
    """The report's changed set has many package rows to find or make:
    they are made first, in a transaction of their own (_resolve_first)."""


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

    def count_resend(self, digest):
        """Whether a report of this digest (the SHA-256 of its plaintext) is
        stored already; if so it is counted on its row as store_report
        counts a duplicate, and nothing else changes. (Ingest asks before
        openssl verifies a signed report again.)"""
        if self.db.read_one("SELECT 1 FROM reports WHERE digest = " + self.dialect.placeholder,
                            (digest,)) is None:
            return False
        self.db.transaction(lambda cursor: cursor.execute(self.sql.COUNT_DUPLICATE, (digest,)))
        return True


    def store_report(self, report, received, sender, clock_skew=300, signer=None,
                     rules=DEFAULT_RULES, limits=DEFAULT_LIMITS, accept=False):
        """Store one validated report (see report.Report) in one
        transaction; an IngestResult says what it did. signer: the
        trust.Signer of a signed report (None: unsigned). accept: the
        officer accepts it (from the quarantine; ACCEPT_SITE: accepts its
        site, and its key is judged by the rules): applied, and the host
        pinned to its signer, whatever the host's pin."""
        collected = report.ts
        if collected is None or collected > received + clock_skew:
            collected = received
        facts = report.facts
        if not report.parsed and self.dialect.lock_is_global:
            # A block other than the host's latest is read now, before the
            # transaction: a bad one never holds the database's lock. (With
            # row locks, it is read inside, holding its host's row only: a
            # round trip less.) The host's latest block, byte for byte, is
            # not read at all.
            stored = self.db.read_one(self.sql.PEEK_BLOCK, (report.site, report.host))
            if stored is None or stored[0] is None or bytes(stored[0]) != report.block_hash:
                report.read_packages()
        learned, created = {}, set()
        resolve = [not accept]  # may stop to make many package rows first

        def work(cursor):
            learned.clear()  # from an attempt rolled back
            created.clear()
            return self._store(cursor, report, received, collected, sender, facts, learned,
                               created, signer, rules, limits, accept, resolve[0])
        try:
            try:
                result = self.db.transaction(work)
            except _ResolveFirst:
                self._resolve_first(report, collected, received, sender, signer, rules,
                                    limits)
                resolve[0] = False
                result = self.db.transaction(work)
        except DuplicateRow:
            # the same report again (a retry, or committed by another process
            # meanwhile): counted on its row, nothing else
            self.db.transaction(lambda cursor: cursor.execute(self.sql.COUNT_DUPLICATE,
                                                              (report.digest,)))
            return IngestResult(DUPLICATE)
        except QuotaExceeded as exc:  # rolled back: the refusal is all that is kept
            if exc.event is not None:
                self.quotas.record_event(exc.event, received)
            raise
        self._after_commit(report, result, learned, created)
        if report.parsed and len(report.packages) >= LARGE_REPORT:  # (unread: nothing built)
            release_memory(self.dialect, self.db.connection())
        return result

    def store_accepted(self, report, received, collected, sender, signer, rules, accept,
                       before):
        """Apply a report the officer accepted (accept: True, or ACCEPT_SITE
        for its site only) in one transaction with before(cursor), which
        takes it out of the quarantine; its IngestResult."""
        learned, created = {}, set()

        def work(cursor):
            learned.clear()  # from an attempt rolled back
            created.clear()
            before(cursor)
            return self._store(cursor, report, received, collected, sender, report.facts,
                               learned, created, signer, rules, DEFAULT_LIMITS, accept)
        result = self.db.transaction(work)
        self._after_commit(report, result, learned, created)
        return result

    def _after_commit(self, report, result, learned, created):
        """What a stored report leaves for later, once its transaction has
        committed: the package ids it found or made (learned), the sources
        of the rows it made (created) and of the rows it found without one."""
        if learned:
            self.package_ids.add(report.packager, learned)
        if result.parsed and report.sources and result.outcome in (CHANGED, UNCHANGED):
            self.package_sources.settle(report.packager, created)  # made with their sources
            self._record_sources(report)

    def store_reports(self, items, limits=DEFAULT_LIMITS):
        """Store several reports in one transaction (the bulk path: one
        commit for many): items are (report, received, sender, clock_skew,
        signer, rules). Returns, in order, each one's IngestResult or the
        ReportError or QuotaExceeded that refused it. When any of them
        fails (or is a duplicate), the batch is rolled back and each is
        stored in a transaction of its own: a failed report fails alone."""
        learned, created = {}, {}  # per packager: package ids are

        def work(cursor):
            learned.clear()
            created.clear()
            results = []
            for report, received, sender, clock_skew, signer, rules in items:
                collected = report.ts
                if collected is None or collected > received + clock_skew:
                    collected = received
                results.append(self._store(
                    cursor, report, received, collected, sender, report.facts,
                    learned.setdefault(report.packager, {}),
                    created.setdefault(report.packager, set()), signer, rules, limits, False,
                    False))
            return results
        try:
            results = self.db.transaction(work)
        except (DuplicateRow, ReportError, QuotaExceeded):
            results = []
            for report, received, sender, clock_skew, signer, rules in items:
                try:
                    results.append(self.store_report(report, received, sender, clock_skew,
                                                     signer, rules, limits))
                except (ReportError, QuotaExceeded) as exc:
                    results.append(exc)
            return results
        for (report, _, _, _, _, _), result in zip(items, results):
            self._after_commit(report, result, learned.pop(report.packager, None),
                               created[report.packager])
        if any(r.parsed and len(r.packages) >= LARGE_REPORT for r, _, _, _, _, _ in items):
            release_memory(self.dialect, self.db.connection())
        return results

    def _record_sources(self, report):
        """The source package names an applied report gives, for the
        package rows that have none yet; after the report's own
        transaction, in one of their own (the report is stored whatever
        happens here: a row left without its source gets it from a later
        report)."""
        settled = self.package_sources.settled(report.packager)
        if settled.issuperset(report.packages):
            return  # the common case, at C speed
        known = self.package_ids.table(report.packager)
        claims, unknown, claimed = {}, {}, []
        for package in report.packages:
            source = report.sources.get(package[0])
            if source is None or package in settled:
                continue
            claimed.append(package)
            if package in known:
                claims[known[package]] = source
            else:
                unknown[package_key(report.packager, *package)] = (package, source)
        if not claimed:
            return
        learned = {}

        def work(cursor):
            learned.clear()
            found = dict(claims)
            for key, package_id in self.dialect.select_package_ids(cursor, unknown).items():
                package, found[package_id] = unknown[key]
                learned[package] = package_id
            record_sources(self.sql, cursor, self.db.marks, found)
        try:
            self.db.transaction(work)
        except StoreError:
            return
        self.package_ids.add(report.packager, learned)
        self.package_sources.settle(report.packager, claimed)

    def _resolve_first(self, report, collected, received, sender, signer, rules, limits):
        """Find or make a report's many new package rows in a transaction of
        their own, before the host's: the write lock (SQLite) or the host's
        row lock is then held for its intervals only, and a large forged
        report delays genuine ones less. Only for a report the rules would
        apply now (a quarantined or refused one makes no rows). Package rows
        are shared and never change: one made for a report that ends up
        otherwise (its host's pin changed meanwhile) is no harm."""
        known = self.package_ids.table(report.packager)
        missing = [p for p in report.packages if p not in known]
        if len(missing) < RESOLVE_FIRST:
            return

        def would_apply(cursor):
            row, pin, site_pin, site_has_hosts = self._read_host(cursor, self.sql.PEEK_HOST,
                                                                 report, signer)
            if trust.decide(pin, site_pin, signer, collected, received, rules,
                            site_has_hosts=site_has_hosts).action != trust.APPLY:
                return False
            try:  # (rows it would make and then refuse would stay)
                self.quotas.check_room(cursor, row, proves_sender(pin, site_pin, signer),
                                       report, sender, received, limits, len(missing))
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

    def _store(self, cursor, report, received, collected, sender, facts, learned, created,
               signer, rules, limits, accept, resolve=False):
        """Store one report inside the transaction `cursor` is in, under
        the site its name resolves to; the result carries the line its
        reporter is told about that name (notice), if any."""
        unknown, notice = self.sites.resolve_site(cursor, report, received, accept)
        result = self._store_host(cursor, report, received, collected, sender, facts, learned,
                                  created, signer, rules, limits, accept, resolve, unknown,
                                  notice)
        result.notice = notice
        return result

    def _store_host(self, cursor, report, received, collected, sender, facts, learned, created,
                    signer, rules, limits, accept, resolve, unknown, notice):
        # A report already stored is caught by the unique digest when its row
        # is inserted (rolling back whatever was done): one query less for
        # every report that is not a retry.
        sql = self.sql
        row, pin, site_pin, site_has_hosts = self._read_host(cursor, sql.LOCK_HOST, report,
                                                             signer)
        if accept is True:
            # the officer's choice is what the host is pinned to from now on:
            # an accepted unsigned report leaves the host unsigned, not
            # pinned to a key that may be a stranger's
            decision = trust.Decision(trust.APPLY, None, None, (trust.UNSIGNED, None, None)
                                      if signer is None else (trust.trust_of(signer),
                                                              signer.fingerprint,
                                                              signer.subject), None, None)
            if signer is not None and signer.kind == trust.SITE_KEY:
                decision = decision._replace(pin_site=signer.fingerprint)
        else:
            # (accepted for its site only: its key is judged as any other's)
            decision = trust.decide(pin, site_pin, signer, collected, received, rules,
                                    unknown and not accept, site_has_hosts)
        if decision.action == trust.QUARANTINE:
            return self._quarantine(cursor, report, received, sender, signer, decision, limits,
                                    notice)
        if row is None:
            # a rename or merge of the site that committed after resolve_site
            # read its alias (in this transaction's snapshot) has moved the
            # host away: a new host here would be a stale copy under the old
            # name, so the report is stored again, under the new name
            cursor.execute(sql.LOCK_SITE_ALIAS, (report.site,))
            if cursor.fetchone() is not None:
                raise ReadAgain("site %s was renamed while a report of it was stored"
                                % report.site)
            if not accept:  # the officer's own decision is no flood
                self.quotas.check_new_host(cursor, report, sender, received, limits,
                                           proves_sender(pin, site_pin, signer))
            cursor.execute(sql.INSERT_HOST, (report.site, report.host, report.packager,
                                             collected, received, received, sender[:MAX_SENDER]))
            cursor.execute(sql.LOCK_HOST, (report.site, report.host))
            row = HostState.of(cursor.fetchone())
        host_id, set_hash, last_report = row.id, row.set_hash, row.last_report
        package_count, stored_facts = row.package_count, row.facts_hash
        # the block the host sent last, byte for byte: the same set, validated
        # when it was stored (its packages need not be parsed again)
        same_block = row.block_hash is not None and row.block_hash == report.block_hash
        fingerprint = signer.fingerprint if signer is not None else None

        def add_report(changed, outcome):
            # DuplicateRow: the report's digest is stored already
            self.db.execute_unique(cursor, sql.INSERT_REPORT, (
                host_id, report.digest, received, collected, sender[:MAX_SENDER],
                package_count if same_block else len(report.packages), int(changed),
                int(outcome == APPLIED), fingerprint, outcome))
            return cursor.lastrowid

        if decision.action == trust.REPLAY:
            add_report(False, REPLAYED)
            return IngestResult(REPLAYED)
        if decision.pin_site is not None:
            self._pin_site(cursor, report.site, decision.pin_site, received, sender)
        if decision.pin is not None and (pin is None or (pin.trust, pin.fingerprint)
                                         != tuple(decision.pin[:2])):
            trust_level, key, subject = decision.pin
            cursor.execute(sql.UPDATE_HOST_PIN, (trust_level, key, subject, received,
                                                 sender[:MAX_SENDER], host_id))
        # the host's latest signed ts: with its state when that is written
        # (one statement less), else on its own
        signed_ts = collected if signer is not None and (
            pin is None or collected > pin.signed_ts) else None
        if collected < last_report:
            # older than what we know: on the record, but never rewrites (not
            # even first_report: a forged old ts would date the host back)
            if signed_ts is not None:
                cursor.execute(sql.UPDATE_HOST_SIGNED_TS, (signed_ts, host_id))
            add_report(False, OLDER)
            return IngestResult(OLDER, note=decision.note)
        if same_block:
            add_report(False, APPLIED)
            self._update_host(cursor, host_id, report, facts, collected, received,
                              stored_facts, (set_hash, package_count), signed_ts=signed_ts)
            return IngestResult(UNCHANGED, note=decision.note, parsed=False)
        if set_hash == report.set_hash:
            add_report(False, APPLIED)
            self._update_host(cursor, host_id, report, facts, collected, received,
                              stored_facts, signed_ts=signed_ts)
            return IngestResult(UNCHANGED, note=decision.note)
        # a day's changes are bounded, but for a host's first set (the
        # new-host quotas') and the officer's own decision
        bounded = not accept and set_hash is not None
        if bounded:
            proven = proves_sender(pin, site_pin, signer)
            self.quotas.check_changes(cursor, host_id, report, sender, received, limits,
                                      proven)
        if resolve:
            known = self.package_ids.table(report.packager)
            if sum(1 for p in report.packages if p not in known) >= RESOLVE_FIRST:
                raise _ResolveFirst()
        changes, opened = self._apply_changes(cursor, host_id, report, collected,
                                              set_hash is not None, last_report, learned,
                                              created)
        if bounded:
            self.quotas.count_changes(cursor, host_id, report, sender, received, limits,
                                      proven, opened)
        report_id = add_report(True, APPLIED)
        self._update_host(cursor, host_id, report, facts, collected, received,
                          stored_facts, set_report=report_id, signed_ts=signed_ts)
        return IngestResult(CHANGED, changes, note=decision.note)

    def _read_host(self, cursor, statement, report, signer):
        """(the host's row or None, its trust.HostPin or None, the pinned
        key of its site when a site key signed, whether the site has hosts
        when that key is the site's first), read with `statement`
        (PEEK_HOST, or LOCK_HOST under the host's lock)."""
        cursor.execute(statement, (report.site, report.host))
        row = HostState.of(cursor.fetchone())
        site_pin, site_has_hosts = None, False
        if signer is not None and signer.kind == trust.SITE_KEY:
            cursor.execute(self.sql.SELECT_SITE_KEY, (report.site,))
            found = cursor.fetchone()
            site_pin = bytes(found[0]) if found else None
            if site_pin is None:
                cursor.execute(self.sql.SELECT_ONE_HOST_OF_SITE, (report.site,))
                site_has_hosts = cursor.fetchone() is not None
        pin = None if row is None else trust.HostPin(row.trust, row.key_fingerprint,
                                                      row.signed_ts, row.last_received)
        return row, pin, site_pin, site_has_hosts

    def _pin_site(self, cursor, site, fingerprint, received, sender):
        cursor.execute(self.sql.INSERT_SITE_KEY, (site, fingerprint, received, sender[:MAX_SENDER]))
        cursor.execute(self.sql.UPDATE_SITE_KEY, (fingerprint, received, sender[:MAX_SENDER], site))

    def _quarantine(self, cursor, report, received, sender, signer, decision, limits,
                    notice=None):
        """Keep the report aside for the officer, within the quarantine's
        bounds (quotas.py: it replaces the entry of the same host and
        signer; QuotaExceeded rather than evict another). Only a valid
        report is kept: its package lines are read now (ReportError:
        nothing stored)."""
        sql = self.sql
        report.read_packages()  # a bad line is this report's error, not the officer's
        self.db.execute_unique(cursor, sql.INSERT_QUARANTINE, (  # DuplicateRow: kept already
            report.digest, received, sender[:MAX_SENDER], report.site, report.host, decision.kind,
            decision.reason, None if signer is None else signer.fingerprint,
            None if signer is None else signer.kind,
            None if signer is None else signer.subject, report.plaintext,
            len(report.plaintext)))
        self.quotas.bound_quarantine(cursor, report, sender, signer, received, limits)
        if decision.kind == trust.UNKNOWN_SITE:
            message = "quarantined: %s; the officer must review it" % notice
        elif decision.kind == trust.UNSIGNED_REPORT:
            message = ("quarantined: %s; the officer must accept it (the collector keeps it "
                       "aside)" % decision.reason)
        else:
            message = ("quarantined: %s (SHA256 %s): the officer must accept the new key "
                       "(wlcg-collector quarantine accept)"
                       % (decision.reason, trust.short_fingerprint(signer.fingerprint)))
        return IngestResult(QUARANTINED, message=message)

    def _update_host(self, cursor, host_id, report, facts, collected, received, stored_facts,
                     kept=None, set_report=None, signed_ts=None):
        """The host's facts and set from the report (stored_facts: the
        host's facts_hash; kept: the stored set hash and package count,
        when the report's block is the stored one; set_report: the id of
        the report that changed the set; signed_ts: the report's ts when it
        is the host's newest signed one). Facts that differ from the
        host's last ones (ts aside) get a row of host_facts: a rollback
        takes them back."""
        headers = report.headers
        set_hash, count = kept if kept is not None else (report.set_hash, len(report.packages))
        system, kernel, arch = headers.get("system"), headers.get("kernel"), headers.get("arch")
        new_facts = facts_hash(headers)
        if new_facts != stored_facts:
            cursor.execute(self.sql.INSERT_HOST_FACTS, (
                host_id, collected, report.packager, system, kernel, arch, facts))
        cursor.execute(self.sql.UPDATE_HOST_STATE, (
            report.packager, system, kernel, arch, facts, set_hash, report.block_hash, count,
            set_report, signed_ts, collected, received, new_facts, host_id))

    def _apply_changes(self, cursor, host_id, report, collected, has_set, last_report, learned,
                       created):
        """Close the intervals of the packages gone, open those of the new
        ones; the sets compare as package ids. The ids found or made earlier
        in this transaction (learned: by the reports before this one in a
        batch) are known too. Returns (intervals closed and opened, opened)."""
        known = self.package_ids.table(report.packager)
        if learned:
            known = ChainMap(learned, known)
        wanted = set(find_or_create_ids(self.dialect, cursor, known, report.packager,
                                        report.packages, learned, report.sources, created))
        current = set()
        if has_set:  # a host's first applied report finds nothing open
            cursor.execute(self.sql.SELECT_OPEN_PACKAGE_IDS, (host_id,))
            current = split_ids(cursor.fetchone()[0])
        gone = sorted(current - wanted)
        new = sorted(wanted - current)  # in key order: the rows go in one after another
        for chunk in chunks(gone):
            marks = self.db.marks(len(chunk))
            if collected <= last_report:
                # opened by a report of this same time: an interval that would
                # end where it began never existed
                cursor.execute(self.sql.DELETE_OPENED_SINCE.format(marks=marks),
                               [host_id, collected] + chunk)
            cursor.execute(self.sql.CLOSE_INSTALLS.format(marks=marks),
                           [collected, host_id] + chunk)
        if new:
            self.dialect.insert_installs(cursor, host_id, new, collected)
        return len(gone) + len(new), len(new)

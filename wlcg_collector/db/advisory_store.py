"""Stored security advisories: importing them (idempotent, with the
revisions an update replaced), and the reads exposure needs. Which hosts
are exposed is never decided here (see advisories/exposure.py)."""

import hashlib
import json
from collections import namedtuple

from ..advisories.records import AdvisoryError, check_advisory
from ..limits import MAX_IDENT
from .database import Part, chunks, maker
from .errors import StoreError
from .advisory_statements import AdvisoryState

# advisories(): one stored advisory (times in Unix seconds; revision counts
# the versions stored, 1 for one never updated)
AdvisoryInfo = namedtuple("AdvisoryInfo", "id ident format severity title published modified "
                                          "first_seen changed revision")
# advisory_revisions(): a replaced revision: the vendor's modified time,
# when it was stored and when an update replaced it
AdvisoryRevision = namedtuple("AdvisoryRevision", "revision modified stored replaced")
# affected_rows(): what an advisory says is affected (advisories.records.Affected
# with the advisory's row id in front)
AffectedRow = namedtuple("AffectedRow", "advisory_id stream name kind arch module introduced "
                                        "fixed last_affected pro")
# package_rows(): a package row with the source package it was built from
SourcedPackage = namedtuple("SourcedPackage", "id packager name version arch source")
# ImportResult: what an import did
ImportResult = namedtuple("ImportResult", "new updated unchanged older")


class UnknownAdvisory(StoreError):
    pass


class InvalidAdvisory(StoreError):
    """An advisory with a value its column cannot hold: the parsers refuse
    such a record, so this is the last line before the database."""


def advisory_content(advisory):
    """The normalised advisory as stored JSON, and its digest (without
    `modified`: a feed that only regenerated a file changes nothing)."""
    fields = advisory._asdict()
    fields["affected"] = [list(a) for a in advisory.affected]
    fields["cves"] = list(advisory.cves)
    content = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    fields.pop("modified")
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).digest()
    return content, digest


class AdvisoryStore(Part):
    """Security advisories (tables: advisories, advisory_cves,
    advisory_packages, advisory_revisions, advisory_imports), and the
    package rows and histories exposure reads."""

    def import_records(self, advisories, now):
        """Store advisories (records.Advisory) in one transaction, with a
        record of the import (advisory_imports, at `now`): new ones
        are added; one whose content changed replaces its stored revision
        (which is kept in advisory_revisions); one equal to what is stored,
        or older than it (by the vendor's modified time), changes nothing.
        An ident given twice: the last one counts. ImportResult;
        InvalidAdvisory, with nothing written, when a value does not fit
        its column."""
        latest = {}
        for advisory in advisories:
            try:
                check_advisory(advisory)
            except AdvisoryError as exc:
                raise InvalidAdvisory("advisory %r: %s" % (str(advisory.ident)[:MAX_IDENT], exc))
            latest[advisory.ident] = advisory
        sql = self.sql

        def work(cursor):
            cursor.execute(sql.SELECT_ADVISORY_STATES)
            stored = {state.ident: state
                      for state in map(AdvisoryState._make, cursor.fetchall())}
            counts = {"new": 0, "updated": 0, "unchanged": 0, "older": 0}
            for ident, advisory in sorted(latest.items()):
                content, digest = advisory_content(advisory)
                state = stored.get(ident)
                values = (advisory.format, advisory.severity, advisory.title,
                          advisory.published, advisory.modified)
                if state is None:
                    cursor.execute(sql.INSERT_ADVISORY, (ident,) + values + (
                        now, now, digest, content))
                    advisory_id = cursor.lastrowid
                    counts["new"] += 1
                else:
                    advisory_id = state.id
                    if bytes(state.digest) == digest:
                        counts["unchanged"] += 1
                        continue
                    if (state.modified is not None and advisory.modified is not None
                            and advisory.modified < state.modified):
                        counts["older"] += 1
                        continue
                    cursor.execute(sql.KEEP_ADVISORY_REVISION, (now, advisory_id))
                    cursor.execute(sql.UPDATE_ADVISORY, values + (now, digest, content,
                                                                  advisory_id))
                    cursor.execute(sql.DELETE_ADVISORY_CVES, (advisory_id,))
                    cursor.execute(sql.DELETE_ADVISORY_PACKAGES, (advisory_id,))
                    counts["updated"] += 1
                if advisory.cves:
                    cursor.executemany(sql.INSERT_ADVISORY_CVE,
                                       [(advisory_id, cve) for cve in advisory.cves])
                if advisory.affected:
                    cursor.executemany(sql.INSERT_ADVISORY_PACKAGE, [
                        (advisory_id,) + tuple(a[:-1]) + (int(a.pro),)
                        for a in advisory.affected])
            result = ImportResult(**counts)
            cursor.execute(sql.INSERT_ADVISORY_IMPORT, (now,) + tuple(result))
            return result
        return self.db.transaction(work)

    def listed(self, cve=None, severities=None, since=None):
        """[AdvisoryInfo], by ident (of one CVE; of these severities;
        published, or first seen when the feed gives no date, at or after
        `since`)."""
        if cve is not None:
            rows = self.db.read(self.sql.SELECT_ADVISORIES_OF_CVE, (cve,), AdvisoryInfo)
        else:
            rows = self.db.read(self.sql.SELECT_ADVISORIES.format(where=""), (), AdvisoryInfo)
        if severities:
            rows = [r for r in rows if r.severity in severities]
        if since is not None:
            rows = [r for r in rows if published_or_seen(r) >= since]
        return rows

    def by_id(self, advisory_ids):
        """{id: AdvisoryInfo} of these advisories."""
        make = maker(AdvisoryInfo)
        found = {}
        for chunk in chunks(sorted(advisory_ids)):
            for row in self.db.read(self.sql.SELECT_ADVISORIES.format(
                    where=" WHERE a.id IN (%s)" % self.db.marks(len(chunk))), chunk):
                found[row[0]] = make(row)
        return found

    def get(self, ident):
        """(AdvisoryInfo, its content as a dict) of one advisory."""
        found = self.db.read(self.sql.SELECT_ADVISORY_BY_IDENT, (ident,), AdvisoryInfo)
        if not found:
            raise UnknownAdvisory("no advisory %s" % ident)
        content = self.db.read_one(self.sql.SELECT_ADVISORY_CONTENT, (found[0].id,))[0]
        return found[0], json.loads(content)

    def revisions(self, advisory_id):
        return self.db.read(self.sql.SELECT_ADVISORY_REVISIONS, (advisory_id,), AdvisoryRevision)

    def cves(self, advisory_ids=None):
        """{advisory id: [CVE]}."""
        found = {}
        for advisory_id, cve in self._rows_of_advisories(self.sql.SELECT_ADVISORY_CVES,
                                                         advisory_ids):
            found.setdefault(advisory_id, []).append(cve)
        return found

    def affected_rows(self, advisory_ids=None, present=False):
        """[AffectedRow] of these advisories (None: of all); present: only
        those a package row of some host may match (by name or source)."""
        make = maker(AffectedRow)
        if present:
            rows = self.db.read(self.sql.SELECT_PRESENT_ADVISORY_PACKAGES)
            if advisory_ids is not None:
                wanted = set(advisory_ids)
                rows = [row for row in rows if row[0] in wanted]
            return [make(row) for row in rows]
        return [make(row) for row in self._rows_of_advisories(self.sql.SELECT_ADVISORY_PACKAGES,
                                                              advisory_ids)]

    def _rows_of_advisories(self, statement, advisory_ids):
        if advisory_ids is None:
            return self.db.read(statement.format(where=""))
        rows = []
        for chunk in chunks(sorted(advisory_ids)):
            rows.extend(self.db.read(statement.format(
                where=" WHERE advisory_id IN (%s)" % self.db.marks(len(chunk))), chunk))
        return rows

    def streams(self):
        """The OS streams some advisory names."""
        return {row[0] for row in self.db.read(self.sql.SELECT_ADVISORY_STREAMS)}

    def package_rows(self, names=(), sources=()):
        """{package id: SourcedPackage} of the rows called one of `names`
        or built from one of `sources`."""
        make = maker(SourcedPackage)
        found = {}
        for statement, values in ((self.sql.SELECT_PACKAGE_ROWS_NAMED, names),
                                  (self.sql.SELECT_PACKAGE_ROWS_OF_SOURCES, sources)):
            for chunk in chunks(sorted(set(values))):
                for row in self.db.read(statement.format(marks=self.db.marks(len(chunk))), chunk):
                    found[row[0]] = make(row)
        return found

    def package_history(self, package_ids, since=None, until=None):
        """{package id: [(host id, installed, removed)]}: every interval of
        these package rows (given since and until: those held at some time
        in (since, until]), read in one transaction (one string a package
        row: a driver builds far fewer rows)."""
        sql = self.sql
        if since is None:
            statement, bounds = sql.SELECT_PACKAGE_HISTORY_CONCAT, []
        else:
            statement, bounds = sql.SELECT_PACKAGE_HISTORY_BETWEEN_CONCAT, [until, since]

        def work(cursor):
            found = {}
            for chunk in chunks(sorted(package_ids)):
                cursor.execute(statement.format(marks=self.db.marks(len(chunk))),
                               list(chunk) + bounds)
                for package_id, text in cursor.fetchall():
                    if isinstance(text, bytes):
                        text = text.decode("ascii")
                    intervals = found.setdefault(package_id, [])
                    for triple in text.split(","):
                        host_id, installed, removed = triple.split(" ")
                        intervals.append((int(host_id), int(installed),
                                          int(removed) if removed else None))
            return found
        return self.db.transaction(work, write=False)


def published_or_seen(info):
    """When the officer may count an advisory as published: the vendor's
    date, or when this collector first saw it where the feed gives none."""
    return info.published if info.published is not None else info.first_seen

"""Exceptions to what advisories find: added, listed, ended (never
deleted), and merged from another collector's document. The rules (what
an exception may name, when it is in force, what it covers) are
advisories/exceptions.py's."""

from ..advisories.exceptions import identity, in_force
from .database import Part
from .errors import StoreError
from .tag_statements import AdvisoryException


class UnknownException(StoreError):
    pass


class ExceptionEnded(StoreError):
    """An exception ended already (or past its date)."""


class ExceptionStore(Part):
    """Exceptions (table: advisory_exceptions)."""

    def add(self, advisory, cve, package, version, site, host, reason, now, who, expires=None):
        """A new exception, in force from `now` until `expires` (None: until
        ended): its AdvisoryException."""
        sql = self.sql

        def work(cursor):
            cursor.execute(sql.INSERT_EXCEPTION, (advisory, cve, package, version, site, host,
                                                  reason, now, who, expires, None, None))
            return cursor.lastrowid
        return self.get(self.db.transaction(work))

    def get(self, exception_id):
        found = self.db.read(self.sql.SELECT_EXCEPTIONS.format(
            where=" WHERE id = " + self.dialect.placeholder), (exception_id,), AdvisoryException)
        if not found:
            raise UnknownException("no exception %s" % exception_id)
        return found[0]

    def listed(self):
        """Every AdvisoryException, ended ones too, oldest first."""
        return self.db.read(self.sql.SELECT_EXCEPTIONS.format(where=""), (), AdvisoryException)

    def in_force(self, at):
        """[AdvisoryException] in force at `at` (exceptions.in_force)."""
        return [e for e in self.listed() if in_force(e, at)]

    def end(self, exception_id, now, who):
        """End an exception in force (ExceptionEnded if it is not): its
        AdvisoryException as it is now."""
        sql = self.sql

        def work(cursor):
            cursor.execute(sql.SELECT_EXCEPTIONS.format(
                where=" WHERE id = " + self.dialect.placeholder), (exception_id,))
            row = cursor.fetchone()
            if row is None:
                raise UnknownException("no exception %s" % exception_id)
            exception = AdvisoryException._make(row)
            if exception.ended is not None:
                raise ExceptionEnded("exception %s was ended already" % exception_id)
            if exception.expires is not None and exception.expires <= now:
                raise ExceptionEnded("exception %s is past its date already" % exception_id)
            cursor.execute(sql.END_EXCEPTION, (now, who, exception_id))
            if cursor.rowcount != 1:
                raise ExceptionEnded("exception %s was ended already" % exception_id)
        self.db.transaction(work)
        return self.get(exception_id)

    def merge(self, cursor, exceptions):
        """In the caller's transaction (an import's): exceptions of another
        collector's document, each matched with a stored one by identity:
        a new one is added as the document has it; a known one takes the
        document's date, and its end unless it was ended here already (an
        exception never comes back into force). (added, updated,
        unchanged)."""
        sql = self.sql
        cursor.execute(sql.SELECT_EXCEPTIONS.format(where=""))
        stored = {identity(e): e for e in map(AdvisoryException._make, cursor.fetchall())}
        added = updated = unchanged = 0
        for exception in exceptions:
            known = stored.get(identity(exception))
            if known is None:
                cursor.execute(sql.INSERT_EXCEPTION, (
                    exception.advisory, exception.cve, exception.package, exception.version,
                    exception.site, exception.host, exception.reason, exception.added,
                    exception.added_by, exception.expires, exception.ended, exception.ended_by))
                added += 1
                continue
            ended = (known.ended, known.ended_by) if known.ended is not None else \
                (exception.ended, exception.ended_by)
            if (exception.expires,) + ended == (known.expires, known.ended, known.ended_by):
                unchanged += 1
                continue
            cursor.execute(sql.UPDATE_EXCEPTION_TIMES, (exception.expires,) + ended + (known.id,))
            updated += 1
        return added, updated, unchanged

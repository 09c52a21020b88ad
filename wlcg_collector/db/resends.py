"""Reports sent again: a body whose digest is stored already is counted
on its report's row as a duplicate, and nothing else changes; asked one
body at a time (before openssl verifies a signed report again) or for a
batch's bodies at once, inside the batch's transaction."""

from ..statuses import DUPLICATE
from .database import Part, chunks


class Resends(Part):
    """The writer's part that counts bodies sent again (store.writer.resends)."""

    def count(self, digest, tally=None):
        """Whether a report of this digest (the SHA-256 of its plaintext) is
        stored already; if so it is counted on its row as the writer's
        store_report counts a duplicate, and nothing else changes. (Ingest asks before
        openssl verifies a signed report again.) tally: see
        ReportWriter.store_report."""
        if self.db.read_one("SELECT 1 FROM reports WHERE digest = " + self.dialect.placeholder,
                            (digest,)) is None:
            return False
        self.count_stored(digest, tally)
        return True

    def count_stored(self, digest, tally):
        """Count a report stored already as sent again, in a transaction of
        its own (tally: see ReportWriter.store_report)."""
        def work(cursor):
            cursor.execute(self.sql.COUNT_DUPLICATE, (digest,))
            if tally is not None:
                tally(cursor, DUPLICATE)
        self.db.transaction(work)

    def count_batch(self, cursor, digests):
        """The digests (of a batch's reports) stored already, each counted
        as a duplicate as many times as it is there: a statement to find
        them, one to count them."""
        resent = set()
        for chunk in chunks(sorted(set(digests))):
            cursor.execute(self.sql.SELECT_STORED_DIGESTS.format(
                marks=self.db.marks(len(chunk))), chunk)
            resent.update(bytes(row[0]) for row in cursor.fetchall())
        times = {}
        for digest in digests:
            if digest in resent:
                times[digest] = times.get(digest, 0) + 1
        by_times = {}
        for digest, count in times.items():
            by_times.setdefault(count, []).append(digest)
        for count, counted in sorted(by_times.items()):
            for chunk in chunks(sorted(counted)):
                cursor.execute(self.sql.COUNT_DUPLICATES.format(
                    marks=self.db.marks(len(chunk))), [count] + chunk)
        return resent

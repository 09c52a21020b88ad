"""Writes a transaction needs no answer from, sent together (MariaDB).

A stored report ends with writes nothing waits for: its intervals, its
row, its host's row. Each costs a round trip to the server and PyMySQL's
work on its reply, about 0.1 ms, as much as a small write costs the
server itself. On MariaDB such writes wait in the transaction's cursor
and go with the next statement whose answer is needed (a SELECT, an
INSERT ... RETURNING), or at the transaction's end, as one compound
statement (BEGIN NOT ATOMIC ... END, MariaDB 10.1.1 and newer: one
statement, so the connection needs no multi-statement flag). The order
of the statements is kept, and so is what each one sees; the block is not
atomic, but every statement of it is inside the transaction, which
commits or rolls back all of them alike.

An error of a deferred write comes with the statement it was sent with
(or with the commit): the transaction fails as it would have, one
statement later. A statement whose answer is only checked (the day's
counts a changed report adds to, read back by RETURNING) may wait too,
with its check: the answer is read, and checked, when the block returns,
before the statement it went with has its own; a check that refuses fails
the transaction as the statement would have. A write whose duplicate key means "stored already"
(execute_unique's DuplicateRow) names its unique key, and a duplicate of
that key is DuplicateRow wherever it surfaces."""

import re

from .errors import DuplicateRow

# the key a duplicate-entry error names, at the end of its message (before
# it comes the value, which may hold anything)
DUPLICATE_KEY = re.compile(r" for key [`']([^`' ]+)[`']\Z")


def answers(statement):
    """Whether a statement has an answer to read (a result set): it can
    end a block, whose answer is then its own."""
    return statement.startswith("SELECT") or " RETURNING " in statement


class DeferringCursor(object):
    """A PyMySQL cursor whose writes may wait (defer) for the next
    statement with an answer; everything else is the cursor's."""

    def __init__(self, cursor, dialect):
        self.cursor = cursor
        self.dialect = dialect
        self.pending = []  # statements, their parameters written in
        self.unique_keys = set()  # keys whose duplicate is DuplicateRow
        self.checks = []  # check(rows) of each deferred statement with an answer, in order

    def defer(self, statement, params=None, unique_key=None):
        """Send this write later, with the next statement that has an
        answer, or at the transaction's end."""
        self.pending.append(self.cursor.mogrify(statement, params))
        if unique_key is not None:
            self.unique_keys.add(unique_key)

    def defer_checked(self, statement, params, check):
        """Send this statement, whose answer (a result set) is only
        checked, later: check(its rows) when it has been sent."""
        self.pending.append(self.cursor.mogrify(statement, params))
        self.checks.append(check)

    def execute(self, statement, params=None):
        if not self.pending:
            return self.cursor.execute(statement, params)
        if answers(statement):
            self.pending.append(self.cursor.mogrify(statement, params))
            return self._send()
        self._send()
        return self.cursor.execute(statement, params)

    def execute_together(self, statements):
        """Run [(statement, params)] and the writes waiting as one block;
        the first result set is the first answering statement's (then
        nextset() for the others)."""
        self.pending.extend(self.cursor.mogrify(statement, params)
                            for statement, params in statements)
        return self._send()

    def executemany(self, statement, rows):
        self.flush()
        return self.cursor.executemany(statement, rows)

    def flush(self):
        """Send the writes waiting, if any (the transaction's end)."""
        if self.pending:
            self._send()

    def _send(self):
        pending, keys, checks = self.pending, self.unique_keys, self.checks
        self.pending, self.unique_keys, self.checks = [], set(), []
        text = pending[0] if len(pending) == 1 else (
            "BEGIN NOT ATOMIC " + "; ".join(pending) + "; END")
        try:
            result = self.cursor.execute(text)
            # the answers of the checked statements come first, in order
            # (no write has one); then the answer of the statement sent with
            # them, if any, is the cursor's. Each is checked before what
            # follows it is read: a later write's error comes after a
            # refusal, as it would one statement at a time
            for check in checks:
                rows = self.cursor.fetchall()
                try:
                    check(rows)
                except Exception:
                    self._skip_rest()
                    raise
                self.cursor.nextset()
            return result
        except Exception as exc:
            if keys and self.dialect.is_duplicate(exc):
                found = DUPLICATE_KEY.search(self.dialect.message(exc))
                if found and found.group(1).rsplit(".", 1)[-1] in keys:
                    raise DuplicateRow(self.dialect.error_line(exc))
            raise

    def _skip_rest(self):
        """Read what the block sent after a refused check, the error of a
        later write included: the refusal is the transaction's failure."""
        try:
            while self.cursor.nextset():
                pass
        except Exception:
            pass

    def close(self):
        self.pending, self.unique_keys, self.checks = [], set(), []
        return self.cursor.close()

    def __getattr__(self, name):  # fetchone, fetchall, rowcount, lastrowid...
        return getattr(self.cursor, name)

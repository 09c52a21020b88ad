"""Connections and transactions: one connection per thread, one transaction
per unit of work, deadlocks and lock timeouts retried, a database that is
away turned into StoreUnavailable, and whatever else the driver raises into
storage's own errors (errors.py). Every other module of the package reads
and writes through Database.transaction and Database.read."""

import functools
import random
import struct
import threading
import time

from .dialect import execute_unique
from .errors import DatabaseRefused, ReadAgain, StoreFault, StoreUnavailable, ValueRefused

CHUNK = 500
TRANSACTION_ATTEMPTS = 5
# threads (each with its connection) a fleet-wide read may use besides the caller's
# connections a whole-fleet read uses at once (the database server's cores
# free for the officer), and the parts each one reads in turn: while one
# part is turned into bitmaps here, the server works on the next
READ_CONNECTIONS = 2
PARTS_PER_CONNECTION = 4


def chunks(items, size=CHUNK):
    """Lists of at most `size` items: long IN lists go in pieces."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


@functools.lru_cache(maxsize=None)
def maker(record):
    """A function making `record`s (a named tuple class) from row tuples,
    as cheaply as Python can: thousands of rows a read."""
    return functools.partial(tuple.__new__, record)


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def split_concatenated(value, rows="\n", fields=" "):
    """The rows of one GROUP_CONCAT string, as lists of fields ([] for NULL)."""
    if not value:
        return []
    return [row.split(fields) for row in _text(value).split(rows)]


def split_concatenated_text(value):
    """The words of a GROUP_CONCAT of "a b" pairs: a b a b ... ([] for NULL)."""
    if not value:
        return []
    return _text(value).replace(",", " ").split(" ")


def split_ids(value):
    """The ints of a GROUP_CONCAT(id) string (empty for NULL)."""
    if not value:
        return set()
    return set(map(int, _text(value).split(",")))


def holder_rows(cursor, open_statement, past_statement, package_ids, at, placeholder):
    """The rows of two statements on the holders of package rows at `at`:
    the intervals still open, and those closed since (each with {marks}
    for the ids, then its times), for the ids in chunks."""
    for chunk in chunks(package_ids):
        marks = ", ".join([placeholder] * len(chunk))
        for statement, extra in ((open_statement, [at]), (past_statement, [at, at])):
            cursor.execute(statement.format(marks=marks), chunk + extra)
            for row in cursor.fetchall():
                yield row


def words_to_bitmap(words):
    """A bitmap (bytes; bit i of byte i // 8 is id i) of {block: 64-bit
    word} (word `block` holds ids 64 * block to 64 * block + 63)."""
    if not words:
        return b""
    bitmap = bytearray(8 * (max(words) + 1))
    pack = struct.Struct("<Q").pack_into
    for block, word in words.items():
        pack(bitmap, 8 * block, word)
    return bytes(bitmap)


def ids_to_bitmap(ids):
    """The bitmap of a GROUP_CONCAT(id) string."""
    return numbers_to_bitmap([int(i) for i in _text(ids).split(",")] if ids else [])


def numbers_to_bitmap(numbers):
    """The bitmap of a list of ids."""
    bitmap = bytearray(max(numbers) // 8 + 1 if numbers else 0)
    for number in numbers:
        bitmap[number >> 3] |= 1 << (number & 7)
    return bytes(bitmap)


def _nothing():
    pass


class Database(object):
    """A dialect (sqlite.SQLiteDialect or mysql.MySQLDialect) and this
    thread's connection to it: the one thing every part of the store
    shares."""

    def __init__(self, dialect, read_connections=READ_CONNECTIONS):
        self.dialect = dialect
        self.sql = dialect.sql
        self.read_connections = read_connections
        self._local = threading.local()
        # the threads (and their connections) of concurrently(), made on first use
        self._helpers = None

    def connection(self):
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.dialect.connect()
            self._local.conn = conn
        return conn

    def drop_connection(self):
        """Close this thread's connection (the next use opens another)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing more to do with it
                pass

    def close(self):
        self.drop_connection()
        self.dialect.close()
        helpers = self._helpers
        if helpers is not None:
            self._helpers = None
            # each helper thread closes its own connection (the barrier makes
            # every thread take one of the tasks), then they stop
            barrier = threading.Barrier(self.read_connections)

            def drop(_):
                try:
                    barrier.wait(timeout=5)
                except threading.BrokenBarrierError:
                    pass
                self.drop_connection()
            list(helpers.map(drop, range(self.read_connections)))
            helpers.shutdown()

    def concurrently(self, *works):
        """The results of the functions `works`: the first in this
        thread, the others on read_connections threads, each with its own
        connection (and so transaction), in turn: a fleet-wide question
        reads its parts on several server threads at once. The threads and
        their connections are kept for the next call, until close()."""
        if len(works) == 1:
            return [works[0]()]
        helpers = self._helpers
        if helpers is None:
            from concurrent.futures import ThreadPoolExecutor
            helpers = self._helpers = ThreadPoolExecutor(max_workers=self.read_connections,
                                                         thread_name_prefix="wlcg-read")
        futures = [helpers.submit(work) for work in works[1:]]
        first = works[0]()  # (the caller's own thread does one part)
        return [first] + [future.result() for future in futures]

    def transaction(self, work, write=True, refused=None):
        """Run work(cursor) in one transaction; retry deadlocks and lock
        timeouts; StoreUnavailable when the database cannot be reached (or
        a deadlock comes back every time). refused: what the work is, for a
        caller that goes on without it: anything else the database refuses
        is then DatabaseRefused ("refused: what"). Without it, a value its
        column cannot hold is ValueRefused, anything else the driver raises
        a StoreFault; what the work raises itself goes on as it is."""
        outer = getattr(self._local, "ends", None)  # (a transaction inside another's work)
        try:
            for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
                conn = self.connection()
                ends = self._local.ends = []
                try:
                    self.dialect.begin(conn, write)
                    cursor = self.dialect.cursor(conn)
                    try:
                        result = work(cursor)
                        self.dialect.finish(cursor)
                    finally:
                        cursor.close()
                    conn.commit()
                except Exception as exc:
                    try:
                        conn.rollback()
                    except Exception:  # the connection is gone; it is dropped below
                        pass
                    for _, rolled_back in ends:
                        rolled_back()
                    retry = isinstance(exc, ReadAgain) or self.dialect.is_retryable(exc)
                    if retry and attempt < TRANSACTION_ATTEMPTS:
                        time.sleep(random.uniform(0.01, 0.05) * attempt)
                        continue
                    if self.dialect.is_unavailable(exc):
                        self.drop_connection()
                        raise StoreUnavailable("database %s: %s"
                                               % (self.dialect.describe(), exc))
                    if not self.dialect.is_refusal(exc):
                        raise  # the work's own (a StoreError, a ReportError...)
                    database, line = self.dialect.describe(), self.dialect.error_line(exc)
                    if retry:
                        raise StoreUnavailable("database %s is busy: %s"
                                               % (database, line)) from exc
                    if refused is not None:
                        raise DatabaseRefused("%s: %s" % (refused, line)) from exc
                    if self.dialect.is_value_refusal(exc):
                        raise ValueRefused("database %s refused a value: %s"
                                           % (database, line)) from exc
                    raise StoreFault("database %s failed: %s" % (database, line)) from exc
                except BaseException:
                    # an interrupt (KeyboardInterrupt, SystemExit) in the work: rolled
                    # back too, or the connection's next BEGIN would fail inside this
                    # transaction (SQLite) or commit its half (MySQL)
                    try:
                        conn.rollback()
                    except Exception:
                        self.drop_connection()
                    for _, rolled_back in ends:
                        rolled_back()
                    raise
                else:
                    for committed, _ in ends:
                        committed()
                    return result
        finally:
            self._local.ends = outer

    def on_end(self, committed=None, rolled_back=None):
        """Inside a transaction's work: call committed() once the
        transaction has committed, or rolled_back() if this attempt rolls
        back (a deadlock retried runs the work, and so this, again): what a
        caller keeps in memory of what the transaction wrote follows it."""
        self._local.ends.append((committed or _nothing, rolled_back or _nothing))

    def read(self, sql, params=(), record=tuple):
        """The rows of one compiled statement, made `record`s (a named tuple
        class, or plain tuples), in a read-only transaction."""
        make = tuple if record is tuple else maker(record)

        def work(cursor):
            cursor.execute(sql, tuple(params))
            return list(map(make, cursor.fetchall()))
        return self.transaction(work, write=False)

    def read_one(self, sql, params=()):
        """The first row of a statement, or None."""
        rows = self.read(sql, params)
        return rows[0] if rows else None

    def execute_unique(self, cursor, statement, params):
        """cursor.execute of an INSERT a unique key may refuse: DuplicateRow if it does."""
        execute_unique(self.dialect, cursor, statement, params)

    def defer(self, cursor, statement, params, unique_key=None):
        """A write nobody reads the answer of: the dialect's defer."""
        self.dialect.defer(cursor, statement, params, unique_key)

    def marks(self, count):
        """count placeholders, comma separated, for an IN list."""
        return ", ".join([self.dialect.placeholder] * count)


class Part(object):
    """A part of the store (the writer, the fleet's reads, the sites...):
    its own state, declared by its __init__, over the one Database all
    parts share."""

    def __init__(self, db):
        self.db = db
        self.dialect = db.dialect
        self.sql = db.sql

"""What /metrics shows, counted in the database: every process serving
the collector (Apache runs several, on several hosts behind a balancer)
adds to the same table and reads the same numbers, so that what
Prometheus scrapes is the collector's, whichever process answers.

The reports received are counted in ingest_counts, each writer (a thread
of a process: a random token) on rows of its own, so that no process ever
waits for another's count (nor a thread for another's), and a scrape sums
the rows. A report stored is counted in its own transaction, as its last
statement (Tally): no commit more. A report with no transaction (rejected,
failed) is kept in the process and written at most once a second: with
the next report's transaction when one comes, else in a small transaction
of its own, and whatever is kept when the process closes its store or
exits, and before it answers a scrape; a flood of junk costs the database
one write a second a process, not one a body. The rows of writers not heard
of for FOLD_AGE are folded into the base rows (writer '') at each scrape
and at most once a FOLD_EVERY by each process, so that the table does not
grow with restarts.

The rest is read when asked, each through an index or a table of bounded
size (the hosts through hosts_last_report: one range of an index, 100,000
entries for a grid)."""

import atexit
import os
import threading
import time
import weakref
from collections import namedtuple

from ..statuses import COUNTED_OUTCOMES, REJECTED, REJECTION_REASONS
from .database import Part
from .metrics_statements import CountRow

# the upper bounds, in ms, of the buckets ingest's time is counted in (the
# schema keeps the bound itself: a later change of the list leaves what
# was counted readable)
DURATION_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
# the bucket of a time beyond the last bound (INT's largest), and of a
# report refused before ingest began (its time is the network's)
BEYOND_BUCKETS = 2 ** 31 - 1
NOT_TIMED = -1
# the counts a process keeps (no transaction of their own) are written at
# most this often, in seconds
WRITE_EVERY = 1.0
# a writer's rows not written for this long (seconds) are folded into the
# base rows, by a scrape or by a process at most once a FOLD_EVERY
FOLD_AGE = 600
FOLD_EVERY = 60.0
BASE = ""  # the writer of the base rows

# numbers(): what was counted (reports {(outcome, reason): n}, durations
# {bucket: n} and their sum in seconds), the hosts heard of, silent since
# the time given and their sites, the quarantine (entries, bytes), the
# newest report received (Unix time, None: none yet), the schema's version
# and the last import of advisories (None: none yet)
Numbers = namedtuple("Numbers", "reports durations duration_sum hosts silent_hosts sites "
                                "quarantined quarantine_bytes newest_report schema_version "
                                "advisories_imported")


def bucket_of(seconds):
    """The bucket a time of ingest is counted in (None: not timed)."""
    if seconds is None:
        return NOT_TIMED
    millis = seconds * 1000
    for bound in DURATION_BUCKETS_MS:
        if millis <= bound:
            return bound
    return BEYOND_BUCKETS


def counted(outcome, reason, seconds):
    """The row key (outcome, reason, bucket) and microseconds of a report
    counted; ValueError for a word not counted."""
    if outcome not in COUNTED_OUTCOMES or (reason not in REJECTION_REASONS if
                                           outcome == REJECTED else reason):
        raise ValueError("not a counted outcome: %r %r" % (outcome, reason))
    micros = 0 if seconds is None else max(0, int(seconds * 1000000))
    return (outcome, reason, bucket_of(seconds)), micros


def add(counts, key, reports, micros):
    """Add to counts {key: [reports, micros]}."""
    entry = counts.get(key)
    if entry is None:
        counts[key] = [reports, micros]
    else:
        entry[0] += reports
        entry[1] += micros


class Tally(object):
    """One report received, counted in the transaction that stores it:
    the writer calls it (cursor, outcome) as that transaction's last
    statement. `counted` once that transaction has committed; until then
    the caller counts the report itself (MetricsStore.count_kept)."""

    def __init__(self, metrics):
        self.metrics = metrics
        self.started = None  # time.monotonic() when ingest began (None: not yet)
        self.counted = False

    def start(self):
        self.started = time.monotonic()

    def seconds(self):
        """Seconds since ingest began, or None."""
        return None if self.started is None else time.monotonic() - self.started

    def __call__(self, cursor, outcome):
        self.metrics.count_in(cursor, outcome, self.seconds())
        self.metrics.db.on_end(committed=self._committed)

    def _committed(self):
        self.counted = True


# the parts with counts kept, written when the process exits
_KEEPING = weakref.WeakSet()


@atexit.register
def _write_kept_at_exit():
    for metrics in list(_KEEPING):
        try:
            metrics.write_kept()
        except Exception:  # (the database is away: the counts are lost, and nothing else)
            pass


class MetricsStore(Part):
    """What /metrics counts (table: ingest_counts) and reads (hosts,
    reports, quarantine, advisory_imports, schema_version)."""

    def __init__(self, db):
        Part.__init__(self, db)
        self._start()

    def _start(self):
        """This process's state: made again in a child process (a fork
        copies the parent's, which the parent writes itself)."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._local = threading.local()  # .writer: this thread's token
        self._kept = {}  # {(outcome, reason, bucket): [reports, micros]}
        self._written = None  # time.monotonic() of the last write of _kept
        self._folded = time.monotonic()  # ... and of the last fold

    def _here(self):
        if os.getpid() != self._pid:
            self._start()

    def writer(self):
        """This thread's writer token: the rows only it writes."""
        self._here()
        token = getattr(self._local, "writer", None)
        if token is None:
            token = self._local.writer = os.urandom(8).hex()
        return token

    def tally(self):
        """A Tally for the next report received."""
        return Tally(self)

    def count_in(self, cursor, outcome, seconds):
        """Count one report stored (statuses.INGEST_OUTCOMES; seconds: the
        time ingest took so far) in the transaction `cursor` is in, with
        the counts this process kept when a second has passed since they
        were last written: one statement."""
        key, micros = counted(outcome, "", seconds)
        counts = {key: [1, micros]}
        carried = self._take(due=True)
        if carried:
            for other, (reports, more) in carried.items():
                add(counts, other, reports, more)
            self.db.on_end(rolled_back=lambda: self._keep(carried))
        self._write(cursor, counts)

    def count_kept(self, outcome, reason="", seconds=None):
        """Count one report that no transaction stored: rejected (with its
        statuses.REJECTION_REASONS word), failed, or a report whose
        transaction did not count it. Kept in the process, and written now
        in a transaction of its own if a second has passed since the kept
        counts were last written. StoreError when that write fails (the
        counts stay kept); ValueError for a word not counted."""
        key, micros = counted(outcome, reason, seconds)
        self._here()
        with self._lock:
            add(self._kept, key, 1, micros)
        _KEEPING.add(self)
        self.write_kept(due=True)

    def write_kept(self, due=False):
        """Write what this process kept, in a transaction of its own (due:
        only if a second has passed since it was last written)."""
        taken = self._take(due)
        if not taken:
            return
        try:
            self.db.transaction(lambda cursor: self._write(cursor, taken),
                                refused="ingest_counts")
        except BaseException:
            self._keep(taken)
            raise

    def _take(self, due):
        """The counts kept, now taken out to be written ({} when none, or
        when `due` and they were written less than WRITE_EVERY ago)."""
        self._here()
        with self._lock:
            if not self._kept:
                return {}
            now = time.monotonic()
            if due and self._written is not None and now - self._written < WRITE_EVERY:
                return {}
            taken, self._kept, self._written = self._kept, {}, now
            return taken

    def _keep(self, taken):
        """Keep again counts whose write was rolled back."""
        with self._lock:
            for key, (reports, micros) in taken.items():
                add(self._kept, key, reports, micros)

    def _write(self, cursor, counts, writer=None):
        """Add counts {(outcome, reason, bucket): [reports, micros]} to the
        rows of `writer` (this thread's) in one statement."""
        writer = self.writer() if writer is None else writer
        now = int(time.time())
        rows = [(writer, outcome, reason, bucket, reports, micros, now)
                for (outcome, reason, bucket), (reports, micros) in sorted(counts.items())]
        marks = "(%s)" % self.db.marks(7)
        self.db.defer(cursor, self.sql.COUNT_INGEST.format(rows=", ".join([marks] * len(rows))),
                      [value for row in rows for value in row])

    def upkeep(self):
        """What a process does now and then after answering a report: fold
        the rows of writers gone, at most once a FOLD_EVERY."""
        self._here()
        with self._lock:
            if time.monotonic() - self._folded < FOLD_EVERY:
                return
            self._folded = time.monotonic()
        self.fold()

    def fold(self, now=None):
        """Fold the rows of every writer not written since FOLD_AGE before
        `now` (Unix time) into the base rows, in one transaction; how many
        rows were folded. The sums stay as they were: a scrape sees the
        rows before or after, never between."""
        sql = self.sql
        cutoff = int(time.time() if now is None else now) - FOLD_AGE

        def work(cursor):
            cursor.execute(sql.SELECT_FOLDED_COUNTS, (BASE, cutoff))
            rows = [CountRow(*row) for row in cursor.fetchall()]
            if not rows:
                return 0
            base = {}
            for row in rows:
                add(base, (row.outcome, row.reason, int(row.bucket)), int(row.reports),
                    int(row.micros))
            self._write(cursor, base, BASE)
            cursor.executemany(sql.DELETE_COUNTS, [(row.writer, row.outcome, row.reason,
                                                    row.bucket) for row in rows])
            return len(rows)
        self._folded = time.monotonic()
        return self.db.transaction(work, refused="ingest_counts")

    def close(self):
        """Write what this process kept (the store is closing)."""
        self.write_kept()

    def numbers(self, silent_before):
        """Numbers, read in one transaction (hosts silent: last heard of
        before `silent_before`), once this process has written what it
        kept and folded the rows of writers gone."""
        sql = self.sql
        self.write_kept()
        self.fold()

        def work(cursor):
            reports, durations, micros = {}, {}, 0
            cursor.execute(sql.SELECT_INGEST_COUNTS)
            for outcome, reason, bucket, count, summed in cursor.fetchall():
                count = int(count)
                reports[outcome, reason] = reports.get((outcome, reason), 0) + count
                if bucket != NOT_TIMED:
                    durations[bucket] = durations.get(bucket, 0) + count
                    micros += int(summed)
            cursor.execute(sql.COUNT_HOSTS_HEARD, (silent_before,))
            hosts, silent = cursor.fetchone()
            cursor.execute(sql.COUNT_SITES_HEARD)
            sites = cursor.fetchone()[0]
            cursor.execute(sql.COUNT_QUARANTINE)
            quarantined, quarantine_bytes, newest_held = cursor.fetchone()
            cursor.execute(sql.SELECT_NEWEST_REPORT)
            newest = [row[0] for row in cursor.fetchall()]
            newest = max([int(t) for t in newest + [newest_held] if t is not None], default=None)
            cursor.execute(sql.SELECT_SCHEMA_VERSION)
            version = cursor.fetchone()[0]
            cursor.execute(sql.SELECT_LAST_ADVISORY_IMPORT)
            imported = [int(row[0]) for row in cursor.fetchall()]
            return Numbers(reports, durations, micros / 1000000.0, int(hosts),
                           int(silent or 0), int(sites), int(quarantined),
                           int(quarantine_bytes or 0), newest, int(version),
                           imported[0] if imported else None)
        return self.db.transaction(work, write=False)

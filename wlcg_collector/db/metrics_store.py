"""What /metrics shows, counted in the database: every process serving
the collector (Apache runs several, on several hosts behind a balancer)
adds to the same rows and reads the same numbers, so that what Prometheus
scrapes is the collector's, whichever process answers.

The reports received are counted as they are answered (ingest_counts: a
few rows a key, only ever added to); the rest is read when asked, each
through an index or a table of bounded size (the hosts through
hosts_last_report: one range of an index, 100,000 entries for a grid)."""

import random
from collections import namedtuple

from ..statuses import COUNTED_OUTCOMES, REJECTED, REJECTION_REASONS
from .database import Part

# the upper bounds, in ms, of the buckets ingest's time is counted in (the
# schema keeps the bound itself: a later change of the list leaves what
# was counted readable)
DURATION_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
# the bucket of a time beyond the last bound (INT's largest), and of a
# report refused before ingest began (its time is the network's)
BEYOND_BUCKETS = 2 ** 31 - 1
NOT_TIMED = -1
# rows a key: concurrent collectors seldom add to the same row (on Galera,
# a row two nodes change at once fails one of them)
SLOTS = 8

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


class MetricsStore(Part):
    """What /metrics counts (table: ingest_counts) and reads (hosts,
    reports, quarantine, advisory_imports, schema_version)."""

    def count_report(self, outcome, reason="", seconds=None):
        """Count one report received: its outcome (statuses.COUNTED_OUTCOMES),
        why it was rejected (statuses.REJECTION_REASONS, "" otherwise) and
        how long ingest took (None: refused before it began), in a
        transaction of its own. DatabaseRefused (a StoreError) when the
        database will not: the caller's answer stands without the count."""
        if outcome not in COUNTED_OUTCOMES or (reason not in REJECTION_REASONS if
                                               outcome == REJECTED else reason):
            raise ValueError("not a counted outcome: %r %r" % (outcome, reason))
        micros = 0 if seconds is None else max(0, int(seconds * 1000000))
        row = (outcome, reason, bucket_of(seconds), random.randrange(SLOTS), micros, micros)
        self.db.transaction(lambda cursor: cursor.execute(self.sql.COUNT_INGEST, row),
                            refused="ingest_counts")

    def numbers(self, silent_before):
        """Numbers, read in one transaction (hosts silent: last heard of
        before `silent_before`)."""
        sql = self.sql

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

"""The SQL of /metrics (metrics_store.py) both dialects share (each
dialect's SQL class takes MetricsSQL beside SharedSQL; the count itself,
an upsert, is each dialect's COUNT_INGEST). Every read goes through an
index or a table of bounded size: a scrape must stay cheap on a whole
grid's database."""

from collections import namedtuple

# a row of OLD_COUNTS: one writer's count of one outcome, reason and bucket
CountRow = namedtuple("CountRow", "writer outcome reason bucket reports micros updated")


class MetricsSQL(object):
    # the base's rows and those of the writers heard of lately (see
    # metrics_store.py: a few thousand rows at most)
    SELECT_INGEST_COUNTS = ("SELECT outcome, reason, bucket, SUM(reports), SUM(micros) "
                            "FROM ingest_counts GROUP BY outcome, reason, bucket")
    # the rows of writers (not the base, {p} = '') not written since a time
    # (each dialect's SELECT_FOLDED_COUNTS; a few thousand rows at most, read
    # whole: an index on `updated` would cost every count an index update)
    # (read as CountRow)
    OLD_COUNTS = ("SELECT writer, outcome, reason, bucket, reports, micros, updated "
                  "FROM ingest_counts WHERE writer <> {p} AND updated < {p}")
    DELETE_COUNTS = ("DELETE FROM ingest_counts WHERE writer = {p} AND outcome = {p} "
                     "AND reason = {p} AND bucket = {p}")
    # one range of hosts_last_report (last_report, site): a host made by a
    # report that was not applied (last_report -1) has not been heard of
    COUNT_HOSTS_HEARD = ("SELECT COUNT(*), SUM(CASE WHEN last_report < {p} THEN 1 ELSE 0 END) "
                         "FROM hosts WHERE last_report >= 0")
    COUNT_SITES_HEARD = "SELECT COUNT(DISTINCT site) FROM hosts WHERE last_report >= 0"
    # bounded by quarantine_max_reports; its newest through quarantine_received
    COUNT_QUARANTINE = "SELECT COUNT(*), SUM(bytes), MAX(received) FROM quarantine"
    # the last row of the audit trail, by its primary key
    SELECT_NEWEST_REPORT = "SELECT received FROM reports ORDER BY id DESC LIMIT 1"
    SELECT_LAST_ADVISORY_IMPORT = ("SELECT imported FROM advisory_imports "
                                   "ORDER BY id DESC LIMIT 1")

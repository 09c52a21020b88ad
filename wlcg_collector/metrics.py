"""What /metrics shows: the store's numbers (db/metrics_store.py, counted
in the database: the collector's, whichever process answers) as
Prometheus' text format, written by the prometheus_client library.

Nothing here names a site or a host: every value is a count, a size or a
time, and every label value comes from a fixed set (the outcomes and
rejection reasons of statuses.py, the duration buckets, the version).

prometheus_client is imported when a page is made, not with this module:
the collector starts without it (/metrics then answers 503, web.py)."""

from . import __version__
from .db.metrics_store import DURATION_BUCKETS_MS
from .db.schema import SCHEMA_VERSION
from .statuses import APPLIED, CHANGED, COUNTED_OUTCOMES, REJECTED, REJECTION_REASONS

PREFIX = "wlcg_collector_"
# the outcome label of what storing a report answered: a report that
# changed its host's packages is "applied", one that did not "unchanged"
# (both are applied on the audit trail); the others keep their word
OUTCOME_LABELS = {outcome: APPLIED if outcome == CHANGED else outcome
                  for outcome in COUNTED_OUTCOMES}


def families(numbers, now):
    """The metric families of a db.metrics_store.Numbers read at `now`
    (Unix time): prometheus_client's own objects, in the order shown."""
    from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                        HistogramMetricFamily, InfoMetricFamily)
    from prometheus_client.utils import floatToGoString

    def gauge(name, text, value):
        return GaugeMetricFamily(PREFIX + name, text, value=value)

    by_outcome = dict.fromkeys(COUNTED_OUTCOMES, 0)
    by_reason = dict.fromkeys(REJECTION_REASONS, 0)
    for (outcome, reason), count in numbers.reports.items():
        if outcome in by_outcome:  # (a word a later version counts: not shown here)
            by_outcome[outcome] += count
        if outcome == REJECTED and reason in by_reason:
            by_reason[reason] += count
    reports = CounterMetricFamily(
        PREFIX + "reports", "Reports received, by outcome: applied (the host's packages "
        "changed), unchanged, older, replayed, duplicate, quarantined, rejected (see "
        "reports_rejected_total), failed (the collector's fault: 500)", labels=["outcome"])
    for outcome in COUNTED_OUTCOMES:
        reports.add_metric([OUTCOME_LABELS[outcome]], by_outcome[outcome])
    rejected = CounterMetricFamily(PREFIX + "reports_rejected", "Reports rejected, by reason",
                                   labels=["reason"])
    for reason in REJECTION_REASONS:
        rejected.add_metric([reason], by_reason[reason])
    # cumulative, as Prometheus has them (a bound counted by an earlier
    # list of buckets goes in every bucket at or above it)
    buckets = [(floatToGoString(bound / 1000.0),
                sum(count for counted, count in numbers.durations.items() if counted <= bound))
               for bound in DURATION_BUCKETS_MS]
    buckets.append(("+Inf", sum(numbers.durations.values())))
    duration = HistogramMetricFamily(
        PREFIX + "ingest_duration_seconds", "Time from a report's body read to its answer: "
        "decryption, verification, parsing and storage", buckets=buckets,
        sum_value=numbers.duration_sum)
    shown = [reports, rejected, duration,
             gauge("quarantine_reports", "Reports in the quarantine, waiting for the officer",
                   numbers.quarantined),
             gauge("quarantine_bytes", "Bytes of the reports in the quarantine",
                   numbers.quarantine_bytes),
             gauge("hosts", "Hosts with a report applied", numbers.hosts),
             gauge("sites", "Sites with a host that has a report applied", numbers.sites),
             gauge("hosts_silent", "Hosts whose latest report is older than [officer] "
                   "stale_days", numbers.silent_hosts),
             gauge("schema_version", "The database's schema version", numbers.schema_version)]
    newest = GaugeMetricFamily(PREFIX + "newest_report_age_seconds",
                               "Seconds since the newest report was received (none: no "
                               "report yet)")
    if numbers.newest_report is not None:
        newest.add_metric([], max(0, now - numbers.newest_report))
    imported = GaugeMetricFamily(PREFIX + "advisories_last_import_timestamp_seconds",
                                 "When advisories were last imported, Unix time (none: never)")
    if numbers.advisories_imported is not None:
        imported.add_metric([], numbers.advisories_imported)
    info = InfoMetricFamily(PREFIX + "build", "The collector's version and the schema it "
                            "needs", value={"version": __version__,
                                            "schema": str(SCHEMA_VERSION)})
    return shown + [newest, imported, info]


def exposition(numbers, now):
    """(body bytes, content type) of the families, in Prometheus' text
    format. ImportError when prometheus_client is not installed."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    class Snapshot(object):
        def collect(self):
            return families(numbers, now)

    # a registry of its own: the library's default one holds the numbers
    # of this one process (its CPU, its memory), which are not the collector's
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Snapshot())
    return generate_latest(registry), CONTENT_TYPE_LATEST

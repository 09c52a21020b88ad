"""Storage: hosts, shared package rows, install intervals and the report
audit trail, on SQLite (standard library) or MySQL/MariaDB (PyMySQL).

    url.py            database URLs
    dialect.py        what every dialect must provide (the base class)
    errors.py         what storage raises (never the driver's exceptions)
    sqlite.py         the SQLite dialect: connections, errors, its own SQL
    mysql.py          the MySQL dialect: the same for MySQL and MariaDB
    mysql_statements.py its own SQL (MySQLSQL)
    statements.py     the SQL both dialects share, and the records of the
                      rows read by name that it yields (HostState, ...)
    database.py       connections and transactions (retries, unavailability)
    schema.py         creating and upgrading the schema
    packages.py       package rows: their key and the ids kept in memory
    writer.py         storing one report (the only writer of hosts and installs)
    quotas.py         its bounds: new hosts, a day's changes, the quarantine
    hosts.py          reads of one host or site
    baseline_store.py stored baselines
    holders_cache.py  compare's holders kept between runs
    fleet.py          the officer's reads over the whole fleet
    review.py         the quarantine, keys and rollback: the officer's repairs
    site_store.py     the list of sites, and renames and merges of sites
    contact_store.py  whom the sites name (GOCDB's contacts and CSIRT addresses)
    campaign_store.py campaigns with deadlines, and the notices sent for them
    advisory_store.py security advisories: imports and the reads exposure needs
    metrics_store.py  what /metrics counts and reads, the same for every process
    tag_store.py      tags on advisories and CVEs, and imports of tags and exceptions
    exception_store.py exceptions to what advisories find (never deleted, ended)
    tag_statements.py the SQL of tags and exceptions, and their records
    advisory_statements.py the SQL of advisories, and their records
    fleet_statements.py the SQL of the reads over the whole fleet
    metrics_statements.py the SQL of /metrics: indexed counts and small tables
    bulk.py           bulk loads of a whole history (benchmarks, tests)
    testing.py        store.testing: bulk loads, row counts, schema shapes (tests only)
    records.py        the named records every read returns

Only the dialect modules know which database they talk to: everything else
uses the statements and methods a dialect provides (see dialect.Dialect).
"""

import functools

from .advisory_store import AdvisoryStore, UnknownAdvisory
from .baseline_store import BaselineStore
from .campaign_store import CampaignStore
from .contact_store import ContactStore
from .database import READ_CONNECTIONS, Database
from .exception_store import ExceptionStore
from .errors import (QuotaExceeded, RetiredBaseline, StoreError, StoreFault, StoreUnavailable,
                     UnknownBaseline, UnknownHost, UnknownQuarantined, ValueRefused)
from .fleet import FleetQueries
from .holders_cache import HoldersCache
from .hosts import HostReads
from .metrics_store import MetricsStore
from .packages import PACKAGE_CACHE_LIMIT
from .quotas import Quotas
from .records import IngestResult, PendingReport
from .review import Review
from .schema import SCHEMA_VERSION, Schema
from .site_store import SiteError, SiteStore
from .tag_store import TagStore
from .url import parse_database_url, redact
from .writer import DEFAULT_LIMITS, Limits, ReportWriter

__all__ = ["open_store", "Store", "StoreError", "StoreFault", "StoreUnavailable", "ValueRefused",
           "UnknownHost", "UnknownBaseline", "RetiredBaseline", "UnknownQuarantined", "QuotaExceeded", "IngestResult",
           "PendingReport", "Limits", "DEFAULT_LIMITS", "SCHEMA_VERSION", "PACKAGE_CACHE_LIMIT",
           "READ_CONNECTIONS", "parse_database_url", "redact", "UnknownAdvisory", "SiteError"]


class Store(object):
    """The storage the collector, the CLI and the tests use: one Database
    (connections, transactions, the dialect) shared by parts, each with
    its own state and tables, that use one another through public methods
    only. A caller names the part it uses: store.sites.move(...),
    store.fleet.hosts_at(...)."""

    def __init__(self, dialect, package_cache=PACKAGE_CACHE_LIMIT,
                 read_connections=READ_CONNECTIONS):
        self.db = Database(dialect, read_connections)
        self.schema = Schema(self.db)
        self.sites = SiteStore(self.db)
        self.quotas = Quotas(self.db)
        self.writer = ReportWriter(self.db, self.sites, self.quotas, package_cache)
        self.hosts = HostReads(self.db, self.sites)
        self.fleet = FleetQueries(self.db)
        self.baselines = BaselineStore(self.db)
        self.advisories = AdvisoryStore(self.db)
        self.review = Review(self.db, self.writer, self.hosts)
        self.holders = HoldersCache(self.db)
        self.campaigns = CampaignStore(self.db)
        self.contacts = ContactStore(self.db)
        self.exceptions = ExceptionStore(self.db)
        self.tags = TagStore(self.db, self.exceptions)
        self.metrics = MetricsStore(self.db)

    @functools.cached_property
    def testing(self):
        """What only tests and benchmarks ask (testing.Testing): made on
        first use, never by the collector itself."""
        from .testing import Testing
        return Testing(self.db)

    def close(self):
        try:
            self.metrics.close()  # (the counts this process kept)
        except StoreError:  # the database is away: they are lost, nothing else
            pass
        self.db.close()


def open_store(url, package_cache=PACKAGE_CACHE_LIMIT, read_connections=READ_CONNECTIONS):
    """A Store for the database URL; package_cache: how many package ids
    it may keep in memory (0: none); read_connections: how many
    connections a whole-fleet read uses at once."""
    params = parse_database_url(url)
    if params["kind"] == "sqlite":
        from .sqlite import SQLiteDialect
        return Store(SQLiteDialect(params), package_cache, read_connections)
    from .mysql import MySQLDialect
    return Store(MySQLDialect(params), package_cache, read_connections)

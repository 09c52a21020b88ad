"""The schema: sql/<dialect>.sql makes it, sql/upgrades/<dialect>/N-M.sql
moves it one version on, and the schema_version table says where it is."""

import os
import sys
from collections import defaultdict

from ..site_names import site_key
from .database import Part
from .errors import SchemaNotCurrent, StoreError
from .open_sets import rebuild_all

SCHEMA_VERSION = 13


def canonical_identity(site, name):
    """(site, host) as the collector compares them from schema 4 on: site
    names without regard to case, host names lower case without a trailing
    dot."""
    name = name.lower()
    return site_key(site), name[:-1] if name.endswith(".") else name


def merge_duplicate_hosts(db):
    """Before schema 4: hosts that were one host under two spellings (a site
    in another case, a host name with a trailing dot) become one, keeping
    every interval and report. The host heard from last keeps its row; the
    intervals the others left open are closed just after their last report
    (that spelling reported no more), then move to it. Returns how many
    rows went."""
    sql = db.sql

    def work(cursor):
        cursor.execute(sql.SELECT_HOST_IDENTITIES)
        groups = defaultdict(list)
        for host_id, site, name, first, last in cursor.fetchall():
            groups[canonical_identity(site, name)].append((last, -host_id, name, first))
        merged = 0
        for (_, name), members in groups.items():
            members.sort(reverse=True)
            survivor = -members[0][1]
            for last, negative_id, _, _ in members[1:]:
                other = -negative_id
                cursor.execute(sql.CLOSE_OPEN_INTERVALS, (last + 1, other))
                cursor.execute(sql.MOVE_INSTALLS, (survivor, other))
                cursor.execute(sql.DELETE_HOST_INSTALLS, (other,))
                cursor.execute(sql.MOVE_REPORTS, (survivor, other))
                cursor.execute(sql.DELETE_HOST, (other,))
                merged += 1
            if len(members) > 1 or members[0][2] != name:
                cursor.execute(sql.RENAME_HOST, (name, min(m[3] for m in members), survivor))
        return merged
    return db.transaction(work)


# work done in Python before an upgrade file, and after one (version it
# upgrades to: function of the Database)
BEFORE_UPGRADE = {4: merge_duplicate_hosts}
AFTER_UPGRADE = {12: rebuild_all}  # each host's open set, from its intervals


def sql_dir():
    """Where the schema files are: a checkout, a pip install or the RPM."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [os.environ.get("WLCG_COLLECTOR_SQL"),
                  os.path.join(os.path.dirname(package), "sql"),
                  os.path.join(sys.prefix, "share", "wlcg-collector", "sql"),
                  "/usr/share/wlcg-collector/sql"]
    for candidate in candidates:
        if candidate and os.path.isfile(os.path.join(candidate, "sqlite.sql")):
            return candidate
    raise StoreError("schema files not found (looked in %s)"
                     % ", ".join(c for c in candidates if c))


class Schema(Part):
    """The schema's version, creating and upgrading it (tables: schema_version)."""

    def __init__(self, db):
        Part.__init__(self, db)
        # what init() has to say about a database it made (the dialect's
        # after_create), or None
        self.init_note = None

    def version(self):
        """The version the database is at; None when it has no schema."""
        def work(cursor):
            if not self.dialect.table_exists(cursor, "schema_version"):
                return None
            cursor.execute(self.sql.SELECT_SCHEMA_VERSION)
            return cursor.fetchone()[0]
        return self.db.transaction(work, write=False)

    def run_file(self, path):
        """Run one schema or upgrade file as it is (tests use it to make
        databases of older versions)."""
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            self.dialect.run_script(self.db.connection(), text)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError("schema file %s: %s" % (path, exc))

    def init(self):
        """Create the schema, or upgrade it to SCHEMA_VERSION; returns
        (old version or None, new version)."""
        new = not self.dialect.exists()
        self.init_note = None
        try:
            current = self.version()
            directory = sql_dir()
            if current is not None and current > SCHEMA_VERSION:
                raise StoreError("database schema version %d is newer than this collector's "
                                 "(%d): upgrade the collector" % (current, SCHEMA_VERSION))
            if current is None:
                self.run_file(os.path.join(directory, "%s.sql" % self.dialect.name))
            else:
                for version in range(current, SCHEMA_VERSION):
                    if version + 1 in BEFORE_UPGRADE:
                        BEFORE_UPGRADE[version + 1](self.db)
                    self.run_file(os.path.join(directory, "upgrades", self.dialect.name,
                                               "%d-%d.sql" % (version, version + 1)))
                    if version + 1 in AFTER_UPGRADE:
                        AFTER_UPGRADE[version + 1](self.db)
            result = current, self.version()
        except BaseException:
            if new:  # leave no empty database behind
                self.db.drop_connection()
                self.dialect.discard_new()
            raise
        if new:
            self.init_note = self.dialect.after_create()
        return result

    def answers(self, timeout):
        """Whether the database answers a trivial query (its schema's
        version) within about `timeout` seconds, on a connection of its
        own: what a load balancer's health check asks."""
        return self.dialect.answers(self.sql.SELECT_SCHEMA_VERSION, timeout)

    def check_writable(self):
        """StoreError unless this process may write the database."""
        self.dialect.check_writable()

    def check(self):
        """SchemaNotCurrent unless the database has this collector's schema."""
        version = self.version()
        if version != SCHEMA_VERSION:
            raise SchemaNotCurrent(version, SCHEMA_VERSION)

    def storage_bytes(self):
        """Bytes the tables and indexes take, compacted first (so that two
        sizes compare data, not free space in pages)."""
        return self.dialect.storage_bytes(self.db.connection())


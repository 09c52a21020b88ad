"""The schema: sql/<dialect>.sql makes it, sql/upgrades/<dialect>/N-M.sql
moves it one version on, and the schema_version table says where it is."""

import os
import sys

from .errors import StoreError

SCHEMA_VERSION = 4


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


class Schema(object):
    """Mixed into Store."""

    def schema_version(self):
        """The version the database is at; None when it has no schema."""
        def work(cursor):
            if not self.dialect.table_exists(cursor, "schema_version"):
                return None
            cursor.execute(self.sql.SELECT_SCHEMA_VERSION)
            return cursor.fetchone()[0]
        return self.transaction(work, write=False)

    def run_schema_file(self, path):
        """Run one schema or upgrade file as it is (tests use it to make
        databases of older versions)."""
        with open(path) as handle:
            text = handle.read()
        try:
            self.dialect.run_script(self._connection(), text)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError("schema file %s: %s" % (path, exc))

    def init_schema(self):
        """Create the schema, or upgrade it to SCHEMA_VERSION; returns
        (old version or None, new version)."""
        new = not self.dialect.exists()
        self.init_note = None
        try:
            current = self.schema_version()
            directory = sql_dir()
            if current is not None and current > SCHEMA_VERSION:
                raise StoreError("database schema version %d is newer than this collector's "
                                 "(%d): upgrade the collector" % (current, SCHEMA_VERSION))
            if current is None:
                self.run_schema_file(os.path.join(directory, "%s.sql" % self.dialect.name))
            else:
                for version in range(current, SCHEMA_VERSION):
                    self.run_schema_file(os.path.join(directory, "upgrades", self.dialect.name,
                                                      "%d-%d.sql" % (version, version + 1)))
            result = current, self.schema_version()
        except BaseException:
            if new:  # leave no empty database behind
                self._drop_connection()
                self.dialect.discard_new()
            raise
        if new:
            self.init_note = self.dialect.after_create()
        return result

    def check_writable(self):
        """StoreError unless this process may write the database."""
        self.dialect.check_writable()

    def check_schema(self):
        version = self.schema_version()
        if version is None:
            raise StoreError("database has no schema: run wlcg-collector init-db")
        if version != SCHEMA_VERSION:
            raise StoreError("database schema version is %s, this collector needs %d: run "
                             "wlcg-collector init-db" % (version, SCHEMA_VERSION))

    def storage_bytes(self):
        """Bytes the tables and indexes take, compacted first (so that two
        sizes compare data, not free space in pages)."""
        return self.dialect.storage_bytes(self._connection())

    def schema_shape(self):
        """The tables, columns, indexes and foreign keys as the database
        reports them: two databases of one dialect with equal shapes have
        the same schema."""
        return self.transaction(self.dialect.schema_shape, write=False)

"""What only tests and benchmarks ask of a store (store.testing): bulk
loads of a whole history, row counts and the schema's shape. Production
code never uses it."""

from .bulk import BulkLoader

TABLES = ("hosts", "packages", "installs", "reports")


class Testing(BulkLoader):
    """bulk.BulkLoader, and the counts and shapes tests compare."""

    def row_counts(self):
        """{table: rows} of the four tables that grow."""
        return {table: self.db.read(self.sql.COUNT_ROWS.format(table=table))[0][0]
                for table in TABLES}

    def orphan_intervals(self):
        """How many intervals name a host or package row that does not exist:
        always 0 (installs has no foreign keys to say so itself)."""
        return self.db.read(self.sql.COUNT_ORPHAN_INTERVALS)[0][0]

    def schema_shape(self):
        """The tables, columns, indexes and foreign keys as the database
        reports them: two databases of one dialect with equal shapes have
        the same schema."""
        return self.db.transaction(self.dialect.schema_shape, write=False)

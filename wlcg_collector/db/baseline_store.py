"""Stored baselines: the officer's reference versions, one revision per
`baseline add`, never changed afterwards."""

from ..closest import closest_names
from .database import Part
from .errors import DuplicateRow, StoreError, UnknownBaseline
from .records import Baseline, BaselineInfo


class BaselineStore(Part):
    """The officer's baselines (table: baselines)."""

    def add(self, name, text, created):
        """Store a new revision of baseline `name`; returns the revision."""
        sql = self.sql

        def work(cursor):
            cursor.execute(sql.SELECT_BASELINE_REVISION, (name,))
            revision = (cursor.fetchone()[0] or 0) + 1
            self.db.execute_unique(cursor, sql.INSERT_BASELINE, (name, revision, created, text))
            return revision
        try:
            return self.db.transaction(work)
        except DuplicateRow:
            raise StoreError("baseline %r was changed at the same time: try again" % name)

    def latest(self):
        """[BaselineInfo] of the latest revision of each, by name."""
        return self.db.read(self.sql.SELECT_BASELINES, (), BaselineInfo)

    def get(self, name, revision=None):
        """Baseline `name` at `revision` (default: the latest)."""
        if revision is None:
            revision = self.db.read(self.sql.SELECT_BASELINE_REVISION, (name,))[0][0]
        row = self.db.read_one(self.sql.SELECT_BASELINE, (name, revision)) if revision else None
        if row is None:
            if revision:  # a revision that is not there: the name is right
                raise UnknownBaseline("unknown baseline %r revision %s" % (name, revision))
            stored = [info.name for info in self.latest()]
            raise UnknownBaseline("unknown baseline %r" % name, closest_names(name, stored),
                                  stored)
        return Baseline(*row)

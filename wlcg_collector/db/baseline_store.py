"""Stored baselines: the officer's reference versions, one revision per
`baseline add`, never changed afterwards. `baseline delete` retires one
with a revision of its own (RETIRED_TEXT): its revisions stay, read as
NAME@REVISION, and the next `baseline add` brings it back."""

from ..closest import closest_names
from .database import Part
from .errors import DuplicateRow, RetiredBaseline, StoreError, UnknownBaseline
from .records import Baseline, BaselineInfo

# the text of the revision that retires a baseline: one `add` never stores
# (a baseline without a requirement is refused)
RETIRED_TEXT = "# retired (baseline delete)\n"


class BaselineStore(Part):
    """The officer's baselines (table: baselines)."""

    def add(self, name, text, created):
        """Store a new revision of baseline `name`; returns the revision."""
        return self._add(name, text, created)

    def retire(self, name, created):
        """Retire baseline `name` (a revision of RETIRED_TEXT); returns the
        revision. UnknownBaseline if there is none; RetiredBaseline if it
        is retired already."""
        revision = self._add(name, RETIRED_TEXT, created, retiring=True)
        if revision is None:
            try:
                self.get(name)  # (UnknownBaseline, with the names meant)
            except RetiredBaseline:
                raise RetiredBaseline("baseline %r is retired already" % name)
            raise StoreError("baseline %r was changed at the same time: try again" % name)
        return revision

    def _add(self, name, text, created, retiring=False):
        """The new revision; None when retiring a baseline that is not
        there or is retired already."""
        sql = self.sql

        def work(cursor):
            cursor.execute(sql.SELECT_BASELINE_REVISION, (name,))
            latest = cursor.fetchone()[0] or 0
            if retiring:
                cursor.execute(sql.SELECT_BASELINE, (name, latest))
                row = cursor.fetchone()
                if row is None or Baseline(*row).text == RETIRED_TEXT:
                    return None
            self.db.execute_unique(cursor, sql.INSERT_BASELINE, (name, latest + 1, created, text))
            return latest + 1
        try:
            return self.db.transaction(work)
        except DuplicateRow:
            raise StoreError("baseline %r was changed at the same time: try again" % name)

    def latest(self, retired=False):
        """[BaselineInfo] of the latest revision of each, by name; those
        retired only if asked (`retired`)."""
        return [info._replace(retired=bool(info.retired)) for info in self.db.read(
            self.sql.SELECT_BASELINES, (RETIRED_TEXT,), BaselineInfo)
            if retired or not info.retired]

    def get(self, name, revision=None):
        """Baseline `name` at `revision` (default: the latest; a retired
        one is RetiredBaseline, its revisions are not)."""
        latest = revision is None
        if latest:
            revision = self.db.read(self.sql.SELECT_BASELINE_REVISION, (name,))[0][0]
        row = self.db.read_one(self.sql.SELECT_BASELINE, (name, revision)) if revision else None
        if row is None:
            if revision:  # a revision that is not there: the name is right
                raise UnknownBaseline("unknown baseline %r revision %s" % (name, revision))
            stored = [info.name for info in self.latest()]
            raise UnknownBaseline("unknown baseline %r" % name, closest_names(name, stored),
                                  stored)
        baseline = Baseline(*row)
        if latest and baseline.text == RETIRED_TEXT:
            raise RetiredBaseline("baseline %r is retired: name one of its revisions, %s@1 to "
                                  "%s@%d" % (name, name, name, revision - 1))
        return baseline

"""Tags on advisories: a tag names advisories (by ident) and CVEs (every
advisory naming the CVE, those imported later too, resolved when asked).
A target is never deleted: unapplied, it is dated, so that a tag can be
read as it stood at a past time. The rules of what a tag may be called
and name are advisories/tags.py's."""

from collections import namedtuple

from ..advisories.tags import ADVISORY, CVE
from ..statuses import UNCHANGED
from .database import Part, chunks
from .errors import DuplicateRow, StoreError
from .tag_statements import Tag, TagTarget

# what `add` did to a tag: ADDED, UPDATED or statuses.UNCHANGED
ADDED = "added"
UPDATED = "updated"

# import_decisions(): what an import changed
ImportCounts = namedtuple("ImportCounts", "tags_added tags_updated tags_unchanged "
                                          "exceptions_added exceptions_updated "
                                          "exceptions_unchanged")


class UnknownTag(StoreError):
    pass


class UnknownTarget(StoreError):
    """An advisory that is not stored, or a CVE no stored advisory names."""


class NotApplied(StoreError):
    """A tag does not name what was to be taken off it."""


def describe_target(kind, value):
    return "no stored advisory %s" % value if kind == ADVISORY else \
        "no stored advisory names %s" % value


class TagStore(Part):
    """Tags (tables: advisory_tags, advisory_tag_targets); `exceptions`
    (exception_store.ExceptionStore) writes an import's exceptions in the
    same transaction as its tags."""

    def __init__(self, db, exceptions):
        Part.__init__(self, db)
        self.exceptions = exceptions

    # -- tags

    def add(self, name, url, description, now, who):
        """Make a tag, or give the tag of that name (any case) this url
        and description (None: kept as it is). ADDED, UPDATED or
        UNCHANGED."""
        sql = self.sql

        def work(cursor):
            tag = self._tag(cursor, name, missing_ok=True)
            if tag is None:
                try:
                    self.db.execute_unique(cursor, sql.INSERT_TAG, (name, url, description, now,
                                                                    who, now))
                except DuplicateRow:
                    raise StoreError("tag %s was made by another command meanwhile: run it "
                                     "again" % name)
                return ADDED
            values = (tag.url if url is None else url,
                      tag.description if description is None else description)
            if values == (tag.url, tag.description):
                return UNCHANGED
            cursor.execute(sql.UPDATE_TAG, values + (now, tag.id))
            return UPDATED
        return self.db.transaction(work)

    def get(self, name):
        """The Tag of that name (any case); UnknownTag."""
        return self.db.transaction(lambda cursor: self._tag(cursor, name), write=False)

    def listed(self):
        """[Tag] by name."""
        return sorted(self.db.read(self.sql.SELECT_TAGS, (), Tag), key=lambda t: t.name.lower())

    def _tag(self, cursor, name, missing_ok=False):
        cursor.execute(self.sql.SELECT_TAG, (name,))
        row = cursor.fetchone()
        if row is None:
            if missing_ok:
                return None
            raise UnknownTag("no tag %s" % name)
        return Tag._make(row)

    # -- what a tag names

    def apply(self, name, targets, now, who):
        """Tag these targets ([(ADVISORY, ident) or (CVE, id)]): each must
        name a stored advisory, else UnknownTarget naming the first that
        does not, and nothing is written. (applied, already tagged)."""
        sql = self.sql
        targets = list(dict.fromkeys(targets))

        def work(cursor):
            tag = self._locked(cursor, name)
            found = self._advisories_of(cursor, targets)
            for target in targets:
                if not found.get(target):
                    raise UnknownTarget(describe_target(*target))
            applied = self._open_targets(cursor, tag.id)
            new = [target for target in targets if target not in applied]
            cursor.executemany(sql.INSERT_TAG_TARGET, [(tag.id, kind, value, now, who)
                                                      for kind, value in new])
            if new:
                cursor.execute(sql.TOUCH_TAG, (now, tag.id))
            return len(new), len(targets) - len(new)
        return self.db.transaction(work)

    def unapply(self, name, targets, now, who):
        """Take these targets off a tag (each must be on it, else
        NotApplied and nothing is written); how many."""
        sql = self.sql
        targets = list(dict.fromkeys(targets))

        def work(cursor):
            tag = self._locked(cursor, name)
            applied = self._open_targets(cursor, tag.id)
            for kind, value in targets:
                if (kind, value) not in applied:
                    raise NotApplied("tag %s does not name %s" % (tag.name, value))
            for target in targets:
                cursor.execute(sql.REMOVE_TAG_TARGET, (now, who, applied[target].id))
            cursor.execute(sql.TOUCH_TAG, (now, tag.id))
            return len(targets)
        return self.db.transaction(work)

    def _locked(self, cursor, name):
        """The Tag, its row locked until the commit (two changes of a tag
        one after the other)."""
        tag = self._tag(cursor, name)
        cursor.execute(self.sql.TOUCH_TAG, (tag.changed, tag.id))
        return tag

    def _open_targets(self, cursor, tag_id):
        """{(kind, target): TagTarget} of a tag's targets not taken off."""
        return {(t.kind, t.target): t for t in self._targets(cursor, tag_id, None)}

    def _targets(self, cursor, tag_id, at):
        where, params = [], []
        if tag_id is not None:
            where.append("tag_id = " + self.dialect.placeholder)
            params.append(tag_id)
        if at is None:
            where.append("removed IS NULL")
        else:
            where.append("added <= %s AND (removed IS NULL OR removed > %s)"
                         % (self.dialect.placeholder, self.dialect.placeholder))
            params += [at, at]
        cursor.execute(self.sql.SELECT_TAG_TARGETS.format(where=" WHERE " + " AND ".join(where)),
                       params)
        return [TagTarget._make(row) for row in cursor.fetchall()]

    def targets(self, name=None, at=None):
        """[TagTarget] of one tag (None: of every tag) as it stood at `at`
        (None: now), oldest first."""
        def work(cursor):
            tag_id = self._tag(cursor, name).id if name is not None else None
            return self._targets(cursor, tag_id, at)
        return self.db.transaction(work, write=False)

    def history(self, name):
        """[TagTarget] of a tag ever, those taken off too."""
        def work(cursor):
            tag = self._tag(cursor, name)
            cursor.execute(self.sql.SELECT_TAG_TARGETS.format(
                where=" WHERE tag_id = " + self.dialect.placeholder), (tag.id,))
            return [TagTarget._make(row) for row in cursor.fetchall()]
        return self.db.transaction(work, write=False)

    def advisories_of(self, targets):
        """{(kind, value): [advisory id]} of (ADVISORY, ident) and (CVE, id)
        pairs: the stored advisories each names now."""
        targets = set(targets)
        return self.db.transaction(lambda cursor: self._advisories_of(cursor, targets),
                                   write=False)

    def _advisories_of(self, cursor, targets):
        found = {}
        for kind, statement in ((ADVISORY, self.sql.SELECT_ADVISORY_IDENTS),
                                (CVE, self.sql.SELECT_CVE_ADVISORIES)):
            values = sorted({value for k, value in targets if k == kind})
            for chunk in chunks(values):
                cursor.execute(statement.format(marks=self.db.marks(len(chunk))), chunk)
                for value, advisory_id in cursor.fetchall():
                    found.setdefault((kind, value), []).append(advisory_id)
        return found

    def advisory_ids(self, name, at=None):
        """The ids of the stored advisories a tag names as it stood at `at`
        (None: now); UnknownTag."""
        named = self.advisories_of((t.kind, t.target) for t in self.targets(name, at))
        return {advisory_id for ids in named.values() for advisory_id in ids}

    def names_of(self, at=None):
        """{advisory id: [tag name]} of every tagged advisory (tags as they
        stood at `at`; None: now)."""
        names = {tag.id: tag.name for tag in self.listed()}
        targets = self.targets(None, at)
        named = self.advisories_of((t.kind, t.target) for t in targets)
        found = {}
        for target in targets:
            for advisory_id in named.get((target.kind, target.target), ()):
                tags = found.setdefault(advisory_id, [])
                if names[target.tag_id] not in tags:
                    tags.append(names[target.tag_id])
        return {advisory_id: sorted(tags, key=str.lower) for advisory_id, tags in found.items()}

    # -- export and import

    def exported(self):
        """[(Tag, [TagTarget now on it])] by name."""
        targets = {}
        for target in self.targets():
            targets.setdefault(target.tag_id, []).append(target)
        return [(tag, targets.get(tag.id, [])) for tag in self.listed()]

    def import_decisions(self, tags, exceptions, now, who):
        """Take the tags and exceptions of a document in one transaction:
        a tag it names becomes what it says (url, description, targets:
        those it lacks are taken off, by `who`, at `now`); a tag it does not
        name is left alone; exceptions are merged by identity
        (exception_store.merge). `tags`: records with name, url,
        description, created, created_by and targets [(kind, value, added,
        added_by)]. ImportCounts."""
        sql = self.sql

        def work(cursor):
            counts = [0, 0, 0]  # added, updated, unchanged
            for tag in tags:
                stored = self._tag(cursor, tag.name, missing_ok=True)
                new = stored is None
                if new:
                    cursor.execute(sql.INSERT_TAG, (tag.name, tag.url, tag.description,
                                                    tag.created, tag.created_by, now))
                    stored = self._tag(cursor, tag.name)
                    changed = False
                else:
                    cursor.execute(sql.TOUCH_TAG, (stored.changed, stored.id))  # its lock
                    changed = (tag.url, tag.description) != (stored.url, stored.description)
                    if changed:
                        cursor.execute(sql.UPDATE_TAG, (tag.url, tag.description, now,
                                                        stored.id))
                applied = self._open_targets(cursor, stored.id)
                wanted = {(kind, value): (added, added_by)
                          for kind, value, added, added_by in tag.targets}
                moved = False
                for (kind, value), (added, added_by) in sorted(wanted.items()):
                    if (kind, value) not in applied:
                        cursor.execute(sql.INSERT_TAG_TARGET, (stored.id, kind, value, added,
                                                               added_by))
                        moved = True
                for target, row in applied.items():
                    if target not in wanted:
                        cursor.execute(sql.REMOVE_TAG_TARGET, (now, who, row.id))
                        moved = True
                if moved and not new:
                    cursor.execute(sql.TOUCH_TAG, (now, stored.id))
                counts[0 if new else 1 if changed or moved else 2] += 1
            return counts + list(self.exceptions.merge(cursor, exceptions))
        return ImportCounts(*self.db.transaction(work))

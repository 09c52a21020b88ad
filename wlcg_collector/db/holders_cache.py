"""compare's holders kept between runs (table holders_cache): rows of
bytes the compliance cache (wlcg_collector/compliance_cache.py) makes and
reads. Only a cache: a row lost, refused or unreadable costs one full
compare, never a wrong answer."""

from .database import Part
from .records import CachedHolders

# the rows kept (the newest); each is a baseline's set of package names
HOLDERS_KEPT = 20


class HoldersCache(Part):
    """compare's holders kept between runs (table: holders_cache)."""

    def site_moves(self):
        """A text that changes with every rename or merge of sites."""
        count, last = self.db.read(self.sql.SELECT_SITE_MOVES)[0]
        return "%d:%d" % (count, last or 0)

    def cached(self, names_hash):
        """The CachedHolders of these names, or None."""
        rows = self.db.read(self.sql.SELECT_HOLDERS_CACHE, (names_hash,), CachedHolders)
        if not rows:
            return None
        return rows[0]._replace(set_reports=bytes(rows[0].set_reports),
                                holders=bytes(rows[0].holders))

    def touch(self, names_hash, now):
        """The row of these names found current at `now`: it counts as
        new again, so that rows of other names do not push it out.
        errors.DatabaseRefused if the database refuses it."""
        self.db.transaction(lambda cursor: cursor.execute(self.sql.TOUCH_HOLDERS_CACHE,
                                                          (now, names_hash)),
                            refused="holders_cache")

    def keep(self, names_hash, cached):
        """Keep a CachedHolders for these names (replacing the one kept),
        and only the HOLDERS_KEPT newest of all. StoreError if the database
        refuses it (a row larger than it takes, say)."""
        sql = self.sql

        def work(cursor):
            cursor.execute(sql.REPLACE_HOLDERS_CACHE, (names_hash, cached.moves, cached.computed,
                                                       cached.set_reports, cached.holders))
            cursor.execute(sql.SELECT_HOLDERS_CACHE_AGES)
            for (old,) in cursor.fetchall()[HOLDERS_KEPT:]:
                cursor.execute(sql.DELETE_HOLDERS_CACHE, (old,))
        self.db.transaction(work, refused="holders_cache")

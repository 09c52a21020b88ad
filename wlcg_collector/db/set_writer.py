"""A host's package set replaced by a report's, inside the report's
transaction: the intervals of the packages gone closed, those of the new
ones opened, and the host's open set (open_sets.py) written with them, so
that the next changed report compares with it and not with the host's
open rows. The writer (writer.py) decides whether a report changes the
set; this part only changes it, and, after the report's transaction,
gives the package rows the source names an applied report tells."""

from .database import Part, chunks
from .errors import StoreError
from .open_sets import ids_of, pack, read_open_ids
from .packages import find_or_create_ids, package_key, record_sources


class HostSetWriter(Part):
    """The intervals and open set of a host, as a report replaces them; the
    package rows it needs found or made, and given the source names an
    applied report tells (package_ids, package_sources: what the process
    knows of them, shared with the writer)."""

    def __init__(self, db, package_ids, package_sources):
        Part.__init__(self, db)
        self.package_ids = package_ids
        self.package_sources = package_sources
        # the dialect's statement that writes a host's row and its open set
        # at once (MySQL's multi-table UPDATE), None where there is none
        self.joined_update = getattr(self.sql, "UPDATE_HOST_STATE_AND_SET", None)

    def replace(self, cursor, host, found, report, collected, learned, created):
        """Close the intervals of the packages gone, open those of the new
        ones, and write the host's open set (open_sets.py); the sets
        compare as package ids, the host's as its stored open set (read
        with its row: its open intervals are not read). The ids found or
        made earlier in this transaction (`learned`: by the reports before
        this one in a batch; the rows made go in `created`) are known too.
        Returns (intervals closed and opened, opened, the open set when the
        host's row is to carry it: see joined_update)."""
        sql = self.sql
        wanted = set(find_or_create_ids(
            self.dialect, cursor, self.package_ids.table(report.packager), report.packager,
            report.lines, learned, report.sources, created))
        stored = ids_of(found.open_ids, host.set_hash, host.package_count)
        if stored is not None:
            current = set(stored)
        elif found.has_set or host.set_hash is not None:
            # no open set stored (or not read), or one not written with the
            # host's present set (open_sets.ids_of: by a collector that
            # does not know host_sets, or restored from another day): the
            # open intervals, once
            current = read_open_ids(sql, cursor, host.id)
        else:  # a host's first applied report finds nothing open
            current = set()
        gone = sorted(current - wanted)
        new = sorted(wanted - current)  # in key order: the rows go in one after another
        for chunk in chunks(gone):
            marks = self.db.marks(len(chunk))
            if collected <= host.last_report:
                # opened by a report of this same time: an interval that would
                # end where it began never existed
                self.db.defer(cursor, sql.DELETE_OPENED_SINCE.format(marks=marks),
                              [host.id, collected] + chunk)
            self.db.defer(cursor, sql.CLOSE_INSTALLS.format(marks=marks),
                          [collected, host.id] + chunk)
        if new:
            self.dialect.insert_installs(cursor, host.id, new, collected)
        open_set = pack(wanted, report.set_hash)
        if not found.has_set:
            self.db.defer(cursor, sql.REPLACE_HOST_SET, (host.id, open_set))
        elif self.joined_update is None:
            self.db.defer(cursor, sql.UPDATE_HOST_SET, (open_set, host.id))
        else:
            return len(gone) + len(new), len(new), open_set  # with the host's row
        return len(gone) + len(new), len(new), None

    def record_sources(self, report):
        """The source package names an applied report gives, for the
        package rows that have none yet; after the report's own
        transaction, in one of their own (the report is stored whatever
        happens here: a row left without its source gets it from a later
        report)."""
        settled = self.package_sources.settled(report.packager)
        if settled.issuperset(report.lines):
            return  # the common case, at C speed
        known = self.package_ids.table(report.packager)
        claims, unknown, claimed = {}, {}, []
        for line in report.lines:
            source = report.sources.get(line[:line.index("\t")])
            if source is None or line in settled:
                continue
            claimed.append(line)
            if line in known:
                claims[known[line]] = source
            else:
                unknown[package_key(report.packager, *line.split("\t"))] = (line, source)
        if not claimed:
            return
        learned = {}

        def work(cursor):
            learned.clear()
            found = dict(claims)
            for key, package_id in self.dialect.select_package_ids(cursor, unknown).items():
                line, found[package_id] = unknown[key]
                learned[line] = package_id
            record_sources(self.sql, cursor, self.db.marks, found)
        try:
            self.db.transaction(work)
        except StoreError:
            return
        self.package_ids.add(report.packager, learned)
        self.package_sources.settle(report.packager, claimed)

"""Package rows: one per distinct (packager, name, version, arch), shared by
every host that has it, found by its key; and the ids a process keeps in
memory, by a package's stored-form line ("name TAB version TAB arch", as
report.Report.lines gives them), so that the packages a report shares
with what the process has met are found without being split into their
fields."""

import hashlib

from ..package_lines import split_lines
from .database import chunks
from .errors import StoreError

# package ids a Store keeps in memory (about 150 bytes each, a line and its id)
PACKAGE_CACHE_LIMIT = 100000


def package_key(packager, name, version, arch):
    """The row's unique key: sha256(packager NUL name NUL version NUL arch)."""
    return hashlib.sha256("\0".join((packager, name, version, arch)).encode("utf-8")).digest()


class PackageIds(object):
    """Package row ids by stored-form line, per packager, kept by one
    Store for all its threads. A package row never changes and is never
    deleted, so an id read from committed data stays right; ids found or
    made inside a transaction are added only once it has committed."""

    def __init__(self, limit=PACKAGE_CACHE_LIMIT):
        self.limit = limit
        self._tables = {}

    def table(self, packager):
        """{line: id}: a reader may keep it, it is replaced,
        never emptied, when full."""
        return self._tables.get(packager, {})

    def add(self, packager, ids):
        if len(ids) > self.limit:
            return
        table = self._tables.get(packager, {})
        if len(table) + len(ids) > self.limit:
            table = {}  # simplest bound: start again when full
        table.update(ids)
        self._tables[packager] = table

    def __len__(self):
        return sum(len(table) for table in self._tables.values())


def _missing_at(ids):
    """The positions of None in a list: a few found at C speed (list.index),
    many in one pass."""
    count = ids.count(None)
    if count > 64:
        return [at for at, found in enumerate(ids) if found is None]
    positions, at = [], -1
    for _ in range(count):
        at = ids.index(None, at + 1)
        positions.append(at)
    return positions


def find_or_create_ids(dialect, cursor, known, packager, lines, learned, sources=None,
                       created=None):
    """The package row ids of `lines` (stored-form lines, each once), in
    their order: from `known` (a dict by line) where there, then from
    `learned` (the ids found or made earlier in this transaction: a
    batch's reports before its commit find them all there), else
    found or created in this transaction (and put in `learned`, for the
    caller to remember once it commits). A row made here gets its source
    from `sources` ({name: source}), and its line goes in `created`.
    The common case, every package known, is one pass of dict lookups at
    C speed; only the misses are looked at one by one, and only they are
    split into their fields."""
    ids = list(map(known.get, lines))
    if None not in ids:
        return ids
    if learned:
        if ids.count(None) == len(ids):  # a batch's reports before it commits
            ids = list(map(learned.get, lines))
            if None not in ids:
                return ids
        else:
            for at in _missing_at(ids):
                ids[at] = learned.get(lines[at])
    missing_at = _missing_at(ids)
    if not missing_at:
        return ids
    missing = split_lines([lines[at] for at in missing_at])
    both = dialect.find_or_make_package_ids(cursor, packager, missing, sources or {})
    if both is not None:
        found, made = both
        found = {"\t".join(package): package_id for package, package_id in found.items()}
        if created is not None and made:
            made = set(made)
            created.update(line for line, package_id in found.items() if package_id in made)
        return _fill(ids, missing_at, lines, found, len(missing), learned)
    found = dialect.find_package_ids(cursor, packager, missing)
    if found is None:
        keys = {package_key(packager, *package): package for package in missing}
        found = {keys[key]: package_id
                 for key, package_id in dialect.select_package_ids(cursor, keys).items()}
    if len(found) < len(missing):
        keys = {package_key(packager, *package): package for package in missing
                if package not in found}
        sources = sources or {}
        rows = [keys[k] + (k, sources.get(keys[k][0])) for k in keys]
        made = dialect.insert_package_ids(cursor, packager, rows)  # (at once, where it can)
        if made is None:
            dialect.insert_packages(cursor, packager, rows)
            made = dialect.select_package_ids(cursor, list(keys))
        made = {"\t".join(keys[k]): package_id for k, package_id in made.items()}
        found = {"\t".join(package): package_id for package, package_id in found.items()}
        found.update(made)
        if created is not None:
            created.update(made)
    else:
        found = {"\t".join(package): package_id for package, package_id in found.items()}
    return _fill(ids, missing_at, lines, found, len(missing), learned)


def _fill(ids, missing_at, lines, found, missing, learned):
    """ids with the rows found or made ({line: id}) at the places missing."""
    if len(found) != missing:
        raise StoreError("package rows missing after insert")
    learned.update(found)
    for at in missing_at:
        ids[at] = found[lines[at]]
    return ids


class PackageSources(object):
    """The source package of each package row, learned from the reports
    that name it (format 2). A row's source is set once, by the first
    report that names it, and never changed: a report cannot rewrite what
    other hosts' rows say. The packages known to be settled (a source
    stored, or claimed by this process) are kept in memory, per packager,
    so that a report whose packages all are costs one set comparison."""

    def __init__(self, limit=PACKAGE_CACHE_LIMIT):
        self.limit = limit
        self._settled = {}

    def settled(self, packager):
        """{line} of the settled packages (stored-form lines)."""
        return self._settled.get(packager, frozenset())

    def settle(self, packager, packages):
        settled = self._settled.setdefault(packager, set())
        if len(settled) + len(packages) > self.limit:
            settled.clear()  # simplest bound: start again when full
        settled.update(packages)


def record_sources(sql, cursor, marks, claims):
    """Set the source of the rows of `claims` ({package id: source name})
    that have none yet."""
    ids = sorted(claims)
    missing = []
    for chunk in chunks(ids):
        cursor.execute(sql.SELECT_UNSOURCED_PACKAGES.format(marks=marks(len(chunk))), chunk)
        missing.extend(row[0] for row in cursor.fetchall())
    if missing:
        cursor.executemany(sql.SET_PACKAGE_SOURCE, [(claims[i], i) for i in missing])
    return len(missing)

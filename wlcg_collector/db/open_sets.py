"""Each host's open set as one value (host_sets, schema 12): the ids of
the package rows of its open intervals, sorted, packed as 4-byte
little-endian integers, after the host's set_hash (hosts.set_hash) as it
was when the value was written (32 bytes; zeros for a host without one).
A changed report is compared with it, not with the host's open rows of
installs: one row read by its key and one value decoded at C speed,
whatever the host's size (6 KB for 1,500 packages).

It is kept exact: every path that opens or closes a host's intervals
writes it in the same transaction (the writer as it stores a changed set;
rollback, site merges, bulk loads and the upgrade to schema 12 through
rebuild, from the intervals themselves), and a host's row goes with the
host. A host with open intervals and no row (none of the paths above
leaves one) has its open rows read once, by the writer, which then
writes its row; so has a host whose value was not written with its
present set (ids_of: another set_hash, or not an id for each of its
packages). That is a writer that does not know host_sets (a collector of
schema 11 still running after the upgrade, a repair by hand) or a value
that is not the host's (host_sets restored from a backup of another
day, a value cut short): each changes the host's set_hash, or the
value's size, apart from the other."""

import sys
from array import array

from .database import split_ids

# host ids a transaction of rebuild_all writes the open sets of
RANGE = 500

# the set_hash before the ids, and the one of a host without one
HASH_BYTES = 32
NO_HASH = bytes(HASH_BYTES)

# an unsigned type of 4 bytes (array's sizes are the platform's)
_TYPE = next(code for code in "IL" if array(code).itemsize == 4)
_SWAP = sys.byteorder != "little"


def pack(ids, set_hash):
    """The stored value of a set of package ids (any iterable of ints) of
    a host whose set_hash is set_hash (None: it has none)."""
    packed = array(_TYPE, sorted(ids))
    if _SWAP:
        packed.byteswap()
    return (set_hash or NO_HASH) + packed.tobytes()


def unpack(value):
    """The array of package ids (sorted) of a stored value."""
    ids = array(_TYPE)
    ids.frombytes(bytes(value)[HASH_BYTES:])
    if _SWAP:
        ids.byteswap()
    return ids


def ids_of(value, set_hash, package_count):
    """The package ids of a host's stored value when it was written with
    the host's present set (its set_hash and package_count now), else
    None: its open intervals are to be read."""
    if value is None or len(value) != HASH_BYTES + 4 * package_count:
        return None
    value = bytes(value)
    if value[:HASH_BYTES] != (set_hash or NO_HASH):
        return None
    return unpack(value)


def read_open_ids(sql, cursor, host_id):
    """The package ids of a host's open intervals, from installs."""
    cursor.execute(sql.SELECT_OPEN_PACKAGE_IDS, (host_id,))
    return split_ids(cursor.fetchone()[0])


def rebuild_range(sql, cursor, first, last):
    """Write the open sets of the hosts of ids first to last again, from
    their open intervals, in the transaction that changed them (a host
    with none has no row), each with its host's set_hash as it is now
    (a caller that changes it does so first). Their rows are locked first, as a writer locks
    its host's: a report stored meanwhile (collectors may ingest while the
    upgrade to schema 12 makes them) waits, or is waited for."""
    cursor.execute(sql.LOCK_HOSTS_BETWEEN, (first, last))
    set_hashes = {host_id: set_hash and bytes(set_hash) for host_id, set_hash
                  in cursor.fetchall()}
    cursor.execute(sql.SELECT_OPEN_SETS_BETWEEN, (first, last))
    rows = [(host_id, pack(split_ids(ids), set_hashes.get(host_id)))
            for host_id, ids in cursor.fetchall()]
    cursor.execute(sql.DELETE_HOST_SETS_BETWEEN, (first, last))
    if rows:
        cursor.executemany(sql.INSERT_HOST_SET, rows)


def rebuild(sql, cursor, host_ids):
    """rebuild_range of a few hosts, each on its own."""
    for host_id in sorted(set(host_ids)):
        rebuild_range(sql, cursor, host_id, host_id)


def rebuild_all(db, first=None, last=None):
    """The open sets of every host (of ids first to last, if given) from
    their intervals, a transaction for each range of RANGE host ids (the
    upgrade to schema 12, bulk loads)."""
    sql = db.sql
    if first is None:
        def bounds(cursor):
            cursor.execute(sql.SELECT_HOST_ID_RANGE)
            return cursor.fetchone()
        first, last = db.transaction(bounds, write=False)
        if first is None:
            return
    for start in range(first, last + 1, RANGE):
        end = min(start + RANGE - 1, last)
        db.transaction(lambda cursor, start=start, end=end: rebuild_range(sql, cursor, start,
                                                                          end))

"""Each host's open set as one value (host_sets, schema 12): the ids of
the package rows of its open intervals, sorted, packed as 4-byte
little-endian integers. A changed report is compared with it, not with
the host's open rows of installs: one row read by its key and one value
decoded at C speed, whatever the host's size (6 KB for 1,500 packages).

It is kept exact: every path that opens or closes a host's intervals
writes it in the same transaction (the writer as it stores a changed set;
rollback, site merges, bulk loads and the upgrade to schema 12 through
rebuild, from the intervals themselves), and a host's row goes with the
host. A host with open intervals and no row (none of the paths above
leaves one) has its open rows read once, by the writer, which then
writes its row."""

import sys
from array import array

from .database import split_ids

# host ids a transaction of rebuild_all writes the open sets of
RANGE = 500

# an unsigned type of 4 bytes (array's sizes are the platform's)
_TYPE = next(code for code in "IL" if array(code).itemsize == 4)
_SWAP = sys.byteorder != "little"


def pack(ids):
    """The stored value of a set of package ids (any iterable of ints)."""
    packed = array(_TYPE, sorted(ids))
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def unpack(value):
    """The array of package ids (sorted) of a stored value."""
    ids = array(_TYPE)
    ids.frombytes(bytes(value))
    if _SWAP:
        ids.byteswap()
    return ids


def read_open_ids(sql, cursor, host_id):
    """The package ids of a host's open intervals, from installs."""
    cursor.execute(sql.SELECT_OPEN_PACKAGE_IDS, (host_id,))
    return split_ids(cursor.fetchone()[0])


def rebuild_range(sql, cursor, first, last):
    """Write the open sets of the hosts of ids first to last again, from
    their open intervals, in the transaction that changed them (a host
    with none has no row). Their rows are locked first, as a writer locks
    its host's: a report stored meanwhile (collectors may ingest while the
    upgrade to schema 12 makes them) waits, or is waited for."""
    cursor.execute(sql.LOCK_HOSTS_BETWEEN, (first, last))
    cursor.fetchall()
    cursor.execute(sql.SELECT_OPEN_SETS_BETWEEN, (first, last))
    rows = [(host_id, pack(split_ids(ids))) for host_id, ids in cursor.fetchall()]
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

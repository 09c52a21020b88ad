"""compare now, over the whole fleet, with what the last run worked out kept
in the database: the answer of analysis.compliance(store, requirements,
None), without reading every holder of the baseline's packages each time.

What is kept, per set of package names (a baseline's), is the part of
compliance that depends on the hosts' packages only: for each package row
of those names, the hosts for which it is the newest row of its name and
arch they hold (analysis.newest_holders), with each host's set_report when
it was read: the id of the report that made its present set, which changes
whenever the set does (writer.py sets it; a rollback sets it to the report
that made the set it goes back to). A run reads the hosts first, then
reads again, host by host, only the hosts that are new or whose
set_report differs; or the whole fleet when there is nothing kept, when
sites were renamed or merged since, or when more than FEW_HOSTS hosts
changed (reading them one by one would cost more). What else a verdict
depends on (a host's system, its site, the requirements) is taken as it
is now on every run, so a kept row serves any baseline of the same names.

Never stale: the hosts, and so their set_reports, are read before the
holders they vouch for, and everything kept is at least as new as what
vouches for it. A kept row that cannot be read costs one full run."""

import array
import hashlib
import struct
import sys
import time
import zlib

from . import analysis
from .analysis import FAR_FUTURE, FEW_HOSTS, HostMasks
from .db import StoreError
from .db.records import CachedHolders

# kept rows larger than this (compressed) are not kept: bigger than a
# database packet may carry, and no longer cheap to read
KEPT_LIMIT = 12 * 1024 * 1024
_HEADER = struct.Struct("<II")  # size of the host lanes, number of rows


def names_hash(requirements):
    """The key of what is kept for a baseline: its package names."""
    names = sorted({r.name for r in requirements})
    return hashlib.sha256("\n".join(names).encode("utf-8")).digest()


def encode_sets(hosts):
    """Bytes of each host's id and set_report (0 for none: report ids
    start at 1)."""
    ids = array.array("Q", [host.id for host in hosts])
    reports = array.array("Q", [host.set_report or 0 for host in hosts])
    return zlib.compress(struct.pack("<I", len(hosts)) + ids.tobytes() + reports.tobytes(), 1)


def decode_sets(data):
    """{host id: set_report or 0} of encode_sets' bytes; ValueError if
    they are not such bytes."""
    try:
        raw = zlib.decompress(data)
        (count,) = struct.unpack_from("<I", raw)
    except (zlib.error, struct.error) as exc:
        raise ValueError("kept sets unreadable: %s" % exc)
    if len(raw) != 4 + 16 * count:
        raise ValueError("kept sets unreadable: %d bytes, not %d" % (len(raw), 4 + 16 * count))
    ids, reports = array.array("Q"), array.array("Q")
    ids.frombytes(raw[4:4 + 8 * count])
    reports.frombytes(raw[4 + 8 * count:])
    if sys.byteorder != "little":  # (written on a little-endian machine)
        ids.byteswap()
        reports.byteswap()
    return dict(zip(ids, reports))


def encode_holders(won, size):
    """Bytes of {package id: host mask} (masks of a HostMasks of `size`
    lanes): one byte a host id, which compresses to a few bits."""
    ids = sorted(won)
    parts = [_HEADER.pack(size, len(ids)), struct.pack("<%dI" % len(ids), *ids)]
    parts += [won[package_id].to_bytes(size, "little") for package_id in ids]
    return zlib.compress(b"".join(parts), 1)


def decode_holders(data):
    """{package id: host mask} of encode_holders' bytes; ValueError if
    they are not such bytes."""
    try:
        raw = zlib.decompress(data)
        size, count = _HEADER.unpack_from(raw)
        ids = struct.unpack_from("<%dI" % count, raw, _HEADER.size)
    except (zlib.error, struct.error) as exc:
        raise ValueError("kept holders unreadable: %s" % exc)
    start = _HEADER.size + 4 * count
    if len(raw) != start + size * count:
        raise ValueError("kept holders unreadable: %d bytes, not %d"
                         % (len(raw), start + size * count))
    return {package_id: int.from_bytes(raw[start + i * size:start + (i + 1) * size], "little")
            for i, package_id in enumerate(ids)}


def current_compliance(store, requirements, keeper=None, now=None, errors=sys.stderr):
    """analysis.compliance(store, requirements, None), with what the last
    run found kept in `keeper` (a Store that can write: the primary when
    `store` reads a replica; default `store`). The Compliance it returns
    has `recomputed`: the (site, host name) of the hosts read again (None:
    the whole fleet was). A kept row that cannot be read or written is
    reported on `errors` in one line and costs a full run; the answer is
    the same."""
    keeper = keeper or store
    key = names_hash(requirements)
    packages = store.packages_named({r.name for r in requirements})
    # the hosts first: their set_reports vouch for no change older than this read
    hosts = store.hosts_at(FAR_FUTURE)
    moves = store.site_moves()
    masks = HostMasks(hosts)
    won, changed = _kept(keeper, key, moves, masks, hosts, packages, store, errors)
    if won is None:
        won = analysis.newest_holders(packages, store.holder_bitmaps(packages, FAR_FUTURE),
                                      masks)
    if changed != []:
        holders = encode_holders(won, masks.size)
        if len(holders) <= KEPT_LIMIT:
            kept = CachedHolders(moves, int(time.time() if now is None else now),
                                 encode_sets(hosts), holders)
            try:
                keeper.keep_holders(key, kept)
            except StoreError as exc:
                errors.write("wlcg-collector: warning: compare's holders not kept: %s\n" % exc)
    result = analysis.judge(requirements, packages, hosts, masks, won)
    result.recomputed = None if changed is None else sorted(
        (host.site, host.name) for host in changed)
    return result


def _kept(keeper, key, moves, masks, hosts, packages, store, errors):
    """(won, [HostAt] read again) from the kept row brought up to date, or
    (None, None) when a full run is due."""
    try:
        kept = keeper.cached_holders(key)
        if kept is None or kept.moves != moves:
            return None, None
        sets = decode_sets(kept.tokens)
        changed = [host for host in hosts if sets.get(host.id) != (host.set_report or 0)]
        if len(changed) > FEW_HOSTS:
            return None, None
        won = {package_id: mask & masks.known
               for package_id, mask in decode_holders(kept.holders).items()
               if package_id in packages}
    except (StoreError, ValueError) as exc:
        errors.write("wlcg-collector: warning: compare's kept holders not used: %s\n" % exc)
        return None, None
    if changed:
        # those hosts' bits go, and come back as their packages are now
        ids = [host.id for host in changed]
        keep = ~masks.of(ids)
        won = {package_id: mask & keep for package_id, mask in won.items()}
        fresh = analysis.newest_holders(packages, store.holder_bitmaps(
            packages, FAR_FUTURE, ids), masks)
        for package_id, mask in fresh.items():
            won[package_id] = won.get(package_id, 0) | mask
    return won, changed

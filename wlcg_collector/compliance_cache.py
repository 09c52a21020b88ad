"""compare now, over the whole fleet, with what the last run worked out kept
in the database: the answer of analysis.compliance(store, requirements,
None), without reading every holder of the baseline's packages each time.

What is kept, per set of package names (a baseline's), is the part of
compliance that depends on the hosts' packages only: for each package row
of those names, the hosts for which it is the newest row of its name and
arch they hold (analysis.newest_holders), with each host's set_report when
it was read: the id of the report that made its present set, which changes
whenever the set does (writer.py sets it; a rollback sets it to the report
that made the set it goes back to). A run with a kept row reads the hosts,
then, host by host, only the hosts that are new or whose set_report
differs; it reads the whole fleet when there is nothing kept, when
sites were renamed or merged since, or when more than FEW_HOSTS hosts
changed (reading them one by one would cost more). What else a verdict
depends on (a host's system, its site, the requirements) is taken as it
is now on every run, so a kept row serves any baseline of the same names.

Never stale: the set_reports are read before the holders they vouch for,
so everything kept is at least as new as what vouches for it: with the
hosts, or, in a full read without a kept row, on their own before the
hosts are read beside the holders (a host whose set changes in between
is read again next time; a host that came in between waits for the next
run). A kept row that cannot be read costs one full run.

compliance_answer decides, for `compare` and the pages alike, when this
serves: for the whole fleet now; a site's hosts, or any past time, are a
full read (analysis.compliance), as nothing kept covers them.

Nothing here prints: what went wrong with a kept row comes back as
warnings (one line each), for the command or the pages to show."""

import array
import hashlib
import struct
import sys
import time
import zlib
from collections import namedtuple

from . import analysis, baseline_checks
from .analysis import FAR_FUTURE, FEW_HOSTS
from .host_masks import HostMasks
from .db import StoreError
from .db.holders_cache import HOLDERS_KEPT
from .db.records import CachedHolders

# kept rows larger than this (compressed) are not kept: bigger than a
# database packet may carry, and no longer cheap to read
KEPT_LIMIT = 12 * 1024 * 1024
_HEADER = struct.Struct("<II")  # size of the host lanes, number of rows

# the holders of a baseline's package names now: its package rows, the
# hosts, their lanes, {package id: mask of the hosts for which the row is
# the newest of its name and arch}, and the ids of the hosts read again
# (None: the whole fleet was), and the warnings of the kept row (lines)
Current = namedtuple("Current", "packages hosts masks won changed warnings")
# compare's answer: the analysis.Compliance, the (site, host name) of the
# hosts read again (None: every host asked about was), the warnings of the
# kept row (lines, for the officer's log), and the caveats: what makes the
# baseline meaningless on these hosts (lines, baseline_checks', for whoever
# reads the answer)
ComplianceAnswer = namedtuple("ComplianceAnswer", "compliance recomputed warnings caveats")
# keep_holders: [(names, Current, seconds)] of the baselines whose holders
# were brought up to date, and the warnings (lines)
HoldersKept = namedtuple("HoldersKept", "done warnings")

# the warnings, worded once
NOT_KEPT = "compare's holders not kept: %s"
NOT_USED = "compare's kept holders not used: %s"
TOO_MANY = "holders not kept for %s: only the %d newest baselines' package names are kept"


def names_hash(requirements):
    """The key of what is kept for a baseline: its package names."""
    names = sorted({r.name for r in requirements})
    return hashlib.sha256("\n".join(names).encode("utf-8")).digest()


def encode_sets(set_reports):
    """Bytes of {host id: set_report or 0} (0 for none: report ids start
    at 1)."""
    ids = array.array("Q", set_reports)
    reports = array.array("Q", [set_reports[host_id] for host_id in ids])
    return zlib.compress(struct.pack("<I", len(ids)) + ids.tobytes() + reports.tobytes(), 1)


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


def compliance_answer(store, requirements, at=None, site=None, keeper=None, visible=None,
                      stale_days=None):
    """compare's ComplianceAnswer to a question (at: None for now; site:
    None for the whole fleet), the command's and the pages' alike: the
    whole fleet now from the kept holders (current_compliance), anything
    else read in full. Its caveats name only the systems of the `visible`
    sites (None: every site; a site reader's). With `stale_days`, the
    hosts silent longer are marked on its Compliance (analysis.mark_silent)."""
    if at is None and site is None:
        answer = current_compliance(store, requirements, keeper)
    else:
        answer = ComplianceAnswer(analysis.compliance(store, requirements, at, site), None, [],
                                  [])
    if stale_days is not None:
        analysis.mark_silent(store, answer.compliance, at, stale_days, int(time.time()))
    return answer._replace(caveats=caveats_of(store, requirements, answer.compliance.installed(),
                                              visible))


def caveats_of(store, requirements, installed, visible=None):
    """baseline_checks' warnings of the requirements over the hosts of
    the `visible` sites (None: every site), given the builds judged."""
    systems = store.fleet.systems(visible) if any(r.systems for r in requirements) else []
    return (baseline_checks.unmatched_scopes(requirements, systems)
            + baseline_checks.epoch_traps(requirements, installed))


def current_compliance(store, requirements, keeper=None, now=None):
    """A ComplianceAnswer: analysis.compliance(store, requirements, None),
    with what the last run found kept in `keeper` (a Store that can write:
    the primary when `store` reads a replica; default `store`). A kept row
    that cannot be read or written is a warning and costs a full run; the
    answer is the same."""
    current = current_holders(store, requirements, keeper, now)
    result = analysis.compliance_from_holders(requirements, current.packages, current.hosts,
                                              current.masks, current.won)
    recomputed = None
    if current.changed is not None:
        changed = set(current.changed)
        recomputed = sorted((host.site, host.name) for host in current.hosts
                            if host.id in changed)
    return ComplianceAnswer(result, recomputed, current.warnings, [])


def current_holders(store, requirements, keeper=None, now=None):
    """The holders of the requirements' package names now (a Current),
    from the kept row brought up to date, or read whole; what was found is
    kept again (see current_compliance)."""
    keeper = keeper or store
    warnings = []
    key = names_hash(requirements)
    packages = store.fleet.packages_named({r.name for r in requirements})
    kept = _kept(keeper, key, warnings)
    changed = None
    if kept is not None:
        # the hosts first: their set_reports vouch for the holders read after
        hosts = store.fleet.hosts_at(FAR_FUTURE)
        vouched = {host.id: host.set_report or 0 for host in hosts}
        moves = store.holders.site_moves()
        sets, kept_holders, kept_moves = kept
        changed = [host.id for host in hosts if sets.get(host.id) != vouched[host.id]]
        if kept_moves != moves or len(changed) > FEW_HOSTS:
            kept, changed = None, None
            holders = store.fleet.holder_bitmaps(packages, FAR_FUTURE)
        else:
            holders = store.fleet.holder_bitmaps(packages, FAR_FUTURE, changed) if changed else {}
    else:
        # a full read: the set_reports first, then the hosts beside the
        # holders (on several connections); a host that came in between
        # waits for the next run
        vouched = store.fleet.set_reports()
        moves = store.holders.site_moves()
        hosts, holders = store.fleet.hosts_and_holders(packages, FAR_FUTURE)
        hosts = [host for host in hosts if host.id in vouched]
    masks = HostMasks(hosts)
    won = analysis.newest_holders(packages, holders, masks)
    if kept is not None:
        # the changed hosts' bits go from what was kept, and come back as
        # their packages are now
        unchanged = masks.known & ~masks.of(changed)
        for package_id, mask in kept_holders.items():
            if package_id in packages:
                won[package_id] = won.get(package_id, 0) | (mask & unchanged)
    if kept is None or changed:
        holders = encode_holders(won, masks.size)
        if len(holders) <= KEPT_LIMIT:
            row = CachedHolders(moves, int(time.time() if now is None else now),
                                encode_sets({host.id: vouched[host.id] for host in hosts}),
                                holders)
            try:
                keeper.holders.keep(key, row)
            except StoreError as exc:
                warnings.append(NOT_KEPT % exc)
    return Current(packages, hosts, masks, won, changed, warnings)


def keep_holders(store, baselines, keeper=None, now=None):
    """Bring the kept holders of stored baselines up to date, so that the
    officer's compare of any of them reads only the hosts changed since.
    `baselines`: [(name, requirements)], the newest first; baselines of the
    same package names share one row. Only the HOLDERS_KEPT newest sets of
    names can be kept (more would push each other out on every run): the
    rest are named in the warnings. Returns HoldersKept."""
    warnings = []
    groups = {}
    for name, requirements in baselines:
        groups.setdefault(names_hash(requirements), (requirements, []))[1].append(name)
    done = []
    for number, (requirements, names) in enumerate(groups.values()):
        if number >= HOLDERS_KEPT:
            warnings.append(TOO_MANY % (", ".join(names), HOLDERS_KEPT))
            continue
        start = time.time()
        current = current_holders(store, requirements, keeper, now)
        warnings.extend(current.warnings)
        if current.changed == []:
            # found current, not written again: it counts as new, so that
            # a burst of other compares does not push a stored baseline's
            # row out (the newest rows are kept)
            try:
                (keeper or store).holders.touch(names_hash(requirements),
                                                int(time.time() if now is None else now))
            except StoreError as exc:
                warnings.append(NOT_KEPT % exc)
        done.append((names, current, time.time() - start))
    return HoldersKept(done, warnings)


def _kept(keeper, key, warnings):
    """(kept set_reports, kept holders, moves then) of the kept row, or
    None when there is none or it cannot be read (then a line on
    `warnings`, a list)."""
    try:
        kept = keeper.holders.cached(key)
        if kept is None:
            return None
        return decode_sets(kept.set_reports), decode_holders(kept.holders), kept.moves
    except (StoreError, ValueError) as exc:
        warnings.append(NOT_USED % exc)
        return None

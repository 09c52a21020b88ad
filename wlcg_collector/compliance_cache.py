"""compare now, over the whole fleet, with what the last run worked out kept
in the database: the answer of analysis.compliance(store, requirements,
None), without reading every holder of the baseline's packages each time.

What is kept, per set of package names (a baseline's), is the part of
compliance that depends on the hosts only: for each package row of those
names, the hosts for which it is the newest row of its name and arch they
hold (analysis.newest_holders), with each site's sets token when it was
read. A site's token is a hash of its hosts' ids, names, packagers,
systems and set_report (the report that made each host's present set;
writer.py and rollback keep it): it changes whenever a host of the site
comes, goes, or changes its set. A run reads the hosts first, then works
out again only the sites whose token differs, host by host; or the whole
fleet when there is nothing kept, when sites were renamed or merged since,
or when many sites changed. The verdicts are always worked out afresh
from the requirements, so a kept row serves any baseline of the same names.

Never stale: the hosts, and so the tokens, are read before the holders
they vouch for, and everything kept is always at least as new as its
tokens. A kept row that cannot be read costs one full run."""

import hashlib
import json
import struct
import sys
import time
import zlib

from . import analysis
from .analysis import FAR_FUTURE, FEW_HOSTS, SITES_RECOMPUTED, HostMasks
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


def site_tokens(hosts):
    """{site: token} of a list of HostAt (in site and name order). (Header
    values hold no control characters; a system or set_report that is None
    is written apart from any text.)"""
    digests = {}
    for host in hosts:
        digest = digests.get(host.site)
        if digest is None:
            digest = digests[host.site] = hashlib.blake2b(digest_size=16)
        digest.update(("%d\x1f%s\x1f%s\x1f%s\x1f%s\x1e" % (
            host.id, host.name, host.packager,
            "" if host.system is None else "=" + host.system,
            "" if host.set_report is None else host.set_report)).encode("utf-8"))
    return {site: digest.hexdigest() for site, digest in digests.items()}


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
    has `recomputed`: the sites worked out again (None: all of them).
    A kept row that cannot be read or written is reported on `errors` in
    one line and costs a full run; the answer is the same."""
    keeper = keeper or store
    key = names_hash(requirements)
    packages = store.packages_named({r.name for r in requirements})
    # the hosts first: the tokens vouch for no change older than this read
    hosts = store.hosts_at(FAR_FUTURE)
    tokens = site_tokens(hosts)
    moves = store.site_moves()
    masks = HostMasks(hosts)
    won, recomputed = _kept(keeper, key, moves, tokens, masks, hosts, packages, store, errors)
    if won is None:
        won = analysis.newest_holders(packages, store.holder_bitmaps(packages, FAR_FUTURE),
                                      masks)
    if recomputed != []:
        holders = encode_holders(won, masks.size)
        if len(holders) <= KEPT_LIMIT:
            kept = CachedHolders(moves, int(time.time() if now is None else now),
                                 zlib.compress(json.dumps(tokens, sort_keys=True).encode(), 1),
                                 holders)
            try:
                keeper.keep_holders(key, kept)
            except StoreError as exc:
                errors.write("wlcg-collector: warning: compare's holders not kept: %s\n" % exc)
    result = analysis.judge(requirements, packages, hosts, masks, won)
    result.recomputed = recomputed
    return result


def _kept(keeper, key, moves, tokens, masks, hosts, packages, store, errors):
    """(won, sites worked out again) from the kept row brought up to date,
    or (None, None) when a full run is due."""
    try:
        kept = keeper.cached_holders(key)
        if kept is None or kept.moves != moves:
            return None, None
        kept_tokens = json.loads(zlib.decompress(kept.tokens).decode("utf-8"))
        if not isinstance(kept_tokens, dict):
            raise ValueError("kept tokens are not a table")
        changed = {site for site, token in tokens.items() if kept_tokens.get(site) != token}
        if len(changed) > max(SITES_RECOMPUTED, len(tokens) // 10):
            return None, None
        ids = [host.id for host in hosts if host.site in changed]
        if len(ids) > FEW_HOSTS:
            return None, None
        won = {package_id: mask & masks.known
               for package_id, mask in decode_holders(kept.holders).items()
               if package_id in packages}
    except (StoreError, ValueError, zlib.error, UnicodeDecodeError) as exc:
        errors.write("wlcg-collector: warning: compare's kept holders not used: %s\n" % exc)
        return None, None
    if ids:
        # those hosts' bits go, and come back as their packages are now
        keep = ~masks.of(ids)
        won = {package_id: mask & keep for package_id, mask in won.items()}
        fresh = analysis.newest_holders(packages, store.holder_bitmaps(
            packages, FAR_FUTURE, ids), masks)
        for package_id, mask in fresh.items():
            won[package_id] = won.get(package_id, 0) | mask
    return won, sorted(changed)

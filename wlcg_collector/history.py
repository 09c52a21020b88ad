"""Changes of a host, derived from its install intervals.

At each report time, for each (name, arch): when exactly one version was
replaced by exactly one other, and no other version of it stayed installed
across that time, it is an upgrade or a downgrade (by the packager's own
version order); otherwise every version that appeared is `installed` and
every one that went away is `removed` (kernels and other packages
installed side by side).
"""

from collections import defaultdict

from .versions import compare


def _ends(intervals):
    """({(time, name, arch): versions opened}, the same for versions closed)."""
    opened = defaultdict(list)
    closed = defaultdict(list)
    for name, version, arch, installed, removed in intervals:
        opened[(installed, name, arch)].append(version)
        if removed is not None:
            closed[(removed, name, arch)].append(version)
    return opened, closed


def _replacements(opened, closed, since):
    """The (time, name, arch) at or after `since` where exactly one version
    went and exactly one other came: an upgrade or a downgrade, unless
    another version stayed installed across that time."""
    return {key for key in opened if key in closed and len(opened[key]) == 1
            and len(closed[key]) == 1 and (since is None or key[0] >= since)}


def replaced_pairs(intervals, since):
    """The (name, arch) for which changes() must also be given the
    intervals open since before `since`: those with a replacement at or
    after `since` (without them, a version replaced beside one that stayed
    would pass for an upgrade). `intervals` need only be those opened or
    closed at or after `since`."""
    opened, closed = _ends(intervals)
    return {(name, arch) for _, name, arch in _replacements(opened, closed, since)}


def changes(packager, intervals, since=None):
    """[(time, action, name, arch, old, new)] sorted by time, name, arch.

    intervals: (name, version, arch, installed, removed) rows of one host:
    all of them, or those opened or closed since `since` and, for the
    (name, arch) of replaced_pairs, those still open."""
    by_key = defaultdict(list)
    for name, version, arch, installed, removed in intervals:
        by_key[(name, arch)].append((installed, removed))
    opened, closed = _ends(intervals)
    replaced = _replacements(opened, closed, since)
    events = []
    for key in set(opened) | set(closed):
        time, name, arch = key
        if since is not None and time < since:
            continue
        new, old = sorted(opened.get(key, ())), sorted(closed.get(key, ()))
        other_stayed = key in replaced and any(start < time and (end is None or end > time)
                                               for start, end in by_key[(name, arch)])
        if key in replaced and not other_stayed:
            order = compare(packager, new[0], old[0])
            if order:
                action = "upgraded" if order > 0 else "downgraded"
                events.append((time, action, name, arch, old[0], new[0]))
                continue
        for version in old:
            events.append((time, "removed", name, arch, version, None))
        for version in new:
            events.append((time, "installed", name, arch, None, version))
    events.sort(key=lambda e: (e[0], e[2], e[3], e[1], e[4] or "", e[5] or ""))
    return events

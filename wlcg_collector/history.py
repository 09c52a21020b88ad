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


def changes(packager, intervals, since=None):
    """[(time, action, name, arch, old, new)] sorted by time, name, arch.

    intervals: (name, version, arch, installed, removed) rows of one host."""
    by_key = defaultdict(list)
    opened = defaultdict(list)  # (time, name, arch) -> versions
    closed = defaultdict(list)
    for name, version, arch, installed, removed in intervals:
        by_key[(name, arch)].append((installed, removed))
        opened[(installed, name, arch)].append(version)
        if removed is not None:
            closed[(removed, name, arch)].append(version)
    events = []
    for key in set(opened) | set(closed):
        time, name, arch = key
        if since is not None and time < since:
            continue
        new, old = sorted(opened.get(key, ())), sorted(closed.get(key, ()))
        kept = any(start < time and (end is None or end > time)
                   for start, end in by_key[(name, arch)])
        if len(new) == 1 and len(old) == 1 and not kept:
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

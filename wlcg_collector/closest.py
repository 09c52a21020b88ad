"""The names closest to one that names nothing: what a person probably
meant by a misspelt site, host or baseline name, and how it is said. One
rule for every name the collector is given: ingest's answer to a reporter
and the officer's commands alike (pure)."""

import re
from collections import Counter

from .site_names import site_key

# how far (edits, after case and separators) a name may be from a known
# one to be offered as what was meant
MAX_DISTANCE = 3
SUGGESTIONS = 3
# with no name close, the known ones named in full up to this many
KNOWN_NAMED = 10


def folded(name):
    """A name as people confuse it: case and the separators - _ . ignored.
    (Case is ignored as a site name's is: site_names' one rule.)"""
    return re.sub(r"[-_.]", "", site_key(name))


def edit_distance(a, b, limit):
    """The optimal string alignment distance of a and b (insertions,
    deletions, substitutions, adjacent swaps), or limit + 1 once it is
    certainly more than limit. Only the cells within `limit` of the
    diagonal are worked out: a path through any other costs more."""
    over = limit + 1
    if abs(len(a) - len(b)) > limit:
        return over
    before, previous = None, [j if j <= limit else over for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [i if i <= limit else over] + [over] * len(b)
        low, high = max(1, i - limit), min(len(b), i + limit)
        best = current[0] if low == 1 else over
        here = a[i - 1]
        for j in range(low, high + 1):
            value = min(previous[j - 1] + (here != b[j - 1]), previous[j] + 1,
                        current[j - 1] + 1, over)
            if j > 1 and i > 1 and here == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return over
        before, previous = previous, current
    return previous[-1]


def _bag_distance(counts, size, other):
    """A bound no edit distance of the name whose characters are `counts`
    ([(character, count)]; `size` of them) and `other` is below: the
    characters one has and the other has not. Cheap, so that most names
    of a fleet need no edit distance."""
    common = 0
    for character, count in counts:
        common += min(count, other.count(character))
    return max(size, len(other)) - common


def closest_names(name, known, limit=SUGGESTIONS):
    """The known names closest to `name`, closest first (at most `limit`):
    known is [(name, [aliases])] (a site's alias: its GOCDB name) or plain
    names. A name equal to a known one's alias, or to it but for case and
    separators, comes first; then names within MAX_DISTANCE edits (fewer
    for a short name). `name` itself is no suggestion."""
    key = folded(name)
    allowed = min(MAX_DISTANCE, max(1, len(key) // 4))
    counts = list(Counter(key).items())
    scored = []
    for entry in known:
        known_name, aliases = (entry, ()) if isinstance(entry, str) else entry
        if known_name == name:
            continue
        best = None
        for candidate in [known_name] + [a for a in aliases if a]:
            other = folded(candidate)
            if other == key:
                best = 0
                break
            if abs(len(other) - len(key)) > allowed or \
                    _bag_distance(counts, len(key), other) > allowed:
                continue  # (most names of a fleet: 100,000 in a few tenths of a second)
            distance = edit_distance(key, other, allowed)
            if distance <= allowed and (best is None or distance < best):
                best = distance
        if best is not None:
            scored.append((best, known_name))
    scored.sort()
    return [known_name for _, known_name in scored[:limit]]


def did_you_mean(names):
    """The words offering `names` (closest first) as what was meant."""
    return "did you mean %s?" % " or ".join(names)


def stored_ones(names):
    """The words naming every stored name when none is close."""
    if not names:
        return "none is stored"
    more = len(names) - KNOWN_NAMED
    return "stored ones are %s%s" % (", ".join(names[:KNOWN_NAMED]),
                                     " (+%d more)" % more if more > 0 else "")

"""Exceptions: "what this advisory (or CVE) finds does not apply here": a
vendor backport the feed does not know, a mitigation, a host being
retired. The rules, pure, besides `excepting`, which reads what they
need of the stored advisories.

An exception names one advisory or one CVE, narrowed (or not) by package
(the installed package's name, as `vulnerable` lists it), version (that
package's installed version, compared as its packager does: 0.8-15.el9 is
0:0.8-15.el9), site and host. It is in force from when it was added
until it was ended or until its date, whichever comes first, and it is
never deleted, so a past time sees the exceptions as they stood then.

A finding (a host holding a package build inside one of an advisory's
affected ranges) is excepted by an exception on that advisory that
covers it, or when every CVE the advisory names is covered by an
exception on that CVE: an advisory that also fixes a CVE nobody excepted
still applies.
"""

from collections import defaultdict, namedtuple

from ..dates import FAR_FUTURE
from ..site_names import same_site, site_key
from ..versions import compare
from .tags import ADVISORY, CVE, DecisionError

# a finding as the rules read it: the advisory's ident and CVEs, the
# installed package (name, version, its packager), the host's site and name
Finding = namedtuple("Finding", "advisory cves package version packager site host")


def target_of_exception(exception):
    """(ADVISORY, ident) or (CVE, id): what an exception names."""
    if exception.advisory is not None:
        return ADVISORY, exception.advisory
    return CVE, exception.cve


def in_force(exception, at):
    """Whether an exception (db records' AdvisoryException) is in force at
    `at`: added by then, and neither ended nor past its date."""
    return exception.added <= at and (exception.ended is None or exception.ended > at) and \
        (exception.expires is None or exception.expires > at)


def identity(exception):
    """What makes two collectors' exceptions one (their ids are each
    collector's own): its scope, its reason, and who added it when."""
    return (exception.advisory, exception.cve, exception.package, exception.version,
            site_key(exception.site) if exception.site is not None else None,
            exception.host.lower() if exception.host is not None else None,
            exception.reason, exception.added, exception.added_by)


def span(exception):
    """[start, end) of the time an exception is in force (end FAR_FUTURE:
    no end)."""
    ends = [t for t in (exception.ended, exception.expires) if t is not None]
    return exception.added, min(ends) if ends else FAR_FUTURE


def check_scope(advisory, cve, package, version, site, host):
    """DecisionError unless the scope names exactly one advisory or CVE, and
    a version only with its package: never wider than one advisory or CVE."""
    if (advisory is None) == (cve is None):
        raise DecisionError("an exception names one advisory or one CVE, %s" % (
            "not both" if advisory is not None else "and names none"))
    if version is not None and package is None:
        raise DecisionError("a version is a package's: name the package too")
    for value in (package, version, site, host):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise DecisionError("a package, version, site or host is empty")


def covers(exception, finding):
    """Whether a finding is inside an exception's scope (its advisory or
    CVE aside, and whatever the time)."""
    if exception.package is not None and exception.package != finding.package:
        return False
    if exception.version is not None:
        try:
            if compare(finding.packager, exception.version, finding.version) != 0:
                return False
        except ValueError:  # a packager this collector does not compare
            return False
    if exception.site is not None and not same_site(exception.site, finding.site):
        return False
    if exception.host is not None and \
            exception.host.lower().rstrip(".") != finding.host.lower().rstrip("."):
        return False
    return True


def excepted_by(exceptions, finding, at):
    """The exceptions that except a finding at `at` (empty: it is not
    excepted): those on its advisory, or else one set on each of its
    CVEs."""
    found = [e for e in exceptions if e.advisory == finding.advisory and in_force(e, at)
             and covers(e, finding)]
    if found or not finding.cves:
        return found
    per_cve = [[e for e in exceptions if e.cve == cve and in_force(e, at) and covers(e, finding)]
               for cve in finding.cves]
    if all(per_cve):
        return sorted({e for found in per_cve for e in found}, key=lambda e: e.id)
    return []


# -- spans of time: [start, end) pairs, end FAR_FUTURE for no end

def union(spans):
    """The merged, sorted spans of (start, end) pairs and lists."""
    merged = []
    for start, end in sorted(tuple(s) for s in spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def intersection(first, second):
    """The spans in both merged lists."""
    found, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            found.append([start, end])
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return found


def outside(start, end, spans):
    """The pieces of [start, end) outside merged spans, each with whether
    it ends because an excepted span begins: [(start, end, cut)]."""
    pieces = []
    for low, high in spans:
        if high <= start or low >= end:
            continue
        if low > start:
            pieces.append((start, low, True))
        start = max(start, high)
        if start >= end:
            return pieces
    pieces.append((start, end, False))
    return pieces


class Excepting(object):
    """The exceptions a question applies (in force then, or all of them
    for a question over time), sorted by the advisories they may except:
    built once per question (`excepting`)."""

    def __init__(self, exceptions, advisories):
        """advisories: {advisory id: (ident, [CVE])} of the advisories the
        exceptions name, by ident or through a CVE."""
        self.exceptions = list(exceptions)
        self.advisories = advisories
        self.candidates = defaultdict(list)
        by_ident = defaultdict(list)
        by_cve = defaultdict(list)
        for exception in self.exceptions:
            if exception.advisory is not None:
                by_ident[exception.advisory].append(exception)
            else:
                by_cve[exception.cve].append(exception)
        for advisory_id, (ident, cves) in advisories.items():
            found = by_ident.get(ident, []) + [e for cve in cves for e in by_cve.get(cve, [])]
            if found:
                self.candidates[advisory_id] = found

    def __bool__(self):
        return bool(self.candidates)

    def finding(self, advisory_id, package, site, host):
        """The Finding of a host (its site and name) holding a package row
        (name, version, packager) exposed to an advisory."""
        ident, cves = self.advisories[advisory_id]
        return Finding(ident, cves, package.name, package.version, package.packager, site, host)

    def at(self, advisory_id, package, site, host, when):
        """The exceptions that except this finding at `when` (empty: none)."""
        candidates = self.candidates.get(advisory_id)
        if not candidates:
            return []
        return excepted_by(candidates, self.finding(advisory_id, package, site, host), when)

    def spans(self, advisory_id, package, site, host):
        """The merged spans of time in which this finding is excepted."""
        candidates = self.candidates.get(advisory_id)
        if not candidates:
            return []
        finding = self.finding(advisory_id, package, site, host)
        covering = [e for e in candidates if covers(e, finding)]
        spans = [span(e) for e in covering if e.advisory == finding.advisory]
        if finding.cves:
            per_cve = None
            for cve in finding.cves:
                these = union(span(e) for e in covering if e.cve == cve)
                per_cve = these if per_cve is None else intersection(per_cve, these)
            spans.extend(per_cve)
        return union(spans)


def excepting(store, exceptions):
    """An Excepting of these exceptions (db AdvisoryException records),
    with the stored advisories they name, by ident or through a CVE."""
    exceptions = list(exceptions)
    if not exceptions:
        return Excepting([], {})
    named = store.tags.advisories_of({target_of_exception(e) for e in exceptions})
    ids = {advisory_id for found in named.values() for advisory_id in found}
    infos = store.advisories.by_id(ids) if ids else {}
    cves = store.advisories.cves(sorted(ids)) if ids else {}
    return Excepting(exceptions, {advisory_id: (info.ident, cves.get(advisory_id, []))
                                  for advisory_id, info in infos.items()})


# what an exception is at a time (`exceptions list --all`): worked out, not stored
IN_FORCE = "in force"
ENDED = "ended"
EXPIRED = "expired"
NOT_YET = "not yet"  # added later (an import from a collector whose clock is ahead)


def state_of(exception, at):
    if in_force(exception, at):
        return IN_FORCE
    if exception.added > at:
        return NOT_YET
    if exception.ended is not None and exception.ended <= at:
        return ENDED
    return EXPIRED


def scope_of(exception):
    """An exception's scope as one line: CVE-2024-3094, package xz-libs
    5.2.5-1, site T2_X, host wn1.example.org."""
    parts = [exception.advisory or exception.cve]
    if exception.package is not None:
        parts.append("package %s%s" % (exception.package, " %s" % exception.version
                                       if exception.version is not None else ""))
    if exception.site is not None:
        parts.append("site %s" % exception.site)
    if exception.host is not None:
        parts.append("host %s" % exception.host)
    return ", ".join(parts)

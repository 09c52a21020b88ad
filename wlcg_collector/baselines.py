"""Baselines: the reference versions the officer writes, and how a host's
installed versions are judged against them.

A baseline is text, one requirement a line, in rpm's requirement syntax:

    # OSG 3.5.31 (EL7)
    xrootd >= 4.12.6
    condor >= 8.9.11
    [system: el9]
    python3-scitokens >= 1.8.1-1.el9
    [system: Debian*, Ubuntu*]
    xrootd-client >= 5.6.9
    [all]

`NAME OP [EPOCH:]VERSION[-RELEASE]` with OP one of < <= = >= >. A missing
epoch is 0; a requirement without a release (for dpkg hosts: without a
revision) compares only the parts it gives, so `xrootd >= 5.6.9` holds for
5.6.9-1.el9. A `[system: PATTERN, ...]` line scopes the lines after it to
hosts whose `system` matches one of the patterns: a shell-style glob
(case-insensitive, `AlmaLinux 9*`), or `elN` for any Enterprise Linux N
(AlmaLinux, CentOS, Rocky, RHEL, Scientific, Oracle, CentOS Stream); `[all]`
ends the scope. Errors are `FILE:LINE: reason`.
"""

import fnmatch
import re

from .versions import compare, rpmvercmp, split_dpkg_version, split_rpm_evr, verrevcmp

OPERATORS = ("<=", ">=", "<", ">", "=")
NAME_RE = re.compile(r"^[A-Za-z0-9_.+\-]+$")
VERSION_RE = re.compile(r"^[A-Za-z0-9_.+~^:\-]+$")
SCOPE_RE = re.compile(r"^\[\s*system\s*:\s*(.+?)\s*\]$", re.I)
EL_FAMILY = ("almalinux", "centos", "rocky", "red hat enterprise linux", "redhat",
             "scientific linux", "oracle linux", "rhel", "centos stream", "cern centos")
EL_ALIAS_RE = re.compile(r"^el(\d+)$", re.I)
MAX_LINES = 10000


# systems whose hosts report dpkg versions
DPKG_SYSTEMS = ("debian", "ubuntu")


def dpkg_caveats(requirements):
    """Warnings for the dpkg-scoped lines whose meaning differs from dpkg's
    own relations: a requirement without a revision compares the upstream
    version only (so that `xrootd = 5.7.1` holds for 5.7.1-1), but with <,
    <= or > that is not what dpkg (or apt_pkg.check_dep) answers: for dpkg,
    `libc6 >> 2.36` holds for 2.36-9+deb12u7, here `libc6 > 2.36` does not."""
    warnings = []
    for requirement in requirements:
        dpkg_scoped = requirement.systems is not None and any(
            name in pattern.lower() for pattern in requirement.systems for name in DPKG_SYSTEMS)
        if dpkg_scoped and requirement.op in ("<", "<=", ">") and \
                "-" not in requirement.version:
            warnings.append(
                "line %s: %s compares the upstream version only, as rpm does without a "
                "release; dpkg compares the whole version (write a revision, e.g. %s-0, to get "
                "dpkg's answer)" % (requirement.line, requirement.text, requirement.version))
    return warnings


class BaselineError(ValueError):
    """A bad baseline line: the message is `FILE:LINE: reason`."""


class Requirement(object):
    def __init__(self, name, op, version, systems=None, line=None):
        self.name = name
        self.op = op
        self.version = version
        self.systems = systems  # None: every host; else the patterns
        self.line = line

    def __repr__(self):
        return "Requirement(%r)" % self.text

    @property
    def text(self):
        return "%s %s %s" % (self.name, self.op, self.version)

    def applies_to(self, system):
        if self.systems is None:
            return True
        return any(system_matches(pattern, system or "") for pattern in self.systems)

    def satisfied_by(self, packager, installed):
        """True when `installed` (a version as reported) meets the requirement."""
        order = compare_to_requirement(packager, installed, self.version)
        return {"<": order < 0, "<=": order <= 0, "=": order == 0, ">=": order >= 0,
                ">": order > 0}[self.op]


def system_matches(pattern, system):
    match = EL_ALIAS_RE.match(pattern)
    if match:
        lowered = system.lower()
        numbers = re.findall(r"\d+", lowered)
        return (any(lowered.startswith(f) for f in EL_FAMILY) and bool(numbers)
                and numbers[0] == match.group(1))
    return fnmatch.fnmatch(system.lower(), pattern.lower())


def compare_to_requirement(packager, installed, required):
    """-1, 0, 1: installed against a requirement's version, comparing only
    the parts the requirement gives (a missing epoch is 0)."""
    if packager == "rpm":
        e1, v1, r1 = split_rpm_evr(installed)
        e2, v2, r2 = split_rpm_evr(required)
        order = rpmvercmp(e1 or "0", e2 or "0") or rpmvercmp(v1, v2)
        if order or r2 is None:
            return order
        return rpmvercmp(r1 or "", r2)
    if packager == "dpkg":
        e1, u1, r1 = split_dpkg_version(installed)
        e2, u2, r2 = split_dpkg_version(required)
        if e1 != e2:
            return 1 if e1 > e2 else -1
        order = verrevcmp(u1, u2)
        if not order and "-" in required.split(":", 1)[-1]:
            order = verrevcmp(r1, r2)
        return (order > 0) - (order < 0)
    raise ValueError("unknown packager %r" % packager)


def parse_requirement(text):
    """A Requirement from 'NAME OP VERSION'; ValueError with the reason."""
    words = text.split()
    if len(words) == 2 and any(words[1].startswith(op) for op in OPERATORS):
        # "xrootd >=5.6" written without the second space
        op = next(op for op in OPERATORS if words[1].startswith(op))
        words = [words[0], op, words[1][len(op):]]
    if len(words) != 3:
        # (with the epoch: EPEL's xrootd has 1, and none is 0, below any 1:)
        raise ValueError("expected 'NAME OP [EPOCH:]VERSION', e.g. 'xrootd >= 1:5.6.9'")
    name, op, version = words
    if not NAME_RE.match(name):
        raise ValueError("bad package name %r" % name)
    if op not in OPERATORS:
        raise ValueError("unknown operator %r (use < <= = >= >)" % op)
    if not VERSION_RE.match(version):
        raise ValueError("bad version %r" % version)
    epoch, ver, release = split_rpm_evr(version)
    if ":" in ver or not ver or (release is not None and not release):
        raise ValueError("bad version %r ([EPOCH:]VERSION[-RELEASE])" % version)
    if version.count(":") > 1 or (":" in version and epoch is None):
        raise ValueError("bad epoch in %r" % version)
    return Requirement(name, op, version)


def parse_baseline(text, filename="<baseline>"):
    """[Requirement] from baseline text; BaselineError 'FILE:LINE: reason'."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise BaselineError("%s: more than %d lines" % (filename, MAX_LINES))
    requirements = []
    systems = None
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if line.lower() in ("[all]", "[system: *]"):
                systems = None
                continue
            match = SCOPE_RE.match(line)
            if not match:
                raise BaselineError("%s:%d: expected [system: PATTERN, ...] or [all]"
                                    % (filename, number))
            systems = [p.strip() for p in match.group(1).split(",") if p.strip()]
            if not systems:
                raise BaselineError("%s:%d: no system pattern" % (filename, number))
            continue
        try:
            requirement = parse_requirement(line)
        except ValueError as exc:
            raise BaselineError("%s:%d: %s" % (filename, number, exc))
        requirement.systems = systems
        requirement.line = number
        requirements.append(requirement)
    if not requirements:
        raise BaselineError("%s: no requirement in the baseline" % filename)
    return requirements


def newest_per_arch(packager, rows):
    """{arch: version}: the newest installed version for each arch."""
    newest = {}
    for version, arch in rows:
        if arch not in newest or compare(packager, version, newest[arch]) > 0:
            newest[arch] = version
    return newest

"""The package block of a report: the rules of a package line (one,
_parse_line, and the patterns that save work on the common lines), the
stored form a package is kept and known by ("name TAB E:V-R TAB arch"),
and the set hash made of it. report.py reads the frame and the headers
and leaves the block to this module.
"""

import hashlib
import operator
import re
from itertools import filterfalse, islice

from .limits import MAX_ARCH, MAX_NAME, MAX_VERSION
from .versions import split_dpkg_version

# Character classes, written out in ASCII: in a str pattern \d and \s also
# match other scripts' digits and spaces.
PRINTABLE = r"\x21-\x7e"  # a package field: printable ASCII, no white space
RPM_PART = r"\x21-\x2c\x2e-\x39\x3b-\x7e"  # the same without '-' and ':'
FIELD_RE = re.compile(r"[%s]+" % PRINTABLE)
RPM_EVR_RE = re.compile(r"(?:([0-9]+|\(none\)):)?([%s]+)-([%s]+)" % (RPM_PART, RPM_PART))
DPKG_VERSION_RE = re.compile(r"(?:[0-9]+:)?[A-Za-z0-9.+~:-]+")

PUBKEY_NAMES = ("gpg-pubkey", "gpg-pubkey-release")
# the `version` header of reports whose package lines may carry a fourth
# field, the source package's name (pakiti-client's reports are version 1:
# three fields)
SOURCES_VERSION = "2"


class ReportError(ValueError):
    """The report is malformed; the message is the one-line reason."""


def split_lines(lines):
    """The (name, version, arch) of stored-form package lines."""
    fields = iter("\t".join(lines).split("\t"))  # no field holds a TAB
    return list(zip(fields, fields, fields))


def package_set_hash(packager, packages, lines=None):
    """sha256 of the packager and the sorted package lines. `lines`, when
    given, are those lines ("name TAB version TAB arch") already joined."""
    if lines is None:
        lines = "\n".join(map("\t".join, packages))
    return hashlib.sha256(("%s\n%s" % (packager, lines)).encode("utf-8")).digest()


def normalise_rpm_version(version):
    """'E:V-R' with the epoch written out (0 where absent or '(none)')."""
    match = RPM_EVR_RE.fullmatch(version)
    if not match:
        raise ValueError("not an rpm EPOCH:VERSION-RELEASE")
    epoch, ver, release = match.groups()
    if epoch is None or epoch == "(none)":
        epoch = "0"
    return "%d:%s-%s" % (int(epoch), ver, release)


def normalise_dpkg_version(version):
    if not DPKG_VERSION_RE.fullmatch(version):
        raise ValueError("not a dpkg version")
    split_dpkg_version(version)
    return version


def parse_block(package_lines, headers, first_number, valid=None):
    """(packages or None, their stored-form lines, sources) of a package
    block: a block in the stored form is not split into packages. Lines
    in the containers `valid` (Report.read_packages) are taken as they are: a host's
    changed report is mostly lines read before, and only the others are
    checked (the same rules: a block that is not all valid and stored-form
    lines is read the whole way, as without them)."""
    sources = {}
    if headers.get("version") == SOURCES_VERSION:
        if headers["packager"] == "rpm":
            block = "\n".join(package_lines)
            if STORED_RPM_BLOCK_SOURCES.fullmatch(block):
                return _stored_rpm_lines_sources(package_lines, block)
        package_lines, sources = _split_sources(package_lines, first_number)
    unique = _stored_lines(package_lines, headers["packager"], valid)
    if unique is not None:
        return None, unique, sources
    packages = _parsed_packages(package_lines, headers["packager"], first_number)
    return packages, list(map("\t".join, packages)), sources


SOURCE_COLUMN = re.compile(r"[%s]{1,%d}(?:\n[%s]{1,%d})*" % (PRINTABLE, MAX_NAME, PRINTABLE,
                                                            MAX_NAME))


def _fourth_fields(lines):
    """(the three-field lines, {name: source}) when every line has four
    TAB-separated fields and a valid fourth one, else None: done with
    str methods (the common case: this project's reporter writes a source
    on every line but the few rpm gives none for)."""
    block = "\n".join(lines)
    fields = block.replace("\n", "\t").split("\t")
    names, versions, arches, sources = (fields[0::4], fields[1::4], fields[2::4],
                                        fields[3::4])
    if len(fields) != 4 * len(lines) or "\n".join(map("\t".join, zip(
            names, versions, arches, sources))) != block:
        return None  # some line has another number of fields
    if not SOURCE_COLUMN.fullmatch("\n".join(sources)):
        return None
    return list(map("\t".join, zip(names, versions, arches))), dict(zip(names, sources))


def _split_sources(lines, first_number):
    """(the lines without their fourth field, {package name: source
    package name}) of a format-2 package block: a fourth field, where
    present, names the source package the binary was built from;
    ReportError for a bad one."""
    found = _fourth_fields(lines)
    if found is not None:
        return found
    sources = {}
    three_fields = []
    for number, line in enumerate(lines, first_number):
        separator = "\t" if "\t" in line else " "
        fields = line.split(separator)
        if len(fields) == 4:
            source = fields[3]
            if not FIELD_RE.fullmatch(source) or len(source) > MAX_NAME:
                raise ReportError("package line %d: bad source package name" % number)
            sources[fields[0]] = source
            line = separator.join(fields[:3])
        three_fields.append(line)
    return three_fields, sources


# ---------------------------------------------------------------- the line rules
#
# One rule decides whether a package line is valid: _parse_line, the strict
# per-line parser, which also names what is wrong. The patterns below only
# save work on the common lines, in one pass over the whole block. Each is
# the strict rule with narrower parts, so it accepts a subset of what
# _parse_line accepts and yields the same tuple:
#   - fields: the same PRINTABLE class, the same length limits, TAB only;
#   - rpm: an epoch of 1 to 9 ASCII digits always written (no "(none)",
#     no missing epoch), version and release of the RPM_EVR_RE classes;
#     the raw version's length is checked as _parse_line checks it (and a
#     written-out epoch only ever gets shorter: leading zeros go);
#   - dpkg: digits, letters and ".+~" only (no ":" or "-" inside the
#     upstream version), an epoch of at most 9 digits (dpkg's limit is
#     2**31 - 1);
#   - the stored form: an rpm block whose epochs are already written as
#     _parse_line writes them, kept as its lines.
# A block any line of which a pattern does not take goes to _parse_line
# line by line. tests/test_report_format.py feeds random lines to both.

NAME_FIELD = "[%s]{1,%d}" % (PRINTABLE, MAX_NAME)
ARCH_FIELD = "[%s]{1,%d}" % (PRINTABLE, MAX_ARCH)
RPM_VR = "([%s]+)-([%s]+)" % (RPM_PART, RPM_PART)
FAST_RPM_LINES = re.compile(r"^(%s)\t([0-9]{1,9}):%s\t(%s)$" % (NAME_FIELD, RPM_VR, ARCH_FIELD),
                            re.M)
FAST_DPKG_LINES = re.compile(r"^(%s)\t((?:[0-9]{1,9}:)?[0-9][A-Za-z0-9.+~]*"
                             r"(?:-[A-Za-z0-9.+~]+)?)\t(%s)$" % (NAME_FIELD, ARCH_FIELD), re.M)
STORED_RPM_LINE = (r"%s\t(?=[%s]{1,%d}\t)(?:0|[1-9][0-9]{0,8}):[%s]+-[%s]+\t%s"
                   % (NAME_FIELD, PRINTABLE, MAX_VERSION, RPM_PART, RPM_PART, ARCH_FIELD))
STORED_RPM_BLOCK = re.compile(r"%s(?:\n%s)*" % (STORED_RPM_LINE, STORED_RPM_LINE))
PUBKEY_LINE_STARTS = tuple(name + "\t" for name in PUBKEY_NAMES)
# the same with the fourth field of format 2 on every line
STORED_RPM_LINE_SOURCE = r"%s\t[%s]{1,%d}" % (STORED_RPM_LINE, PRINTABLE, MAX_NAME)
STORED_RPM_BLOCK_SOURCES = re.compile(r"%s(?:\n%s)*" % (STORED_RPM_LINE_SOURCE,
                                                        STORED_RPM_LINE_SOURCE))


def _parse_packages(lines, packager, first_number):
    """(sorted packages, their lines joined or None) of the package block
    (parse_report counted its lines against the caller's max_packages)."""
    unique = _stored_lines(lines, packager)
    if unique is not None:
        return split_lines(unique), "\n".join(unique)
    return _parsed_packages(lines, packager, first_number), None


def _stored_lines(lines, packager, valid=None):
    """The lines of a block in the stored form (an rpm block whose every
    line is in one of the containers `valid` or taken by STORED_RPM_BLOCK;
    a dpkg block whose every line is in one of them or taken by
    FAST_DPKG_LINES as it is), sorted, each once, signing keys left out;
    None for another block."""
    valid = [known for known in valid or () if known]
    if any(isinstance(known, str) for known in valid):  # (a line is no container of lines)
        raise TypeError("valid: containers of lines, not lines")
    if packager != "rpm" and not valid:
        return None  # (dpkg: _parsed_packages reads it)
    # (a line holds no newline: the block's lines are checked as a block)
    rest = lines
    for known in valid:
        rest = list(filterfalse(known.__contains__, rest))
    block = "\n".join(rest)
    if packager == "rpm":
        if rest and not STORED_RPM_BLOCK.fullmatch(block):
            return None
    elif rest and _fast_dpkg_lines(block, len(rest)) is None:
        return None
    # (a signing key's line is never in `valid`: looked for in the rest)
    return _sorted_unique_lines(lines, block)


def _parsed_packages(lines, packager, first_number):
    """The sorted packages of a block not in the stored form."""
    block = "\n".join(lines)
    if packager == "rpm":
        packages = _fast_rpm_lines(block, len(lines))
    else:
        packages = _fast_dpkg_lines(block, len(lines))
    if packages is None:
        return strict_packages(lines, packager, first_number)
    return _installed_packages(packages)


def strict_packages(lines, packager, first_number):
    """The sorted packages of a block, every line checked by _parse_line
    (the first numbered first_number); ReportError for the first bad one."""
    normalise = normalise_rpm_version if packager == "rpm" else normalise_dpkg_version
    packages = {_parse_line(line, number, normalise)
                for number, line in enumerate(lines, first_number)}
    packages.discard(None)
    return _installed_packages(packages)


def _installed_packages(packages):
    """The installed packages of a block, sorted, signing keys left out;
    ReportError when none is left."""
    packages = sorted(p for p in packages if p[0] not in PUBKEY_NAMES)
    if not packages:
        raise ReportError("report lists no package")
    return packages


def _sorted_unique_lines(lines, block):
    """The lines of a stored-form block, sorted, each once, signing keys
    left out. "name TAB version TAB arch" strings sort as their tuples do:
    TAB sorts before every character a field may hold."""
    unique = sorted(lines)  # in order already from this project's reporter: cheap
    if any(map(operator.eq, unique, islice(unique, 1, None))):
        unique = sorted(set(lines))
    if "gpg-pubkey" in block:
        unique = [line for line in unique if not line.startswith(PUBKEY_LINE_STARTS)]
    if not unique:
        raise ReportError("report lists no package")
    return unique


def _stored_rpm_lines_sources(lines, block):
    """The block of a format-2 report whose every line also names its
    source, in the stored form: (None, its stored lines, {name: source})."""
    unique = _sorted_unique_lines(lines, block)
    fields = "\t".join(unique).split("\t")  # no field holds a TAB or a newline
    names = fields[0::4]
    # (no tuple a package: they are split from the lines when asked for)
    stored = list(map("\t".join, zip(names, fields[1::4], fields[2::4])))
    if any(map(operator.eq, stored, islice(stored, 1, None))):
        stored = sorted(set(stored))  # one build named twice, with two sources
    return None, stored, dict(zip(names, fields[3::4]))


def _fast_rpm_lines(block, count):
    """The set of rpm lines, normalised, when FAST_RPM_LINES takes every
    line and no version is too long; else None."""
    found = FAST_RPM_LINES.findall(block)
    if len(found) != count:
        return None
    if any(len(epoch) + len(version) + len(release) + 2 > MAX_VERSION
           for _, epoch, version, release, _ in found):
        return None  # let _parse_line say which
    return {(name, "%s:%s-%s" % (epoch.lstrip("0") or "0", version, release), arch)
            for name, epoch, version, release, arch in found}


def _fast_dpkg_lines(block, count):
    """The set of dpkg lines when FAST_DPKG_LINES takes every line and no
    version is too long; else None."""
    found = FAST_DPKG_LINES.findall(block)
    if len(found) != count or any(len(version) > MAX_VERSION for _, version, _ in found):
        return None
    return set(found)


def _parse_line(line, number, normalise):
    """(name, version, arch) of a line, None for a signing key, or
    ReportError naming what is wrong: the rule every path follows."""
    fields = line.split("\t") if "\t" in line else line.split(" ")
    if len(fields) != 3:
        raise ReportError("package line %d is not 'name version arch'" % number)
    name, version, arch = fields
    for field, limit, what in ((name, MAX_NAME, "name"), (version, MAX_VERSION, "version"),
                               (arch, MAX_ARCH, "arch")):
        if not FIELD_RE.fullmatch(field):
            raise ReportError("package line %d: bad %s" % (number, what))
        if len(field) > limit:
            raise ReportError("package line %d: %s longer than %d" % (number, what, limit))
    if name in PUBKEY_NAMES:
        return None  # signing keys, not packages
    try:
        version = normalise(version)
    except ValueError as exc:
        raise ReportError("package line %d: %s %r" % (number, exc, version[:60]))
    if len(version) > MAX_VERSION:  # the epoch written out made it longer
        raise ReportError("package line %d: version longer than %d" % (number, MAX_VERSION))
    return (name, version, arch)

"""The wire format: parse and validate a protocol-5 plaintext report.

The same text comes from this project's reporter and from pakiti-client 3.x:

    #
    key: value          (lower-case keys, sorted or not; unknown keys kept)
    #
    name<TAB>version<TAB>arch   (a single space is accepted too)
    #

With `version: 2` a package line may carry a fourth field, the name of
the source package it was built from (the security advisories of Debian,
Ubuntu and some of Red Hat's name source packages only).

Since AES-CBC has no integrity check, this validation is the last line of
defence against garbage, so it is strict: every rule below names what failed.
"""

import hashlib
import json
import operator
import re
from itertools import filterfalse, islice

from .limits import (HEADER_LIMITS, MAX_ARCH, MAX_FACTS, MAX_HEADERS, MAX_KEY, MAX_NAME,
                     MAX_PACKAGES, MAX_VALUE, MAX_VERSION)
from .numerals import is_digits
from .text import has_invisible
from .versions import split_dpkg_version

PACKAGERS = ("rpm", "dpkg")

KEY_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")
# Character classes, written out in ASCII: in a str pattern \d and \s also
# match other scripts' digits and spaces.
PRINTABLE = r"\x21-\x7e"  # a package field: printable ASCII, no white space
RPM_PART = r"\x21-\x2c\x2e-\x39\x3b-\x7e"  # the same without '-' and ':'
FIELD_RE = re.compile(r"[%s]+" % PRINTABLE)
RPM_EVR_RE = re.compile(r"(?:([0-9]+|\(none\)):)?([%s]+)-([%s]+)" % (RPM_PART, RPM_PART))
DPKG_VERSION_RE = re.compile(r"(?:[0-9]+:)?[A-Za-z0-9.+~:-]+")
# a DNS name: labels of letters, digits, '_' and '-', none empty (no port)
HOST_LABEL_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}$")
# printable ASCII, nothing that means something in a URL (the pages put
# the site in their paths: a site named with '/' had no page of its own)
SITE_RE = re.compile(r"^[\x21-\x7e]+$")
SITE_FORBIDDEN = "/%?#"
SITE_RULE = "printable ASCII without spaces or / % ? #, not only dots"
# Header values: printable text (any script), none of the characters
# text.py's rule refuses (controls, and the invisible ones that make text
# display as something else: "AlmaLinux 9.4 \u202egnp.exe").
PUBKEY_NAMES = ("gpg-pubkey", "gpg-pubkey-release")
# the `version` header of reports whose package lines may carry a fourth
# field, the source package's name (pakiti-client's reports are version 1:
# three fields)
SOURCES_VERSION = "2"


class ReportError(ValueError):
    """The report is malformed; the message is the one-line reason."""


class TooManyPackages(ReportError):
    """The report lists more packages than the collector takes (HTTP 413)."""


class Report(object):
    """A report whose frame and headers are validated: its packages, the
    normalised set, are parsed (and validated) when first asked for, so
    that a block a host sent before, byte for byte, need not be (the
    writer compares block_hash with the host's first)."""

    def __init__(self, headers, plaintext, package_lines, first_number):
        self.headers = headers
        self.site = headers["site"]
        self.host = headers["host"]
        self.packager = headers["packager"]
        self.ts = int(headers["ts"]) if "ts" in headers else None
        self.plaintext = plaintext  # kept as sent: a quarantined report is stored so
        self.facts = facts_json(headers)
        self.digest = hashlib.sha256(plaintext).digest()
        # the package block as sent, with what decides how it is read
        self.block_hash = hashlib.sha256(("%s\n%s\n%s" % (
            self.packager, headers.get("version", ""), "\n".join(package_lines))).encode(
                "utf-8")).digest()
        self.line_count = len(package_lines)
        self._lines = package_lines
        self._first_number = first_number
        self._parsed = None

    @property
    def parsed(self):
        """Whether the package lines have been read."""
        return self._parsed is not None

    def read_packages(self, valid=None):
        """Read (and validate) the package lines now: ReportError if bad.
        valid: containers of stored-form lines known to be valid packages
        (the lines of reports read before, never a signing key's), not
        checked again; the result is what it would be without them."""
        self._parse(valid)

    def _parse(self, valid=None):
        """(packages or None, lines, set hash, sources); ReportError for a
        bad block. A block in the stored form is kept as its lines: its
        packages are split from them only when asked for."""
        if self._parsed is None:
            packages, lines, sources = _parse_block(self._lines, self.headers,
                                                    self._first_number, valid)
            self._parsed = [packages, lines, package_set_hash(
                self.packager, packages, "\n".join(lines)), sources]
            self._lines = None
        return self._parsed

    @property
    def packages(self):
        """The sorted list of (name, version, arch)."""
        parsed = self._parse()
        if parsed[0] is None:
            parsed[0] = split_lines(parsed[1])
        return parsed[0]

    @property
    def lines(self):
        """The packages as their stored-form lines ("name TAB version TAB
        arch", the version normalised), sorted as packages are: what the
        set hash is made of, and what the writer knows package rows by."""
        return self._parse()[1]

    @property
    def set_hash(self):
        """sha256 of the normalised set (package_set_hash)."""
        return self._parse()[2]

    @property
    def sources(self):
        """{binary package name: source package name}, from format 2 reports."""
        return self._parse()[3]


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


def _printable(text, what):
    if has_invisible(text):
        raise ReportError("%s holds a control character or an invisible formatting one"
                          % what)


def parse_report(data, max_packages=MAX_PACKAGES, lazy=False):
    """A Report from the plaintext bytes; ReportError with the reason if bad
    (TooManyPackages for more than max_packages lines, told before any line
    is looked at, so that a huge body costs no more memory than itself).
    lazy: the package lines are parsed when first asked for (and their
    ReportError raised then)."""
    lines_at_most = max_packages + MAX_HEADERS + 3
    if data.count(b"\n") > lines_at_most:
        raise TooManyPackages("report lists more than %d packages" % max_packages)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError("report is not UTF-8 text (byte %d)" % exc.start)
    if "\x00" in text:
        raise ReportError("report holds a NUL byte")
    if not text.startswith("#\n"):
        raise ReportError("report does not start with a '#' line")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    # lines[0] is '#'; headers run to the next '#', packages to the third
    try:
        second = lines.index("#", 1)
    except ValueError:
        raise ReportError("report has no '#' line after the headers")
    try:
        third = lines.index("#", second + 1)
    except ValueError:
        raise ReportError("report has no package section closed by a '#' line")
    if third == second + 1:
        raise ReportError("report lists no package")
    if third != len(lines) - 1:
        raise ReportError("text after the closing '#' line (line %d)" % (third + 2))
    if third - second - 1 > max_packages:
        raise TooManyPackages("report lists more than %d packages" % max_packages)
    headers = _parse_headers(lines[1:second])
    report = Report(headers, data, lines[second + 1:third], second + 2)
    if not lazy:
        report.read_packages()  # a bad line is this call's error
    return report


def _parse_block(package_lines, headers, first_number, valid=None):
    """(packages or None, their stored-form lines, sources) of a package
    block: a block in the stored form is not split into packages. Lines
    in `valid` (Report.read_packages) are taken as they are: a host's
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


def _parse_headers(lines):
    if len(lines) > MAX_HEADERS:
        raise ReportError("report has more than %d header lines" % MAX_HEADERS)
    headers = {}
    for number, line in enumerate(lines, 2):
        key, sep, value = line.partition(":")
        if not sep:
            raise ReportError("header line %d is not 'key: value'" % number)
        if not KEY_RE.match(key) or len(key) > MAX_KEY:
            raise ReportError("header line %d: bad key %r" % (number, key[:MAX_KEY]))
        value = value.strip(" \t")
        limit = HEADER_LIMITS.get(key, MAX_VALUE)
        if len(value) > limit:
            raise ReportError("header %s is longer than %d characters" % (key, limit))
        _printable(value, "header %s" % key)
        if key in headers:
            raise ReportError("header %s appears twice" % key)
        headers[key] = value
    for key in ("site", "host", "packager"):
        if not headers.get(key):
            raise ReportError("header %s is missing" % key)
    if headers["packager"] not in PACKAGERS:
        raise ReportError("unknown packager %r (rpm or dpkg)" % headers["packager"])
    # DNS names are case-insensitive, and "wn1.x.org." is "wn1.x.org"
    host = headers["host"].lower()
    headers["host"] = host[:-1] if host.endswith(".") else host
    if not all(HOST_LABEL_RE.match(label) for label in headers["host"].split(".")):
        raise ReportError("header host %r is not a host name (DNS labels, no port)"
                          % headers["host"][:MAX_VALUE])
    if not is_site_name(headers["site"]):
        raise ReportError("header site %r is not a site name (%s)" % (headers["site"], SITE_RULE))
    if "ts" in headers and not (is_digits(headers["ts"]) and len(headers["ts"]) <= 12):
        raise ReportError("header ts %r is not Unix seconds" % headers["ts"])
    if len(facts_json(headers)) > MAX_FACTS:
        raise ReportError("the headers take more than %d bytes" % MAX_FACTS)
    return headers


def is_site_name(name):
    """Whether a report may carry name as its site (SITE_RULE): the pages
    put it in their paths, where '.' and '..' are no name but a step."""
    return (bool(SITE_RE.match(name)) and not any(c in name for c in SITE_FORBIDDEN)
            and name.strip(".") != "" and len(name) <= HEADER_LIMITS["site"])


def facts_json(headers):
    """The headers as the store keeps them (ASCII JSON, keys sorted)."""
    return json.dumps(headers, sort_keys=True)


def facts_hash(headers):
    """What tells a host's facts apart from its last ones: every header but
    ts (which changes with each report)."""
    return hashlib.sha256(facts_json(
        {k: v for k, v in headers.items() if k != "ts"}).encode("utf-8")).digest()


# ---------------------------------------------------------------- package lines
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

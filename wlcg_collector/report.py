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
import re

from .limits import HEADER_LIMITS, MAX_FACTS, MAX_HEADERS, MAX_KEY, MAX_PACKAGES, MAX_VALUE
from .numerals import is_digits
# (ReportError, package_set_hash and split_lines are imported from here too)
from .package_lines import ReportError, package_set_hash, parse_block, split_lines
from .text import has_invisible

PACKAGERS = ("rpm", "dpkg")

KEY_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")
# a DNS name: labels of letters, digits, '_' and '-', none empty (no port)
HOST_LABEL_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}$")
# printable ASCII, nothing that means something in a URL (the pages put
# the site in their paths: a site named with '/' had no page of its own)
SITE_RE = re.compile(r"^[\x21-\x7e]+$")
SITE_FORBIDDEN = "/%?#"
SITE_RULE = "printable ASCII without spaces or / % ? #, not only dots"


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
            packages, lines, sources = parse_block(self._lines, self.headers,
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



def _printable(text, what):
    """Header values: printable text (any script), none of the characters
    text.py's rule refuses (controls, and the invisible ones that make
    text display as something else: "AlmaLinux 9.4 \u202egnp.exe")."""
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

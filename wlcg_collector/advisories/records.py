"""The one form every feed is read into."""

import json
from collections import namedtuple

from ..limits import (MAX_ARCH, MAX_CVE, MAX_IDENT, MAX_MODULE, MAX_NAME, MAX_STREAM,
                      MAX_TITLE, MAX_VERSION)

# most severe first; "none": a bug fix or enhancement advisory (no
# security impact), "unknown": the feed gives no severity
SEVERITIES = ("critical", "important", "moderate", "low", "none", "unknown")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

FORMATS = ("osv", "csaf", "debian-tracker", "dsa-list")

BINARY, SOURCE = "binary", "source"

# the columns a feed's values are stored in (limits.py has their sizes): a
# value that does not fit refuses its advisory, never a batch of others
# content and its revisions are MEDIUMTEXT; the JSON's keys need a little
# more than the values' list form measured here
MAX_CONTENT = (1 << 24) - 1 - 4096
TIME_RANGE = (-(1 << 63), (1 << 63) - 1)  # BIGINT

# An advisory: ident is the vendor's id (ALSA-2023:5259, RHSA-2024:6163,
# USN-5614-1, DEBIAN-CVE-2022-0456, DSA-5970-1); published and modified are
# Unix seconds (None: the feed does not say); cves a sorted tuple.
Advisory = namedtuple("Advisory", "ident format title severity published modified cves url "
                                  "affected")

# One affected package on one OS stream: name is a binary package name
# (kind BINARY) or a source package name (kind SOURCE, for feeds that name
# no binaries); arch None for any arch; module the EL module stream
# ("mariadb:10.3") the fixed build belongs to, or None; introduced None
# for "every version before"; fixed None for "no fix" (every version from
# introduced, or up to last_affected); pro: the fix needs Ubuntu Pro.
Affected = namedtuple("Affected", "stream name kind arch module introduced fixed last_affected "
                                  "pro")


def worst_severity(names):
    """The most severe of these severity names ("unknown" for none)."""
    ranked = sorted((SEVERITY_RANK[n], n) for n in names if n in SEVERITY_RANK)
    return ranked[0][1] if ranked else "unknown"


class AdvisoryError(ValueError):
    """A feed file is not valid: the message is the one-line reason."""


def _ascii_field(value, what, limit, optional=False):
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.isascii() or not value.isprintable() \
            or not 0 < len(value) <= limit:
        raise AdvisoryError("%s %r is not printable ASCII of 1 to %d characters"
                            % (what, str(value)[:60], limit))


def _time(value, what):
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or
                              not TIME_RANGE[0] <= value <= TIME_RANGE[1]):
        raise AdvisoryError("%s %r is not a time" % (what, str(value)[:40]))


def check_affected(row):
    """AdvisoryError unless an Affected fits its columns."""
    _ascii_field(row.stream, "stream", MAX_STREAM)
    _ascii_field(row.name, "package name", MAX_NAME)
    if row.kind not in (BINARY, SOURCE):
        raise AdvisoryError("kind %r is neither %s nor %s" % (str(row.kind)[:20], BINARY, SOURCE))
    _ascii_field(row.arch, "arch", MAX_ARCH, optional=True)
    _ascii_field(row.module, "module", MAX_MODULE, optional=True)
    for what in ("introduced", "fixed", "last_affected"):
        _ascii_field(getattr(row, what), what, MAX_VERSION, optional=True)
    if not isinstance(row.pro, bool):
        raise AdvisoryError("pro %r is not true or false" % str(row.pro)[:20])


def check_advisory(advisory):
    """AdvisoryError unless every value of an Advisory fits the column it
    is stored in: the last check before the database, whatever the feed."""
    _ascii_field(advisory.ident, "advisory id", MAX_IDENT)
    if advisory.format not in FORMATS or advisory.severity not in SEVERITIES:
        raise AdvisoryError("format %r or severity %r is not one this collector knows"
                            % (str(advisory.format)[:20], str(advisory.severity)[:20]))
    title = advisory.title
    if not isinstance(title, str) or len(title) > MAX_TITLE or not _is_utf8(title):
        raise AdvisoryError("title is not text of at most %d characters" % MAX_TITLE)
    _time(advisory.published, "published")
    _time(advisory.modified, "modified")
    for cve in advisory.cves:
        _ascii_field(cve, "CVE", MAX_CVE)
    for row in advisory.affected:
        check_affected(row)
    # an estimate of the stored JSON from below: a list, not a dict
    size = len(json.dumps(advisory, separators=(",", ":")))
    if size > MAX_CONTENT:
        raise AdvisoryError("%d bytes as stored, more than %d" % (size, MAX_CONTENT))
    return advisory


def _is_utf8(text):
    """Whether text can be written as UTF-8 (a lone surrogate from a JSON
    escape cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

"""What every feed format's reader shares: the checks each value passes
before it becomes part of a records.Advisory, the feeds' severity words,
their times, and the rule that a record that is not valid is refused
alone. Pure; AdvisoryError names what is wrong."""

import calendar
import datetime
import re

from ..text import without_invisible
from .records import MAX_NAME, MAX_TITLE, MAX_VERSION, Advisory, AdvisoryError, check_advisory

# the largest real advisories (kernel updates) list a few thousand builds
MAX_AFFECTED = 20000

IDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}$")
CVE_RE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
URL_RE = re.compile(r"^https?://[\x21-\x7e]{1,490}$")
FIELD_RE = re.compile(r"^[\x21-\x7e]+$")
TIME_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})"
                     r"(?::([0-9]{2})(?:\.[0-9]+)?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$")
# an EL module stream build: .module_el8.8.0+3609+204d4ab0 (AlmaLinux,
# Rocky), .module+el8.8.0+19673+72b0d35f (Red Hat)
MODULE_BUILD_RE = re.compile(r"\.module[+_]el[0-9]")

# the feeds' words for severity, as records.SEVERITIES
SEVERITY_WORDS = {
    "critical": "critical", "important": "important", "high": "important",
    "moderate": "moderate", "medium": "moderate", "low": "low", "negligible": "low",
    "unimportant": "low", "none": "none",
}


def severity_word(text):
    """records.SEVERITIES name of a feed's severity word ("high**" is the
    tracker's "high, set by a tool"); None when it is not one."""
    if not isinstance(text, str):
        return None
    return SEVERITY_WORDS.get(text.strip().rstrip("*").lower())


def parse_time(text, what):
    """Unix seconds of an ISO 8601 time (a date alone is its midnight, UTC)."""
    if text is None:
        return None
    match = TIME_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise AdvisoryError("%s %r is not an ISO 8601 time" % (what, str(text)[:40]))
    year, month, day, hour, minute, second, zone = match.groups()
    seconds = utc_seconds(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0))
    if seconds is None:
        raise AdvisoryError("%s %r is not a date" % (what, text[:40]))
    if zone and zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def utc_seconds(*fields):
    """Unix seconds of a UTC (year, month, day, hour, minute, second), or
    None for one that is no real time (month 13, 31 June)."""
    try:
        datetime.datetime(*fields)
    except ValueError:
        return None
    return calendar.timegm(fields)


def field(value, what, limit=MAX_NAME):
    """value, if it is printable ASCII without spaces of at most limit
    characters (a name, a stream, a version)."""
    if not isinstance(value, str) or not FIELD_RE.match(value) or len(value) > limit:
        raise AdvisoryError("%s %r is not printable ASCII of at most %d characters"
                            % (what, str(value)[:60], limit))
    return value


def version_field(value, what):
    return field(value, what, MAX_VERSION)


def advisory_id(value):
    if not isinstance(value, str) or not IDENT_RE.match(value):
        raise AdvisoryError("advisory id %r is not an id" % str(value)[:60])
    return value


def record_label(record, key, otherwise=None):
    """What names a record in a refusal: its id under key if that is an
    id, else otherwise."""
    ident = record.get(key) if isinstance(record, dict) else None
    return ident if isinstance(ident, str) and IDENT_RE.match(ident) else otherwise


def cves_in(*texts):
    """The sorted CVE ids found in these texts and lists of texts."""
    found = set()
    for text in texts:
        if isinstance(text, str):
            found.update(CVE_RE.findall(text))
        elif isinstance(text, (list, tuple)):
            found.update(c for t in text if isinstance(t, str) for c in CVE_RE.findall(t))
    return tuple(sorted(found))


def json_object(value, what):
    if not isinstance(value, dict):
        raise AdvisoryError("%s is not a JSON object" % what)
    return value


def json_list(value, what):
    """value, a JSON list; [] for a missing one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdvisoryError("%s is not a JSON list" % what)
    return value


def module_of(fixed, label):
    """The EL module stream of a range whose fixed build is a module
    build: label, or "" when the feed names none; None for a plain build."""
    if fixed and MODULE_BUILD_RE.search(fixed):
        return label or ""
    return None


def make_advisory(ident, fmt, title, severity, published, modified, cves, url, affected):
    """The records.Advisory of checked values, each checked against its
    column (a link that is not http(s) is dropped, not refused)."""
    if len(affected) > MAX_AFFECTED:
        raise AdvisoryError("lists more than %d affected packages" % MAX_AFFECTED)
    url = url if isinstance(url, str) and URL_RE.match(url) else None
    return check_advisory(Advisory(
        ident, fmt, _title(title if isinstance(title, str) else ""), severity, published,
        modified, cves, url, tuple(sorted(set(affected), key=_affected_order))))


def _title(text):
    # without control characters and the invisible ones that make text
    # display as something else (a title is printed on the officer's terminal)
    text = " ".join(without_invisible(str(text or "")).split())
    return text[:MAX_TITLE]


def _affected_order(row):
    return tuple("" if v is None else str(v) for v in row)


def read_record(record, parse_one, *args):
    """(record, what parse_one(*args) returns, or the AdvisoryError that
    refuses the record)."""
    try:
        return record, parse_one(*args)
    except AdvisoryError as exc:
        return record, exc
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as exc:
        # a shape no check foresaw: this record is refused, never the run
        return record, AdvisoryError("unexpected content (%s)" % type(exc).__name__)

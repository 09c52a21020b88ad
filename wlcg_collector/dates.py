"""ISO 8601 dates in UTC, in and out."""

import datetime
import re
import time

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?"
                       r"(?:Z|\+00:?00)?$")


def parse_date(text):
    """Unix seconds of '2026-01-31' (its 00:00:00 UTC) or
    '2026-01-31T18:00:00Z'; ValueError with the reason otherwise."""
    text = text.strip()
    match = _DATE.match(text) or _DATETIME.match(text)
    if not match:
        raise ValueError("%r is not an ISO 8601 UTC date (2026-01-31 or 2026-01-31T18:00:00Z)"
                         % text)
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        when = datetime.datetime(*parts, tzinfo=datetime.timezone.utc)
    except ValueError as exc:
        raise ValueError("%r is not a valid date: %s" % (text, exc))
    return int(when.timestamp())


def format_time(seconds):
    """'2026-01-31T18:00:00Z', or None for None."""
    if seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def format_day(seconds):
    """'2026-01-31': the UTC day of a time."""
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))

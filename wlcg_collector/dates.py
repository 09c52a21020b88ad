"""ISO 8601 dates in UTC, in and out, and the lengths of time every
question shares."""

import datetime
import re
import time

DAY = 86400  # seconds
# a time later than any report: "hosts known then" is every host, and the
# state then is the latest
FAR_FUTURE = 2 ** 62
# the longest curve (adoption, exposure), in days
MAX_DAYS = 3660

# ASCII digits written out: \d would also take other scripts' digits,
# which int() then reads ('\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661'
# as 2026-01-01)
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_DATETIME = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})"
                       r"(?::([0-9]{2}))?(?:Z|\+00:?00)?$")


FIRST_YEAR, LAST_YEAR = 1970, 9999


def parse_date(text):
    """Unix seconds of '2026-01-31' (its 00:00:00 UTC) or
    '2026-01-31T18:00:00Z'; ValueError with the reason otherwise."""
    text = text.strip()
    match = _DATE.match(text) or _DATETIME.match(text)
    if not match:
        raise ValueError("%r is not an ISO 8601 UTC date (2026-01-31 or 2026-01-31T18:00:00Z)"
                         % text)
    parts = [int(p) if p else 0 for p in match.groups()]
    if not FIRST_YEAR <= parts[0] <= LAST_YEAR:
        # (before the first report and after what a time prints as four digits)
        raise ValueError("%r is not a date from %d to %d" % (text, FIRST_YEAR, LAST_YEAR))
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


def format_days(seconds):
    """'12.5 days': a length of time in days, as the commands' --days count."""
    return "%.1f days" % (seconds / DAY)

"""Numbers as a person or a file writes them: the one way they are read.

A number from outside (an option, a config value, a page parameter, a
date, a header, a feed) is ASCII digits 0-9, with a fraction where one is
meant. Python reads more: int() and datetime.strptime() take other
scripts' digits ('\u0662\u0660\u0662\u0666' is 2026 to them), int() takes
'+5', ' 5 ' and '1_000', float() takes 'nan', 'inf', '1e3' and '-1', and
str.isdigit() is true for '\u00b2'. None of these is a number here.
"""

import math
import re

# ASCII classes written out: in a str pattern \d also matches other
# scripts' digits
WHOLE_RE = re.compile(r"[0-9]+\Z")
SIGNED_RE = re.compile(r"-?[0-9]+\Z")
DECIMAL_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z")


def is_digits(text):
    """Whether text is ASCII digits 0-9 only (at least one)."""
    return isinstance(text, str) and WHOLE_RE.match(text) is not None


def whole_number(text, signed=False):
    """The int written in text (ASCII digits, a leading '-' only when
    signed; white space around it ignored); ValueError otherwise."""
    text = str(text).strip()
    if not (SIGNED_RE if signed else WHOLE_RE).match(text):
        raise ValueError("%r is not a whole number" % text[:40])
    return int(text)


def decimal_number(text):
    """The float written 123 or 1.5 in text (ASCII digits, no sign, no
    exponent; white space around it ignored); ValueError otherwise, also
    for one so long that it is no finite float."""
    text = str(text).strip()
    value = float(text) if DECIMAL_RE.match(text) else math.nan
    if not math.isfinite(value):
        raise ValueError("%r is not a number" % text[:20])
    return value

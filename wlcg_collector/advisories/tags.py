"""Tags on advisories ("EGI-Critical": the advisories that matter to the
grid), and the checks of what the officer writes of a tag or an exception:
a name, a URL, a text, who did it, the advisory or CVE named. Pure: text
in, values or DecisionError out; storage is db/tag_store.py.

A tag names advisories (by ident) and CVEs; a CVE stands for every stored
advisory that names it, those imported later too (resolved when asked).
"""

import re

from ..limits import (COLUMNS, MAX_CVE, MAX_EXCEPTION_REASON, MAX_IDENT, MAX_OFFICER,
                      MAX_TAG_DESCRIPTION, MAX_TAG_NAME, MAX_TAG_URL)
from ..text import has_invisible

# what a tag or an exception names: one advisory (its ident) or one CVE
ADVISORY, CVE = "advisory", "cve"
TARGET_KINDS = (ADVISORY, CVE)

# ASCII written out: \w and \d would take other scripts' letters and digits
TAG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,%d}\Z" % (MAX_TAG_NAME - 1))
CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,%d}\Z" % (MAX_CVE - 9))
# what narrows an exception, each in a column of its own
SCOPE_FIELDS = ("package", "version", "site", "host")
SCOPE_LIMITS = {field: COLUMNS["advisory_exceptions", field] for field in SCOPE_FIELDS}
# a tag's page for people: shown as a link only when it is one of these
LINK_SCHEMES = ("https://", "http://")


class DecisionError(ValueError):
    """What was written of a tag or an exception is refused: the message
    is the one-line reason."""


def tag_name(text):
    """A tag's name: a letter or digit, then letters, digits, '.', '_'
    and '-', at most MAX_TAG_NAME in all."""
    if not isinstance(text, str) or not TAG_NAME.match(text):
        raise DecisionError("tag name %r: a letter or digit, then letters, digits, '.', '_' or "
                            "'-', at most %d characters" % (str(text)[:80], MAX_TAG_NAME))
    return text


def tag_url(text):
    """A tag's URL (None: none): https:// or http://, one printable ASCII
    word."""
    if text is None:
        return None
    if not isinstance(text, str) or not text.lower().startswith(LINK_SCHEMES) or \
            not text.split("://", 1)[1] or not text.isascii() or not text.isprintable() or \
            " " in text or len(text) > MAX_TAG_URL:
        raise DecisionError("URL %r: an https:// or http:// address of at most %d characters"
                            % (str(text)[:80], MAX_TAG_URL))
    return text


def is_link(url):
    """Whether a stored URL is shown as a link (pages)."""
    return isinstance(url, str) and url.lower().startswith(LINK_SCHEMES)


def text_of(text, what, limit, required=False):
    """Text the officer wrote (a description, a reason), its ends
    stripped: visible characters only (text.py's rule), at most `limit`;
    None for none, unless `required`."""
    if text is None and not required:
        return None
    if not isinstance(text, str):
        raise DecisionError("%s is not text" % what)
    text = text.strip()
    if not text:
        if required:
            raise DecisionError("%s is empty: say why" % what if what == "reason"
                                else "%s is empty" % what)
        return None
    if has_invisible(text):
        raise DecisionError("%s holds a control or invisible character" % what)
    if len(text) > limit:
        raise DecisionError("%s is longer than %d characters" % (what, limit))
    return text


def description_of(text):
    return text_of(text, "description", MAX_TAG_DESCRIPTION)


def reason_of(text):
    return text_of(text, "reason", MAX_EXCEPTION_REASON, required=True)


def who_of(text):
    """Who did it: a login or a name given, one word or a few."""
    return text_of(text, "who", MAX_OFFICER, required=True)


def scope_value(field, text, shown=None):
    """A package, version, site or host that narrows an exception (shown:
    its name in a message, default the field's)."""
    return text_of(text, shown or field, SCOPE_LIMITS[field], required=True)


def cve_of(text):
    """A CVE id, in capitals, or DecisionError."""
    cve = text.strip().upper() if isinstance(text, str) else ""
    if not CVE_ID.match(cve):
        raise DecisionError("%r is not a CVE id (CVE-2024-12345)" % str(text)[:80])
    return cve


def advisory_of(text):
    """An advisory's ident as stored (printable ASCII, no spaces), or
    DecisionError. A CVE is not an advisory."""
    if not isinstance(text, str) or not text or not text.isascii() or \
            not text.isprintable() or " " in text or len(text) > MAX_IDENT:
        raise DecisionError("%r is not an advisory id" % str(text)[:80])
    if text.upper().startswith("CVE-"):
        raise DecisionError("%s is a CVE, not an advisory" % text)
    return text


def target_of(text):
    """(ADVISORY, ident) or (CVE, id) of an ID argument: a CVE when it
    starts with CVE- (as `exposure` reads its argument)."""
    if isinstance(text, str) and text.strip().upper().startswith("CVE-"):
        return CVE, cve_of(text)
    return ADVISORY, advisory_of(text)

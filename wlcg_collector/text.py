"""The one rule for characters that are not visible text: what a header
value of a report may not hold, and what is taken out of an advisory's
title before it reaches the officer's terminal or pages.

The rule is Unicode's general categories, not a list, so that it covers
every such character this Python's Unicode knows:

    Cc  controls (C0, DEL, C1: a terminal's escape sequences)
    Cf  format characters: zero-width ones, bidi embeddings, overrides,
        isolates and marks (U+061C), the soft hyphen, U+180E, the tag
        characters, interlinear annotations (U+FFF9), the byte order mark
        ("AlmaLinux 9.4 " U+202E "gnp.exe" shows as "AlmaLinux 9.4 exe.png")
    Co  private use: shows as whatever a font puts there
    Cs  surrogates (only reachable through a lone escape, never real text)
    Cn  unassigned in this Python's Unicode: a format character of a
        later one would otherwise pass (U+2065, a gap among the invisible
        operators, was refused before the rule was categories)
    Zl  U+2028 and Zp U+2029: line and paragraph separators, which break a
        line where none is seen

Spaces (Zs) stay: they show as space. str.isprintable() refuses all of
the above (and the spaces other than ' '), so text it passes needs no
look at its characters: the common case costs one C call.
"""

import unicodedata

INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"))


def is_invisible(char):
    """Whether a character is one the rule refuses."""
    return unicodedata.category(char) in INVISIBLE_CATEGORIES


def has_invisible(text):
    """Whether text holds a character the rule refuses."""
    if text.isprintable():
        return False
    return any(map(is_invisible, text))


def without_invisible(text, replacement=" "):
    """text with each character the rule refuses replaced."""
    if text.isprintable():
        return text
    return "".join(replacement if is_invisible(char) else char for char in text)


def escaped(text, limit=None):
    """Text as one line that cannot drive a terminal and still says what
    it is: a byte that is not UTF-8 (a surrogate escape of a file name) as
    \\xff, a control or invisible character as its escape (\\x1b, \\n,
    \\u202e); limit: at most that many characters of text. What it returns
    is returned unchanged: a line made of such parts can be escaped again."""
    text = str(text)
    if limit is not None:
        text = text[:limit]
    if text.isprintable():
        return text
    return "".join(_shown(char) for char in text)


def _shown(char):
    if "\udc80" <= char <= "\udcff":
        return "\\x%02x" % (ord(char) - 0xdc00)
    return char if char.isprintable() else ascii(char)[1:-1]

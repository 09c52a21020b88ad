"""Version comparison exactly as rpm and dpkg do it.

`rpmvercmp` follows rpm's lib/rpmvercmp.c (4.18), `rpm_labelcompare` the
`rpm.labelCompare` of rpm's Python bindings, and `dpkg_compare` dpkg's
lib/dpkg/version.c (`dpkg --compare-versions`). Only ASCII letters and
digits count as alphanumeric, as in the C code (rislower/risdigit).
"""

from functools import lru_cache

from .numerals import is_digits


def _isalnum(c):
    return ("0" <= c <= "9") or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _isdigit(c):
    return "0" <= c <= "9"


def _isalpha(c):
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _sign(value):
    return (value > 0) - (value < 0)


def rpmvercmp(a, b):
    """-1, 0 or 1 as rpm's rpmvercmp(a, b), `~` and `^` included."""
    if a == b:
        return 0
    i, j = 0, 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not _isalnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < lb and not _isalnum(b[j]) and b[j] not in "~^":
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        # tilde sorts before everything, even the end of the string
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        # caret sorts after the end of the string, before anything else
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        if _isdigit(ca):
            end_a = i
            while end_a < la and _isdigit(a[end_a]):
                end_a += 1
            end_b = j
            while end_b < lb and _isdigit(b[end_b]):
                end_b += 1
            isnum = True
        else:
            end_a = i
            while end_a < la and _isalpha(a[end_a]):
                end_a += 1
            end_b = j
            while end_b < lb and _isalpha(b[end_b]):
                end_b += 1
            isnum = False
        seg_a, seg_b = a[i:end_a], b[j:end_b]
        if not seg_b:
            # different types: numeric is newer than alpha
            return 1 if isnum else -1
        if isnum:
            seg_a = seg_a.lstrip("0")
            seg_b = seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
        i, j = end_a, end_b
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


def _compare_values(a, b):
    if a is None and b is None:
        return 0
    if b is None:
        return 1
    if a is None:
        return -1
    return rpmvercmp(a, b)


def rpm_labelcompare(evr1, evr2):
    """-1, 0 or 1 as rpm.labelCompare((e, v, r), (e, v, r)): a missing epoch
    is 0, a missing (None) version or release is older than any."""
    e1, v1, r1 = evr1
    e2, v2, r2 = evr2
    e1 = "0" if e1 is None else str(e1)
    e2 = "0" if e2 is None else str(e2)
    return (_compare_values(e1, e2) or _compare_values(v1, v2)
            or _compare_values(r1, r2))


def split_rpm_evr(text):
    """(epoch, version, release) of '[E:]V[-R]'; None for a part not given."""
    epoch = None
    if ":" in text:
        head, rest = text.split(":", 1)
        if is_digits(head):
            epoch, text = head, rest
    release = None
    if "-" in text:
        text, release = text.rsplit("-", 1)
    return epoch, text, release


def rpm_compare(a, b):
    """Compare two full rpm versions written '[E:]V[-R]'."""
    return rpm_labelcompare(split_rpm_evr(a), split_rpm_evr(b))


# ---------------------------------------------------------------- dpkg

def _dpkg_order(c):
    if not c or _isdigit(c):
        return 0
    if _isalpha(c):
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def verrevcmp(a, b):
    """dpkg's comparison of one version part (upstream or revision): <0, 0, >0."""
    i, j = 0, 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        first_diff = 0
        while (i < la and not _isdigit(a[i])) or (j < lb and not _isdigit(b[j])):
            ac = _dpkg_order(a[i] if i < la else "")
            bc = _dpkg_order(b[j] if j < lb else "")
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < la and a[i] == "0":
            i += 1
        while j < lb and b[j] == "0":
            j += 1
        while i < la and j < lb and _isdigit(a[i]) and _isdigit(b[j]):
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < la and _isdigit(a[i]):
            return 1
        if j < lb and _isdigit(b[j]):
            return -1
        if first_diff:
            return first_diff
    return 0


def split_dpkg_version(text):
    """(epoch, upstream, revision) as dpkg's parseversion; ValueError if invalid."""
    text = text.strip()
    if not text:
        raise ValueError("version string is empty")
    if any(c.isspace() for c in text):
        raise ValueError("version string has embedded spaces")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head:
            raise ValueError("epoch in version is empty")
        if not is_digits(head):
            raise ValueError("epoch in version is not number")
        epoch = int(head)
        if epoch > 2147483647:
            raise ValueError("epoch in version is too big")
        if not text:
            raise ValueError("nothing after colon in version number")
    revision = ""
    if "-" in text:
        text, revision = text.rsplit("-", 1)
        if not revision:
            raise ValueError("revision number is empty")
    if not text:
        raise ValueError("version number is empty")
    return epoch, text, revision


def dpkg_compare(a, b):
    """-1, 0 or 1 as `dpkg --compare-versions a lt|eq|gt b`."""
    ea, ua, ra = split_dpkg_version(a)
    eb, ub, rb = split_dpkg_version(b)
    if ea != eb:
        return 1 if ea > eb else -1
    return _sign(verrevcmp(ua, ub) or verrevcmp(ra, rb))


@lru_cache(maxsize=65536)
def compare(packager, a, b):
    """Compare two versions as written in reports of this packager.
    (Remembered: a fleet's change log compares the same upgrades again and
    again.)"""
    if packager == "rpm":
        return rpm_compare(a, b)
    if packager == "dpkg":
        return dpkg_compare(a, b)
    raise ValueError("unknown packager %r" % packager)

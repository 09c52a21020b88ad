"""Reading the Debian security tracker into records.Advisory: pure
functions, text in, records out, with checks.py's checks of each value.

- The Debian security tracker's JSON (package -> CVE -> release ->
  status, fixed_version, urgency): one advisory per CVE, named
  DEBIAN-CVE-...; source package names; `fixed_version` 0 is "never
  affected", status `open` "every version", `undetermined` is left out.
- The tracker's DSA list (data/DSA/list): one advisory per DSA, dated,
  with the fixed source version per release.
"""

import calendar
import re

from ..versions import split_dpkg_version
from .checks import (CVE_RE, advisory_id, field, json_object, make_advisory, read_record,
                     severity_word, utc_seconds, version_field)
from .records import SOURCE, AdvisoryError, Affected, worst_severity

# a DSA list's header line (formats.detect looks for it too)
DSA_HEADER_RE = re.compile(r"^\[([0-9]{1,2}) ([A-Z][a-z]{2}) ([0-9]{4})\] (DSA-[0-9]+(?:-[0-9]+)?)"
                           r" (.+)$")
CODENAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
DSA_FIX_RE = re.compile(r"^\s+\[([a-z]+)\] - (\S+) (\S+)")
MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}

# Debian's code names: the tracker and the DSA list use them
DEBIAN_RELEASES = {"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1",
                   "potato": "2.2", "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5",
                   "squeeze": "6", "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
                   "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
                   "duke": "15"}


def debian_stream(codename):
    if not isinstance(codename, str) or not CODENAME_RE.match(codename):
        raise AdvisoryError("Debian release %r is not a code name" % str(codename)[:40])
    number = DEBIAN_RELEASES.get(codename)
    return "Debian:%s" % (number or codename)


def tracker_records(document):
    """[(record, Advisory or AdvisoryError)] of the tracker's JSON: one
    advisory per CVE (DEBIAN-CVE-...), every package it names. An entry
    that is not valid refuses its CVE's advisory (a package left out would
    read as not affected), never the others."""
    document = json_object(document, "Debian tracker JSON")
    results = []
    by_cve = {}
    for package, entries in document.items():
        if not isinstance(entries, dict):
            results.append(("package %r" % package[:60], AdvisoryError("not a JSON object")))
            continue
        for cve, entry in entries.items():
            if not CVE_RE.fullmatch(cve):
                continue  # TEMP- entries: no CVE yet
            found = by_cve.setdefault(cve, {"affected": [], "severities": [], "title": "",
                                            "error": None})
            if found["error"] is None:
                found["error"] = read_record(None, _tracker_entry, package, entry, found)[1]
    for cve, found in sorted(by_cve.items()):
        results.append(("DEBIAN-" + cve, found["error"]) if found["error"] else
                       read_record("DEBIAN-" + cve, _tracker_advisory, cve, found))
    return results


def _tracker_entry(package, entry, found):
    """Adds what one package's entry says of a CVE to found."""
    field(package, "package name")
    entry = json_object(entry, "package %s" % package)
    releases = json_object(entry.get("releases") or {}, "package %s releases" % package)
    if not found["title"] and isinstance(entry.get("description"), str):
        found["title"] = entry["description"]
    for codename, release in releases.items():
        where = "package %s release %r" % (package, codename[:40])
        release = json_object(release, where)
        status = release.get("status")
        found["severities"].append(severity_word(release.get("urgency")))
        fixed = release.get("fixed_version")
        if status == "resolved":
            if not isinstance(fixed, str):
                raise AdvisoryError("%s: resolved without a fixed_version" % where)
            if fixed == "0":
                continue  # never affected
            _dpkg_version(fixed, where)
            found["affected"].append(Affected(debian_stream(codename), package, SOURCE, None,
                                              None, None, fixed, None, False))
        elif status == "open":
            found["affected"].append(Affected(debian_stream(codename), package, SOURCE, None,
                                              None, None, None, None, False))
        # "undetermined": not known to be affected; left out


def _tracker_advisory(cve, found):
    return make_advisory("DEBIAN-" + cve, "debian-tracker", "%s: %s" % (cve, found["title"]),
                         worst_severity([s for s in found["severities"] if s]), None, None,
                         (cve,), "https://security-tracker.debian.org/tracker/" + cve,
                         found["affected"])


def _dpkg_version(text, what):
    version_field(text, what + " version")
    try:
        split_dpkg_version(text)
    except ValueError as exc:
        raise AdvisoryError("%s: %r: %s" % (what, text[:60], exc))


def dsa_list_records(text):
    """[(record, Advisory or AdvisoryError)] of the tracker's DSA list:
    one advisory per DSA, dated; a line that is not valid refuses its DSA
    (or, a header, the lines up to the next one)."""
    found = []
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("[") or current is None:
            current = {"record": "line %d" % number, "cves": [], "affected": []}
            found.append(current)
            current["error"] = read_record(None, _dsa_header, current, line)[1] \
                if line.startswith("[") else AdvisoryError("comes before any DSA")
        elif current["error"] is None:
            current["error"] = read_record(None, _dsa_line, current, line, number)[1]
    return [(d["record"], d["error"]) if d["error"] else
            read_record(d["record"], _dsa_advisory, d) for d in found]


def _dsa_header(current, line):
    match = DSA_HEADER_RE.match(line.rstrip())
    if not match or match.group(2) not in MONTHS:
        raise AdvisoryError("not '[DD Mon YYYY] DSA-N package - what'")
    day, month, year, ident, rest = match.groups()
    current["record"] = ident
    package, _, title = rest.partition(" - ")
    current["published"] = utc_seconds(int(year), MONTHS[month], int(day), 0, 0, 0)
    if current["published"] is None:
        raise AdvisoryError("not a date")
    current.update(ident=advisory_id(ident), title="%s: %s" % (package, title))


def _dsa_line(current, line, number):
    stripped = line.strip()
    if stripped.startswith("{"):
        current["cves"].extend(CVE_RE.findall(stripped))
        return
    match = DSA_FIX_RE.match(line)
    if match:  # NOTE lines and others: commentary
        codename, package, version = match.groups()
        if version.startswith("<"):
            return  # <not-affected>, <removed>, <unfixed>
        field(package, "line %d package" % number)
        _dpkg_version(version, "line %d" % number)
        current["affected"].append(Affected(debian_stream(codename), package, SOURCE, None,
                                            None, None, version, None, False))


def _dsa_advisory(found):
    return make_advisory(found["ident"], "dsa-list", found["title"], "unknown",
                         found["published"], None, tuple(sorted(set(found["cves"]))),
                         "https://security-tracker.debian.org/tracker/" + found["ident"],
                         found["affected"])

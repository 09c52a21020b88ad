"""Reading the vendors' advisory formats into records.Advisory: pure
functions, text in, records out; AdvisoryError names what is wrong.

- OSV (https://ossf.github.io/osv-schema/): AlmaLinux, Rocky Linux,
  Debian and Ubuntu records; `affected[].package.{ecosystem,name}` and
  ECOSYSTEM ranges of `introduced` / `fixed` / `last_affected` events.
  Ubuntu names binaries in `ecosystem_specific.binaries`; records without
  them name source packages.
- Red Hat CSAF 2.0 advisories: the fixed product ids carry the full NEVRA
  (`BaseOS-9.4.0.Z.MAIN:openssl-1:3.0.7-27.el9.x86_64`); the stream is the
  RHEL major release of the product's CPE. Only `product_status.fixed` is
  read: in an advisory, `known_affected` names what *this* advisory does
  not fix, which says nothing of the versions it does.
- The Debian security tracker's JSON (package -> CVE -> release ->
  status, fixed_version, urgency): one advisory per CVE, named
  DEBIAN-CVE-...; source package names; `fixed_version` 0 is "never
  affected", status `open` "every version", `undetermined` is left out.
- The tracker's DSA list (data/DSA/list): one advisory per DSA, dated,
  with the fixed source version per release.
"""

import calendar
import json
import re

from ..text import without_invisible
from ..versions import split_dpkg_version
from .records import BINARY, SOURCE, Advisory, AdvisoryError, Affected, worst_severity

MAX_TITLE = 500
MAX_NAME = 200
MAX_VERSION = 200
MAX_STREAM = 64
MAX_ARCH = 32
MAX_MODULE = 100
# the largest real advisories (kernel updates) list a few thousand builds
MAX_AFFECTED = 20000

IDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}$")
CVE_RE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
CODENAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
URL_RE = re.compile(r"^https?://[\x21-\x7e]{1,490}$")
FIELD_RE = re.compile(r"^[\x21-\x7e]+$")
TIME_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})"
                     r"(?::([0-9]{2})(?:\.[0-9]+)?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$")
# an EL module stream build: .module_el8.8.0+3609+204d4ab0 (AlmaLinux,
# Rocky), .module+el8.8.0+19673+72b0d35f (Red Hat)
MODULE_BUILD_RE = re.compile(r"\.module[+_]el[0-9]")
# "Moderate: mariadb:10.3 security, bug fix, and enhancement update"
MODULE_LABEL_RE = re.compile(r"\b([A-Za-z0-9_.+-]{1,60}):([A-Za-z0-9_.+-]{1,39}) +"
                             r"(?:security|bug|enhancement)")
# ids of bug fix and enhancement advisories (no security impact)
NON_SECURITY_RE = re.compile(r"^(?:AL|RL|RH)[BE]A-")
# a NEVRA as CSAF product ids write it: name-epoch:version-release.arch
CSAF_NEVRA_RE = re.compile(r"^(.+)-([0-9]+):([^-:]+)-([^-:]+)\.([A-Za-z0-9_]{1,%d})$" % MAX_ARCH)
# a module qualifier before it: mariadb:10.3:8080020230905144221:1a1f6b8b:
CSAF_MODULE_RE = re.compile(r"(?:^|:)([A-Za-z0-9_.+-]{1,60}):([A-Za-z0-9_.+-]{1,39}):[0-9]{8,}:"
                            r"[0-9a-f]{8}:")
RHEL_CPE_RE = re.compile(r"^cpe:/[aoh]:redhat:(?:enterprise_linux|rhel_[a-z0-9_]+):([0-9]+)")
DSA_HEADER_RE = re.compile(r"^\[([0-9]{1,2}) ([A-Z][a-z]{2}) ([0-9]{4})\] (DSA-[0-9]+(?:-[0-9]+)?)"
                           r" (.+)$")
DSA_FIX_RE = re.compile(r"^\s+\[([a-z]+)\] - (\S+) (\S+)")
MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}

# Debian's code names: the tracker and the DSA list use them
DEBIAN_RELEASES = {"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1",
                   "potato": "2.2", "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5",
                   "squeeze": "6", "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
                   "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
                   "duke": "15"}

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
    try:
        seconds = calendar.timegm((int(year), int(month), int(day), int(hour or 0),
                                   int(minute or 0), int(second or 0)))
    except (ValueError, OverflowError):
        raise AdvisoryError("%s %r is not a date" % (what, text[:40]))
    if zone and zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def _field(value, what, limit=MAX_NAME):
    if not isinstance(value, str) or not FIELD_RE.match(value) or len(value) > limit:
        raise AdvisoryError("%s %r is not printable ASCII of at most %d characters"
                            % (what, str(value)[:60], limit))
    return value


def _version(value, what):
    return _field(value, what, MAX_VERSION)


def _title(text):
    # without control characters and the invisible ones that make text
    # display as something else (a title is printed on the officer's terminal)
    text = " ".join(without_invisible(str(text or "")).split())
    return text[:MAX_TITLE]


def _ident(value):
    if not isinstance(value, str) or not IDENT_RE.match(value):
        raise AdvisoryError("advisory id %r is not an id" % str(value)[:60])
    return value


def _cves(*texts):
    found = set()
    for text in texts:
        if isinstance(text, str):
            found.update(CVE_RE.findall(text))
        elif isinstance(text, (list, tuple)):
            found.update(c for t in text if isinstance(t, str) for c in CVE_RE.findall(t))
    return tuple(sorted(found))


def _object(value, what):
    if not isinstance(value, dict):
        raise AdvisoryError("%s is not a JSON object" % what)
    return value


def _list(value, what):
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdvisoryError("%s is not a JSON list" % what)
    return value


def _advisory(ident, fmt, title, severity, published, modified, cves, url, affected):
    if len(affected) > MAX_AFFECTED:
        raise AdvisoryError("advisory %s lists more than %d affected packages"
                            % (ident, MAX_AFFECTED))
    url = url if isinstance(url, str) and URL_RE.match(url) else None
    return Advisory(ident, fmt, _title(title), severity, published, modified, cves, url,
                    tuple(sorted(set(affected), key=_affected_order)))


def _affected_order(row):
    return tuple("" if v is None else str(v) for v in row)


# ---------------------------------------------------------------- detection

def detect(data, name=""):
    """'osv', 'csaf', 'debian-tracker' or 'dsa-list' from the content of
    one file (bytes); AdvisoryError when it is none of them."""
    head = data[:4096].lstrip()
    if head.startswith(b"["):
        if DSA_HEADER_RE.match(head.split(b"\n", 1)[0].decode("ascii", "replace").strip()):
            return "dsa-list"
        return "osv"  # a JSON list of OSV records
    if not head.startswith(b"{"):
        raise AdvisoryError("not JSON and not a DSA list")
    document = load_json(data)
    return detect_json(document)


def detect_json(document):
    if isinstance(document, list):
        return "osv"
    if not isinstance(document, dict):
        raise AdvisoryError("not an advisory format (a JSON %s)" % type(document).__name__)
    if isinstance(document.get("document"), dict) and "csaf_version" in document["document"]:
        return "csaf"
    if "id" in document and ("affected" in document or "modified" in document):
        return "osv"
    values = list(document.values())[:20]
    if values and all(isinstance(v, dict) and all(CVE_RE.match(k) or k.startswith("TEMP-")
                                                  for k in list(v)[:5]) for v in values):
        return "debian-tracker"
    raise AdvisoryError("not an advisory format this collector reads (OSV, Red Hat CSAF, "
                        "Debian tracker JSON, DSA list)")


def load_json(data):
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise AdvisoryError("not UTF-8 (byte %d)" % exc.start)
    except ValueError as exc:
        raise AdvisoryError("not valid JSON: %s" % str(exc)[:120])
    except RecursionError:
        raise AdvisoryError("not valid JSON: nested too deeply")


def parse(data, fmt=None):
    """[Advisory] of one file's bytes, in format fmt (detected if None)."""
    fmt = fmt or detect(data)
    if fmt == "dsa-list":
        try:
            return parse_dsa_list(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise AdvisoryError("not UTF-8 (byte %d)" % exc.start)
    document = load_json(data)
    if fmt == "osv":
        records = document if isinstance(document, list) else [document]
        return [parse_osv(_object(r, "OSV record")) for r in records]
    if fmt == "csaf":
        return [parse_csaf(_object(document, "CSAF document"))]
    if fmt == "debian-tracker":
        return parse_debian_tracker(_object(document, "Debian tracker JSON"))
    raise AdvisoryError("unknown format %r" % fmt)


# ---------------------------------------------------------------- OSV

def osv_stream(ecosystem):
    """(stream, pro) of an OSV ecosystem: Ubuntu Pro records apply to the
    release's hosts too (the fix may need Pro, the exposure exists
    regardless)."""
    _field(ecosystem.replace(" ", "_"), "ecosystem", MAX_STREAM)
    parts = ecosystem.split(":")
    if parts[0] == "Ubuntu" and len(parts) > 2 and parts[1] == "Pro" and parts[2][:1].isdigit():
        return ":".join([parts[0]] + parts[2:]), True
    return ecosystem, False


def _osv_severity(record):
    words = []
    specific = record.get("database_specific")
    if isinstance(specific, dict):
        words.append(severity_word(specific.get("severity")))
    for entry in record.get("severity") or []:
        if isinstance(entry, dict) and entry.get("type") == "Ubuntu":
            words.append(severity_word(entry.get("score")))
    for affected in record.get("affected") or []:
        specific = affected.get("ecosystem_specific") if isinstance(affected, dict) else None
        cves_map = (affected.get("database_specific") or {}).get("cves_map") \
            if isinstance(affected, dict) and isinstance(affected.get("database_specific"),
                                                         dict) else None
        for cve in (cves_map or {}).get("cves") or []:
            for entry in (cve.get("severity") or []) if isinstance(cve, dict) else []:
                if isinstance(entry, dict) and entry.get("type") == "Ubuntu":
                    words.append(severity_word(entry.get("score")))
        if isinstance(specific, dict):
            words.append(severity_word(specific.get("severity")))
    summary = record.get("summary")
    if isinstance(summary, str) and ":" in summary:
        words.append(severity_word(summary.split(":", 1)[0]))
    words = [w for w in words if w]
    if words:
        return worst_severity(words)
    return "none" if NON_SECURITY_RE.match(record.get("id", "")) else "unknown"


def _osv_ranges(ranges, what):
    """[(introduced, fixed, last_affected)] of an affected entry's
    ECOSYSTEM ranges ("0" introduced: from the first version)."""
    found = []
    for entry in _list(ranges, what + " ranges"):
        entry = _object(entry, what + " range")
        if entry.get("type") != "ECOSYSTEM":
            continue
        introduced = None
        started = False
        for event in _list(entry.get("events"), what + " events"):
            event = _object(event, what + " event")
            if "introduced" in event:
                value = _version(event["introduced"], what + " introduced")
                introduced = None if value == "0" else value
                started = True
            elif "fixed" in event and started:
                found.append((introduced, _version(event["fixed"], what + " fixed"), None))
                started = False
            elif "last_affected" in event and started:
                found.append((introduced, None,
                              _version(event["last_affected"], what + " last_affected")))
                started = False
        if started:
            found.append((introduced, None, None))  # no fix yet
    return found


def _module_of(fixed, label):
    if fixed and MODULE_BUILD_RE.search(fixed):
        return label or ""
    return None


def parse_osv(record):
    if "id" not in record:
        raise AdvisoryError("not an OSV record (no \"id\")")
    ident = _ident(record.get("id"))
    what = "OSV record %s" % ident
    summary = record.get("summary") or ""
    label = MODULE_LABEL_RE.search(summary) if isinstance(summary, str) else None
    label = "%s:%s" % label.groups() if label else None
    affected = []
    for entry in _list(record.get("affected"), what + " affected"):
        entry = _object(entry, what + " affected entry")
        package = _object(entry.get("package"), what + " package")
        ecosystem = package.get("ecosystem")
        if not isinstance(ecosystem, str):
            raise AdvisoryError("%s: a package has no ecosystem" % what)
        stream, pro = osv_stream(ecosystem)
        name = _field(package.get("name"), what + " package name")
        specific = entry.get("ecosystem_specific")
        binaries = []
        if isinstance(specific, dict):
            for binary in _list(specific.get("binaries"), what + " binaries"):
                if isinstance(binary, dict):
                    binaries.append(_field(binary.get("binary_name"), what + " binary name"))
                elif isinstance(binary, str):
                    binaries.append(_field(binary, what + " binary name"))
        names = [(b, BINARY) for b in binaries] or [
            (name, SOURCE if stream.split(":")[0] in ("Debian", "Ubuntu") else BINARY)]
        for introduced, fixed, last in _osv_ranges(entry.get("ranges"), what):
            for package_name, kind in names:
                affected.append(Affected(stream, package_name, kind, None,
                                         _module_of(fixed or last, label), introduced, fixed,
                                         last, pro))
    url = None
    for reference in record.get("references") or []:
        if isinstance(reference, dict) and isinstance(reference.get("url"), str):
            if url is None or reference.get("type") == "ADVISORY":
                url = reference["url"]
                if reference.get("type") == "ADVISORY":
                    break
    return _advisory(ident, "osv", record.get("summary") or record.get("details") or "",
                     _osv_severity(record), parse_time(record.get("published"), what + " published"),
                     parse_time(record.get("modified"), what + " modified"),
                     _cves(ident, record.get("aliases"), record.get("upstream"),
                           record.get("related")), url, affected)


# ---------------------------------------------------------------- CSAF

def _csaf_products(tree):
    """({product id: RHEL major}, {full product id: (reference, relates to)})."""
    majors = {}
    relations = {}

    def walk(branches):
        for branch in _list(branches, "CSAF product_tree branches"):
            branch = _object(branch, "CSAF branch")
            product = branch.get("product")
            if isinstance(product, dict):
                helper = product.get("product_identification_helper") or {}
                cpe = helper.get("cpe") if isinstance(helper, dict) else None
                match = RHEL_CPE_RE.match(cpe) if isinstance(cpe, str) else None
                if match and isinstance(product.get("product_id"), str):
                    majors[product["product_id"]] = match.group(1)
            walk(branch.get("branches"))
    walk(tree.get("branches"))
    for relation in _list(tree.get("relationships"), "CSAF relationships"):
        relation = _object(relation, "CSAF relationship")
        full = (relation.get("full_product_name") or {}).get("product_id")
        if isinstance(full, str):
            relations[full] = (relation.get("product_reference"),
                               relation.get("relates_to_product_reference"))
    return majors, relations


def _csaf_major(product, majors, relations, depth=0):
    if product in majors:
        return majors[product]
    if product in relations and depth < 4:
        return _csaf_major(relations[product][1], majors, relations, depth + 1)
    return None


def parse_csaf(document):
    if not isinstance(document.get("document"), dict):
        raise AdvisoryError("not a CSAF document (no \"document\" object)")
    head = document["document"]
    tracking = _object(head.get("tracking"), "CSAF document.tracking")
    ident = _ident(tracking.get("id"))
    what = "CSAF advisory %s" % ident
    majors, relations = _csaf_products(_object(document.get("product_tree") or {},
                                               what + " product_tree"))
    severities = [severity_word((head.get("aggregate_severity") or {}).get("text"))]
    cves = []
    affected = []
    for vulnerability in _list(document.get("vulnerabilities"), what + " vulnerabilities"):
        vulnerability = _object(vulnerability, what + " vulnerability")
        cves.append(vulnerability.get("cve"))
        for threat in vulnerability.get("threats") or []:
            if isinstance(threat, dict) and threat.get("category") == "impact":
                severities.append(severity_word(threat.get("details")))
        status = _object(vulnerability.get("product_status") or {}, what + " product_status")
        for product in _list(status.get("fixed"), what + " fixed products"):
            if not isinstance(product, str):
                raise AdvisoryError("%s: a fixed product id is not text" % what)
            major = _csaf_major(product, majors, relations)
            reference = relations.get(product, (product, None))[0]
            if major is None or not isinstance(reference, str):
                continue  # not a RHEL product (or not a package)
            module = CSAF_MODULE_RE.search(product)
            qualifier = CSAF_MODULE_RE.search(reference)
            match = CSAF_NEVRA_RE.match(reference[qualifier.end():] if qualifier else reference)
            if not match:
                continue  # a product that is not a package build (a container, ...)
            name, epoch, version, release, arch = match.groups()
            fixed = _version("%s:%s-%s" % (epoch, version, release), what + " fixed version")
            module_name = "%s:%s" % module.groups() if module else None
            kind = SOURCE if arch == "src" else BINARY
            affected.append(Affected("Red Hat:%s" % major, _field(name, what + " name"), kind,
                                     None if arch in ("src", "noarch") else arch,
                                     _module_of(fixed, module_name), None, fixed, None, False))
    binary_streams = {a.stream for a in affected if a.kind == BINARY}
    affected = [a for a in affected if a.kind == BINARY or a.stream not in binary_streams]
    url = None
    for reference in head.get("references") or []:
        if isinstance(reference, dict) and reference.get("category") == "self":
            url = reference.get("url") if isinstance(reference.get("url"), str) else None
            break
    return _advisory(ident, "csaf", head.get("title") or "",
                     worst_severity([s for s in severities if s]),
                     parse_time(tracking.get("initial_release_date"), what + " release date"),
                     parse_time(tracking.get("current_release_date"), what + " current date"),
                     _cves(cves), url, affected)


# ---------------------------------------------------------------- Debian

def debian_stream(codename):
    if not isinstance(codename, str) or not CODENAME_RE.match(codename):
        raise AdvisoryError("Debian release %r is not a code name" % str(codename)[:40])
    number = DEBIAN_RELEASES.get(codename)
    return "Debian:%s" % (number or codename)


def parse_debian_tracker(document):
    """One advisory per CVE (DEBIAN-CVE-...), every package it names."""
    by_cve = {}
    for package, entries in document.items():
        _field(package, "Debian tracker package name")
        if not isinstance(entries, dict):
            raise AdvisoryError("Debian tracker: package %s is not a JSON object" % package)
        for cve, entry in entries.items():
            if not CVE_RE.fullmatch(cve):
                continue  # TEMP- entries: no CVE yet
            entry = _object(entry, "Debian tracker %s %s" % (package, cve))
            releases = entry.get("releases") or {}
            if not isinstance(releases, dict):
                raise AdvisoryError("Debian tracker %s %s: releases is not an object"
                                    % (package, cve))
            advisory = by_cve.setdefault(cve, {"affected": [], "severities": [],
                                               "title": entry.get("description") or ""})
            for codename, release in releases.items():
                release = _object(release, "Debian tracker %s %s %s" % (package, cve, codename))
                status = release.get("status")
                advisory["severities"].append(severity_word(release.get("urgency")))
                fixed = release.get("fixed_version")
                if status == "resolved":
                    if not isinstance(fixed, str):
                        raise AdvisoryError("Debian tracker %s %s %s: resolved without a "
                                            "fixed_version" % (package, cve, codename))
                    if fixed == "0":
                        continue  # never affected
                    _dpkg_version(fixed, "Debian tracker %s %s" % (package, cve))
                    advisory["affected"].append(Affected(debian_stream(codename), package,
                                                         SOURCE, None, None, None, fixed, None,
                                                         False))
                elif status == "open":
                    advisory["affected"].append(Affected(debian_stream(codename), package,
                                                         SOURCE, None, None, None, None, None,
                                                         False))
                # "undetermined": not known to be affected; left out
    return [_advisory("DEBIAN-" + cve, "debian-tracker", "%s: %s" % (cve, found["title"]),
                      worst_severity([s for s in found["severities"] if s]), None, None,
                      (cve,), "https://security-tracker.debian.org/tracker/" + cve,
                      found["affected"])
            for cve, found in sorted(by_cve.items())]


def _dpkg_version(text, what):
    _version(text, what + " version")
    try:
        split_dpkg_version(text)
    except ValueError as exc:
        raise AdvisoryError("%s: %r: %s" % (what, text[:60], exc))


def parse_dsa_list(text):
    """[Advisory] of the tracker's DSA list: one per DSA, dated."""
    advisories = []
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("["):
            match = DSA_HEADER_RE.match(line.rstrip())
            if not match or match.group(2) not in MONTHS:
                raise AdvisoryError("DSA list line %d is not '[DD Mon YYYY] DSA-N package - what'"
                                    % number)
            day, month, year, ident, rest = match.groups()
            package, _, title = rest.partition(" - ")
            try:
                published = calendar.timegm((int(year), MONTHS[month], int(day), 0, 0, 0))
            except (ValueError, OverflowError):
                raise AdvisoryError("DSA list line %d: not a date" % number)
            current = {"ident": ident, "title": "%s: %s" % (package, title or ""),
                       "published": published, "cves": [], "affected": []}
            advisories.append(current)
            continue
        if current is None:
            raise AdvisoryError("DSA list line %d comes before any DSA" % number)
        stripped = line.strip()
        if stripped.startswith("{"):
            current["cves"].extend(CVE_RE.findall(stripped))
            continue
        match = DSA_FIX_RE.match(line)
        if match:
            codename, package, version = match.groups()
            if version.startswith("<"):
                continue  # <not-affected>, <removed>, <unfixed>
            _field(package, "DSA list line %d package" % number)
            _dpkg_version(version, "DSA list line %d" % number)
            current["affected"].append(Affected(debian_stream(codename), package, SOURCE, None,
                                                None, None, version, None, False))
        # NOTE lines and others: commentary
    return [_advisory(_ident(a["ident"]), "dsa-list", a["title"], "unknown", a["published"],
                      None, tuple(sorted(set(a["cves"]))),
                      "https://security-tracker.debian.org/tracker/" + a["ident"], a["affected"])
            for a in advisories]

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
- The Debian security tracker's JSON and its DSA list: see debian.py.
"""

import calendar
import datetime
import json
import re

from ..text import without_invisible
from .records import (BINARY, MAX_ARCH, MAX_NAME, MAX_STREAM, MAX_TITLE, MAX_VERSION, SOURCE,
                      Advisory, AdvisoryError, Affected, check_advisory, worst_severity)

# the largest real advisories (kernel updates) list a few thousand builds
MAX_AFFECTED = 20000
# Red Hat's product trees are four deep; RHEL majors have one or two digits
MAX_BRANCH_DEPTH = 32
MAX_MAJOR_DIGITS = 3

IDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}$")
CVE_RE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
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
# a DSA list's header line (detect() looks for it; debian.py reads the list)
DSA_HEADER_RE = re.compile(r"^\[([0-9]{1,2}) ([A-Z][a-z]{2}) ([0-9]{4})\] (DSA-[0-9]+(?:-[0-9]+)?)"
                           r" (.+)$")

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
    seconds = _seconds(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                       int(second or 0))
    if seconds is None:
        raise AdvisoryError("%s %r is not a date" % (what, text[:40]))
    if zone and zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def _seconds(*fields):
    """Unix seconds of a UTC (year, month, day, hour, minute, second), or
    None for one that is no real time (month 13, 31 June)."""
    try:
        datetime.datetime(*fields)
    except ValueError:
        return None
    return calendar.timegm(fields)


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
        raise AdvisoryError("lists more than %d affected packages" % MAX_AFFECTED)
    url = url if isinstance(url, str) and URL_RE.match(url) else None
    return check_advisory(Advisory(
        ident, fmt, _title(title if isinstance(title, str) else ""), severity, published,
        modified, cves, url, tuple(sorted(set(affected), key=_affected_order))))


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


def parse_records(data, fmt=None):
    """[(record, Advisory or AdvisoryError)] of one file's bytes in format
    fmt (detected if None): a record that is not valid is refused alone,
    the file's others are still read. record names it: its id, "record N"
    in a list where it has none, None for a file of one. AdvisoryError for
    a file that cannot be read at all."""
    from . import debian  # here, not above: it imports this module's checks
    fmt = fmt or detect(data)
    if fmt == "dsa-list":
        try:
            return debian.parse_dsa_list(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise AdvisoryError("not UTF-8 (byte %d)" % exc.start)
    document = load_json(data)
    if fmt == "osv":
        if isinstance(document, list):
            return [_one(_label(r, "id", "record %d" % n), parse_osv, r)
                    for n, r in enumerate(document, 1)]
        return [_one(_label(document, "id"), parse_osv, document)]
    if fmt == "csaf":
        document = _object(document, "CSAF document")
        head = document.get("document")
        tracking = head.get("tracking") if isinstance(head, dict) else None
        return [_one(_label(tracking, "id"), parse_csaf, document)]
    if fmt == "debian-tracker":
        return debian.parse_debian_tracker(_object(document, "Debian tracker JSON"))
    raise AdvisoryError("unknown format %r" % fmt)


def parse(data, fmt=None):
    """[Advisory] of one file's bytes, in format fmt (detected if None);
    AdvisoryError naming the first record that is not valid."""
    advisories = []
    for record, result in parse_records(data, fmt):
        if isinstance(result, AdvisoryError):
            raise AdvisoryError("%s: %s" % (record, result) if record else str(result))
        advisories.append(result)
    return advisories


def _label(record, key, otherwise=None):
    ident = record.get(key) if isinstance(record, dict) else None
    return ident if isinstance(ident, str) and IDENT_RE.match(ident) else otherwise


def _one(record, parse_one, *args):
    """(record, what parse_one(*args) returns, or the AdvisoryError that
    refuses the record)."""
    try:
        return record, parse_one(*args)
    except AdvisoryError as exc:
        return record, exc
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as exc:
        # a shape no check foresaw: this record is refused, never the run
        return record, AdvisoryError("unexpected content (%s)" % type(exc).__name__)


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


def _ubuntu_scores(entries, what):
    return [severity_word(entry.get("score")) for entry in _list(entries or [], what)
            if isinstance(entry, dict) and entry.get("type") == "Ubuntu"]


def _osv_severity(record):
    """The record's worst severity word; its affected entries are objects
    (parse_osv checked them)."""
    specific = _object(record.get("database_specific") or {}, "database_specific")
    words = [severity_word(specific.get("severity"))]
    words += _ubuntu_scores(record.get("severity"), "severity")
    for affected in record.get("affected") or []:
        database = _object(affected.get("database_specific") or {},
                           "affected database_specific")
        cves_map = _object(database.get("cves_map") or {}, "affected cves_map")
        for cve in _list(cves_map.get("cves") or [], "affected cves_map cves"):
            if isinstance(cve, dict):
                words += _ubuntu_scores(cve.get("severity"), "affected cves_map severity")
        specific = affected.get("ecosystem_specific")
        if isinstance(specific, dict):
            words.append(severity_word(specific.get("severity")))
    summary = record.get("summary")
    if isinstance(summary, str) and ":" in summary:
        words.append(severity_word(summary.split(":", 1)[0]))
    words = [w for w in words if w]
    if words:
        return worst_severity(words)
    return "none" if NON_SECURITY_RE.match(record["id"]) else "unknown"


def _osv_ranges(ranges):
    """[(introduced, fixed, last_affected)] of an affected entry's
    ECOSYSTEM ranges ("0" introduced: from the first version)."""
    found = []
    for entry in _list(ranges, "ranges"):
        entry = _object(entry, "range")
        if entry.get("type") != "ECOSYSTEM":
            continue
        introduced = None
        started = False
        for event in _list(entry.get("events"), "events"):
            event = _object(event, "event")
            if "introduced" in event:
                value = _version(event["introduced"], "introduced")
                introduced = None if value == "0" else value
                started = True
            elif "fixed" in event and started:
                found.append((introduced, _version(event["fixed"], "fixed"), None))
                started = False
            elif "last_affected" in event and started:
                found.append((introduced, None, _version(event["last_affected"],
                                                         "last_affected")))
                started = False
        if started:
            found.append((introduced, None, None))  # no fix yet
    return found


def _module_of(fixed, label):
    if fixed and MODULE_BUILD_RE.search(fixed):
        return label or ""
    return None


def parse_osv(record):
    record = _object(record, "OSV record")
    if "id" not in record:
        raise AdvisoryError("not an OSV record (no \"id\")")
    ident = _ident(record.get("id"))
    summary = record.get("summary") or ""
    label = MODULE_LABEL_RE.search(summary) if isinstance(summary, str) else None
    label = "%s:%s" % label.groups() if label else None
    affected = []
    for entry in _list(record.get("affected"), "affected"):
        entry = _object(entry, "affected entry")
        package = _object(entry.get("package"), "package")
        ecosystem = package.get("ecosystem")
        if not isinstance(ecosystem, str):
            raise AdvisoryError("a package has no ecosystem")
        stream, pro = osv_stream(ecosystem)
        name = _field(package.get("name"), "package name")
        specific = entry.get("ecosystem_specific")
        binaries = []
        if isinstance(specific, dict):
            for binary in _list(specific.get("binaries"), "binaries"):
                if isinstance(binary, dict):
                    binaries.append(_field(binary.get("binary_name"), "binary name"))
                elif isinstance(binary, str):
                    binaries.append(_field(binary, "binary name"))
        names = [(b, BINARY) for b in binaries] or [
            (name, SOURCE if stream.split(":")[0] in ("Debian", "Ubuntu") else BINARY)]
        for introduced, fixed, last in _osv_ranges(entry.get("ranges")):
            for package_name, kind in names:
                affected.append(Affected(stream, package_name, kind, None,
                                         _module_of(fixed or last, label), introduced, fixed,
                                         last, pro))
    url = None
    for reference in _list(record.get("references") or [], "references"):
        if isinstance(reference, dict) and isinstance(reference.get("url"), str):
            if url is None or reference.get("type") == "ADVISORY":
                url = reference["url"]
                if reference.get("type") == "ADVISORY":
                    break
    title = record.get("summary") or record.get("details")
    return _advisory(ident, "osv", title, _osv_severity(record),
                     parse_time(record.get("published"), "published"),
                     parse_time(record.get("modified"), "modified"),
                     _cves(ident, record.get("aliases"), record.get("upstream"),
                           record.get("related")), url, affected)


# ---------------------------------------------------------------- CSAF

def _rhel_major(cpe):
    """The RHEL major release a product's CPE names ("9"), or None."""
    match = RHEL_CPE_RE.match(cpe) if isinstance(cpe, str) else None
    if not match:
        return None
    if len(match.group(1)) > MAX_MAJOR_DIGITS:
        raise AdvisoryError("CPE %r names no RHEL release (at most %d digits)"
                            % (cpe[:60], MAX_MAJOR_DIGITS))
    return str(int(match.group(1)))


def _csaf_products(tree):
    """({product id: RHEL major}, {full product id: (reference, relates to)})."""
    majors = {}
    relations = {}
    # a tree of branches, walked without recursion, to a bounded depth
    pending = [(_list(tree.get("branches"), "product_tree branches"), 1)]
    while pending:
        branches, depth = pending.pop()
        if branches and depth > MAX_BRANCH_DEPTH:
            raise AdvisoryError("product_tree branches are nested more than %d deep"
                                % MAX_BRANCH_DEPTH)
        for branch in branches:
            branch = _object(branch, "product_tree branch")
            product = branch.get("product")
            if isinstance(product, dict):
                helper = product.get("product_identification_helper")
                major = _rhel_major(helper.get("cpe") if isinstance(helper, dict) else None)
                if major and isinstance(product.get("product_id"), str):
                    majors[product["product_id"]] = major
            pending.append((_list(branch.get("branches"), "product_tree branches"), depth + 1))
    for relation in _list(tree.get("relationships"), "relationships"):
        relation = _object(relation, "relationship")
        full = _object(relation.get("full_product_name") or {},
                       "relationship full_product_name").get("product_id")
        if isinstance(full, str):
            pair = (relation.get("product_reference"),
                    relation.get("relates_to_product_reference"))
            if not all(isinstance(p, str) for p in pair):
                raise AdvisoryError("relationship %r: its product references are not text"
                                    % full[:60])
            relations[full] = pair
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
    majors, relations = _csaf_products(_object(document.get("product_tree") or {},
                                               "product_tree"))
    aggregate = _object(head.get("aggregate_severity") or {}, "aggregate_severity")
    severities = [severity_word(aggregate.get("text"))]
    cves = []
    affected = []
    for vulnerability in _list(document.get("vulnerabilities"), "vulnerabilities"):
        vulnerability = _object(vulnerability, "vulnerability")
        cves.append(vulnerability.get("cve"))
        for threat in _list(vulnerability.get("threats") or [], "threats"):
            if isinstance(threat, dict) and threat.get("category") == "impact":
                severities.append(severity_word(threat.get("details")))
        status = _object(vulnerability.get("product_status") or {}, "product_status")
        for product in _list(status.get("fixed"), "fixed products"):
            if not isinstance(product, str):
                raise AdvisoryError("a fixed product id is not text")
            major = _csaf_major(product, majors, relations)
            reference = relations.get(product, (product, None))[0]
            if major is None:
                continue  # not a RHEL product (or not a package)
            module = CSAF_MODULE_RE.search(product)
            qualifier = CSAF_MODULE_RE.search(reference)
            match = CSAF_NEVRA_RE.match(reference[qualifier.end():] if qualifier else reference)
            if not match:
                continue  # a product that is not a package build (a container, ...)
            name, epoch, version, release, arch = match.groups()
            fixed = _version("%s:%s-%s" % (epoch, version, release), "fixed version")
            module_name = "%s:%s" % module.groups() if module else None
            kind = SOURCE if arch == "src" else BINARY
            affected.append(Affected("Red Hat:%s" % major, _field(name, "name"), kind,
                                     None if arch in ("src", "noarch") else arch,
                                     _module_of(fixed, module_name), None, fixed, None, False))
    binary_streams = {a.stream for a in affected if a.kind == BINARY}
    affected = [a for a in affected if a.kind == BINARY or a.stream not in binary_streams]
    url = None
    for reference in _list(head.get("references") or [], "references"):
        if isinstance(reference, dict) and reference.get("category") == "self":
            url = reference.get("url") if isinstance(reference.get("url"), str) else None
            break
    return _advisory(ident, "csaf", head.get("title"),
                     worst_severity([s for s in severities if s]),
                     parse_time(tracking.get("initial_release_date"), "release date"),
                     parse_time(tracking.get("current_release_date"), "current date"),
                     _cves(cves), url, affected)

"""Reading OSV (https://ossf.github.io/osv-schema/) into records.Advisory:
AlmaLinux, Rocky Linux, Debian and Ubuntu records. Pure, with checks.py's
checks of each value.

`affected[].package.{ecosystem,name}` and ECOSYSTEM ranges of
`introduced` / `fixed` / `last_affected` events. Ubuntu names binaries in
`ecosystem_specific.binaries`; records without them name source packages.
"""

import re

from .checks import (advisory_id, cves_in, field, json_list, json_object, make_advisory,
                     module_of, parse_time, read_record, record_label, severity_word,
                     version_field)
from .records import BINARY, MAX_STREAM, SOURCE, AdvisoryError, Affected, worst_severity

# "Moderate: mariadb:10.3 security, bug fix, and enhancement update"
MODULE_LABEL_RE = re.compile(r"\b([A-Za-z0-9_.+-]{1,60}):([A-Za-z0-9_.+-]{1,39}) +"
                             r"(?:security|bug|enhancement)")
# ids of bug fix and enhancement advisories (no security impact)
NON_SECURITY_RE = re.compile(r"^(?:AL|RL|RH)[BE]A-")


def osv_records(document):
    """[(record, Advisory or AdvisoryError)] of a file of OSV: one record,
    or a JSON list of them (named "record N" where one has no id)."""
    if isinstance(document, list):
        return [read_record(record_label(r, "id", "record %d" % n), parse_osv, r)
                for n, r in enumerate(document, 1)]
    return [read_record(record_label(document, "id"), parse_osv, document)]


def osv_stream(ecosystem):
    """(stream, pro) of an OSV ecosystem: Ubuntu Pro records apply to the
    release's hosts too (the fix may need Pro, the exposure exists
    regardless)."""
    field(ecosystem.replace(" ", "_"), "ecosystem", MAX_STREAM)
    parts = ecosystem.split(":")
    if parts[0] == "Ubuntu" and len(parts) > 2 and parts[1] == "Pro" and parts[2][:1].isdigit():
        return ":".join([parts[0]] + parts[2:]), True
    return ecosystem, False


def _ubuntu_scores(entries, what):
    return [severity_word(entry.get("score")) for entry in json_list(entries or [], what)
            if isinstance(entry, dict) and entry.get("type") == "Ubuntu"]


def _osv_severity(record):
    """The record's worst severity word; its affected entries are objects
    (parse_osv checked them)."""
    specific = json_object(record.get("database_specific") or {}, "database_specific")
    words = [severity_word(specific.get("severity"))]
    words += _ubuntu_scores(record.get("severity"), "severity")
    for affected in record.get("affected") or []:
        database = json_object(affected.get("database_specific") or {},
                               "affected database_specific")
        cves_map = json_object(database.get("cves_map") or {}, "affected cves_map")
        for cve in json_list(cves_map.get("cves") or [], "affected cves_map cves"):
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
    for entry in json_list(ranges, "ranges"):
        entry = json_object(entry, "range")
        if entry.get("type") != "ECOSYSTEM":
            continue
        introduced = None
        started = False
        for event in json_list(entry.get("events"), "events"):
            event = json_object(event, "event")
            if "introduced" in event:
                value = version_field(event["introduced"], "introduced")
                introduced = None if value == "0" else value
                started = True
            elif "fixed" in event and started:
                found.append((introduced, version_field(event["fixed"], "fixed"), None))
                started = False
            elif "last_affected" in event and started:
                found.append((introduced, None, version_field(event["last_affected"],
                                                              "last_affected")))
                started = False
        if started:
            found.append((introduced, None, None))  # no fix yet
    return found


def _package_names(entry, stream):
    """[(name, kind)] an affected entry applies to: Ubuntu's binaries, or
    the package's name (a source name on Debian and Ubuntu)."""
    package = json_object(entry.get("package"), "package")
    name = field(package.get("name"), "package name")
    specific = entry.get("ecosystem_specific")
    binaries = []
    if isinstance(specific, dict):
        for binary in json_list(specific.get("binaries"), "binaries"):
            if isinstance(binary, dict):
                binaries.append(field(binary.get("binary_name"), "binary name"))
            elif isinstance(binary, str):
                binaries.append(field(binary, "binary name"))
    return [(b, BINARY) for b in binaries] or [
        (name, SOURCE if stream.split(":")[0] in ("Debian", "Ubuntu") else BINARY)]


def _advisory_url(record):
    """The record's ADVISORY link, else its first link."""
    url = None
    for reference in json_list(record.get("references") or [], "references"):
        if isinstance(reference, dict) and isinstance(reference.get("url"), str):
            if url is None or reference.get("type") == "ADVISORY":
                url = reference["url"]
                if reference.get("type") == "ADVISORY":
                    break
    return url


def parse_osv(record):
    """The records.Advisory of one OSV record."""
    record = json_object(record, "OSV record")
    if "id" not in record:
        raise AdvisoryError("not an OSV record (no \"id\")")
    ident = advisory_id(record.get("id"))
    summary = record.get("summary") or ""
    label = MODULE_LABEL_RE.search(summary) if isinstance(summary, str) else None
    label = "%s:%s" % label.groups() if label else None
    affected = []
    for entry in json_list(record.get("affected"), "affected"):
        entry = json_object(entry, "affected entry")
        ecosystem = json_object(entry.get("package"), "package").get("ecosystem")
        if not isinstance(ecosystem, str):
            raise AdvisoryError("a package has no ecosystem")
        stream, pro = osv_stream(ecosystem)
        names = _package_names(entry, stream)
        for introduced, fixed, last in _osv_ranges(entry.get("ranges")):
            for package_name, kind in names:
                affected.append(Affected(stream, package_name, kind, None,
                                         module_of(fixed or last, label), introduced, fixed,
                                         last, pro))
    title = record.get("summary") or record.get("details")
    return make_advisory(ident, "osv", title, _osv_severity(record),
                         parse_time(record.get("published"), "published"),
                         parse_time(record.get("modified"), "modified"),
                         cves_in(ident, record.get("aliases"), record.get("upstream"),
                                 record.get("related")), _advisory_url(record), affected)

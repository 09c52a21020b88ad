"""Reading Red Hat's CSAF 2.0 advisories into records.Advisory. Pure, with
checks.py's checks of each value.

The fixed product ids carry the full NEVRA
(`BaseOS-9.4.0.Z.MAIN:openssl-1:3.0.7-27.el9.x86_64`); the stream is the
RHEL major release of the product's CPE. Only `product_status.fixed` is
read: in an advisory, `known_affected` names what *this* advisory does not
fix, which says nothing of the versions it does.
"""

import re

from .checks import (advisory_id, cves_in, field, json_list, json_object, make_advisory,
                     module_of, parse_time, read_record, record_label, severity_word,
                     version_field)
from .records import BINARY, MAX_ARCH, SOURCE, AdvisoryError, Affected, worst_severity

# Red Hat's product trees are four deep; RHEL majors have one or two digits
MAX_BRANCH_DEPTH = 32
MAX_MAJOR_DIGITS = 3

# a NEVRA as CSAF product ids write it: name-epoch:version-release.arch
CSAF_NEVRA_RE = re.compile(r"^(.+)-([0-9]+):([^-:]+)-([^-:]+)\.([A-Za-z0-9_]{1,%d})$" % MAX_ARCH)
# a module qualifier before it: mariadb:10.3:8080020230905144221:1a1f6b8b:
CSAF_MODULE_RE = re.compile(r"(?:^|:)([A-Za-z0-9_.+-]{1,60}):([A-Za-z0-9_.+-]{1,39}):[0-9]{8,}:"
                            r"[0-9a-f]{8}:")
RHEL_CPE_RE = re.compile(r"^cpe:/[aoh]:redhat:(?:enterprise_linux|rhel_[a-z0-9_]+):([0-9]+)")


def csaf_records(document):
    """[(record, Advisory or AdvisoryError)] of a CSAF file: one advisory,
    named by its tracking id."""
    document = json_object(document, "CSAF document")
    head = document.get("document")
    tracking = head.get("tracking") if isinstance(head, dict) else None
    return [read_record(record_label(tracking, "id"), parse_csaf, document)]


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
    pending = [(json_list(tree.get("branches"), "product_tree branches"), 1)]
    while pending:
        branches, depth = pending.pop()
        if branches and depth > MAX_BRANCH_DEPTH:
            raise AdvisoryError("product_tree branches are nested more than %d deep"
                                % MAX_BRANCH_DEPTH)
        for branch in branches:
            branch = json_object(branch, "product_tree branch")
            product = branch.get("product")
            if isinstance(product, dict):
                helper = product.get("product_identification_helper")
                major = _rhel_major(helper.get("cpe") if isinstance(helper, dict) else None)
                if major and isinstance(product.get("product_id"), str):
                    majors[product["product_id"]] = major
            pending.append((json_list(branch.get("branches"), "product_tree branches"),
                            depth + 1))
    for relation in json_list(tree.get("relationships"), "relationships"):
        relation = json_object(relation, "relationship")
        full = json_object(relation.get("full_product_name") or {},
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


def _fixed_build(product, majors, relations):
    """The Affected row of one fixed product id, or None for a product
    that is not a RHEL package build (a container, another product)."""
    if not isinstance(product, str):
        raise AdvisoryError("a fixed product id is not text")
    major = _csaf_major(product, majors, relations)
    reference = relations.get(product, (product, None))[0]
    if major is None:
        return None
    module = CSAF_MODULE_RE.search(product)
    qualifier = CSAF_MODULE_RE.search(reference)
    match = CSAF_NEVRA_RE.match(reference[qualifier.end():] if qualifier else reference)
    if not match:
        return None
    name, epoch, version, release, arch = match.groups()
    fixed = version_field("%s:%s-%s" % (epoch, version, release), "fixed version")
    module_name = "%s:%s" % module.groups() if module else None
    kind = SOURCE if arch == "src" else BINARY
    return Affected("Red Hat:%s" % major, field(name, "name"), kind,
                    None if arch in ("src", "noarch") else arch,
                    module_of(fixed, module_name), None, fixed, None, False)


def parse_csaf(document):
    """The records.Advisory of one CSAF document."""
    if not isinstance(document.get("document"), dict):
        raise AdvisoryError("not a CSAF document (no \"document\" object)")
    head = document["document"]
    tracking = json_object(head.get("tracking"), "CSAF document.tracking")
    ident = advisory_id(tracking.get("id"))
    majors, relations = _csaf_products(json_object(document.get("product_tree") or {},
                                                   "product_tree"))
    aggregate = json_object(head.get("aggregate_severity") or {}, "aggregate_severity")
    severities = [severity_word(aggregate.get("text"))]
    cves = []
    affected = []
    for vulnerability in json_list(document.get("vulnerabilities"), "vulnerabilities"):
        vulnerability = json_object(vulnerability, "vulnerability")
        cves.append(vulnerability.get("cve"))
        for threat in json_list(vulnerability.get("threats") or [], "threats"):
            if isinstance(threat, dict) and threat.get("category") == "impact":
                severities.append(severity_word(threat.get("details")))
        status = json_object(vulnerability.get("product_status") or {}, "product_status")
        for product in json_list(status.get("fixed"), "fixed products"):
            build = _fixed_build(product, majors, relations)
            if build is not None:
                affected.append(build)
    # source builds only where the advisory lists no binary for the stream
    binary_streams = {a.stream for a in affected if a.kind == BINARY}
    affected = [a for a in affected if a.kind == BINARY or a.stream not in binary_streams]
    url = None
    for reference in json_list(head.get("references") or [], "references"):
        if isinstance(reference, dict) and reference.get("category") == "self":
            url = reference.get("url") if isinstance(reference.get("url"), str) else None
            break
    return make_advisory(ident, "csaf", head.get("title"),
                         worst_severity([s for s in severities if s]),
                         parse_time(tracking.get("initial_release_date"), "release date"),
                         parse_time(tracking.get("current_release_date"), "current date"),
                         cves_in(cves), url, affected)

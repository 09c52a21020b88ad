"""The SQL of the vendors' advisories (advisory_store.py), shared by both
dialects (each dialect's SQL class takes AdvisorySQL beside SharedSQL),
and the records of the rows they yield."""

from collections import namedtuple

from .statements import _select


class AdvisorySQL(object):
    # -- advisories (advisory_store.py)
    # what an import compares a feed's advisory with (advisory_store.add)
    AdvisoryState = namedtuple("AdvisoryState", "ident id digest modified revision")
    SELECT_ADVISORY_STATES = _select(AdvisoryState, "FROM advisories")
    INSERT_ADVISORY = (
        "INSERT INTO advisories (ident, format, severity, title, published, modified, "
        "first_seen, changed, revision, digest, content) "
        "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, 1, {p}, {p})")
    KEEP_ADVISORY_REVISION = (
        "INSERT INTO advisory_revisions (advisory_id, revision, modified, stored, replaced, "
        "content) SELECT id, revision, modified, changed, {p}, content FROM advisories "
        "WHERE id = {p}")
    UPDATE_ADVISORY = (
        "UPDATE advisories SET format = {p}, severity = {p}, title = {p}, published = {p}, "
        "modified = {p}, changed = {p}, revision = revision + 1, digest = {p}, content = {p} "
        "WHERE id = {p}")
    DELETE_ADVISORY_CVES = "DELETE FROM advisory_cves WHERE advisory_id = {p}"
    DELETE_ADVISORY_PACKAGES = "DELETE FROM advisory_packages WHERE advisory_id = {p}"
    INSERT_ADVISORY_CVE = "INSERT INTO advisory_cves (advisory_id, cve) VALUES ({p}, {p})"
    INSERT_ADVISORY_PACKAGE = (
        "INSERT INTO advisory_packages (advisory_id, stream, name, kind, arch, module, "
        "introduced, fixed, last_affected, pro) "
        "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    # an import's record: when, and what it did (/metrics reads its time)
    INSERT_ADVISORY_IMPORT = ("INSERT INTO advisory_imports (imported, added, updated, "
                              "unchanged, older) VALUES ({p}, {p}, {p}, {p}, {p})")
    ADVISORY_COLUMNS = ("SELECT a.id, a.ident, a.format, a.severity, a.title, a.published, "
                        "a.modified, a.first_seen, a.changed, a.revision FROM advisories a")
    SELECT_ADVISORIES = ADVISORY_COLUMNS + "{where} ORDER BY a.ident"
    SELECT_ADVISORY_CONTENT = "SELECT content FROM advisories WHERE id = {p}"
    SELECT_ADVISORY_BY_IDENT = ADVISORY_COLUMNS + " WHERE a.ident = {p}"
    SELECT_ADVISORIES_OF_CVE = (ADVISORY_COLUMNS + " JOIN advisory_cves c ON c.advisory_id = a.id "
                                "WHERE c.cve = {p} ORDER BY a.ident")
    SELECT_ADVISORY_CVES = "SELECT advisory_id, cve FROM advisory_cves{where} ORDER BY cve"
    SELECT_ADVISORY_PACKAGES = (
        "SELECT advisory_id, stream, name, kind, arch, module, introduced, fixed, "
        "last_affected, pro FROM advisory_packages{where}")
    SELECT_ADVISORY_REVISIONS = ("SELECT revision, modified, stored, replaced FROM "
                                 "advisory_revisions WHERE advisory_id = {p} ORDER BY revision")
    SELECT_ADVISORY_STREAMS = "SELECT DISTINCT stream FROM advisory_packages"
    # the affected rows that some package row may match: most of a feed
    # names packages nobody has, and is left in the database
    SELECT_PRESENT_ADVISORY_PACKAGES = (
        "SELECT advisory_id, stream, name, kind, arch, module, introduced, fixed, "
        "last_affected, pro FROM advisory_packages a WHERE EXISTS "
        "(SELECT 1 FROM packages p WHERE p.name = a.name) OR (a.kind = 'source' AND EXISTS "
        "(SELECT 1 FROM packages p WHERE p.source = a.name))")
    # the package rows an advisory may concern: by name, and by source name
    SELECT_PACKAGE_ROWS_NAMED = ("SELECT id, packager, name, version, arch, source FROM packages "
                                 "WHERE name IN ({marks})")
    SELECT_PACKAGE_ROWS_OF_SOURCES = ("SELECT id, packager, name, version, arch, source "
                                      "FROM packages WHERE source IN ({marks})")


AdvisoryState = AdvisorySQL.AdvisoryState

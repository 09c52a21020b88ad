"""The SQL of tags and exceptions (tag_store.py, exception_store.py),
shared by both dialects (each dialect's SQL class takes TagSQL beside
SharedSQL), and the records of the rows they yield."""

from collections import namedtuple

from .statements import _select


class TagSQL(object):
    # -- tags (tag_store.py)
    Tag = namedtuple("Tag", "id name url description created created_by changed")
    SELECT_TAGS = _select(Tag, "FROM advisory_tags")
    SELECT_TAG = _select(Tag, "FROM advisory_tags WHERE name = {p}")
    INSERT_TAG = ("INSERT INTO advisory_tags (name, url, description, created, created_by, "
                  "changed) VALUES ({p}, {p}, {p}, {p}, {p}, {p})")
    UPDATE_TAG = ("UPDATE advisory_tags SET url = {p}, description = {p}, changed = {p} "
                  "WHERE id = {p}")
    # a change of a tag's targets dates the tag: the row's lock (either back
    # end) also serialises two changes of one tag
    TOUCH_TAG = "UPDATE advisory_tags SET changed = {p} WHERE id = {p}"
    TagTarget = namedtuple("TagTarget", "id tag_id kind target added added_by removed "
                                        "removed_by")
    SELECT_TAG_TARGETS = _select(TagTarget, "FROM advisory_tag_targets{where} ORDER BY id")
    INSERT_TAG_TARGET = ("INSERT INTO advisory_tag_targets (tag_id, kind, target, added, "
                         "added_by) VALUES ({p}, {p}, {p}, {p}, {p})")
    REMOVE_TAG_TARGET = ("UPDATE advisory_tag_targets SET removed = {p}, removed_by = {p} "
                         "WHERE id = {p} AND removed IS NULL")
    # what a target names: advisories by ident, and through a CVE
    SELECT_ADVISORY_IDENTS = "SELECT ident, id FROM advisories WHERE ident IN ({marks})"
    SELECT_CVE_ADVISORIES = "SELECT cve, advisory_id FROM advisory_cves WHERE cve IN ({marks})"

    # -- exceptions (exception_store.py)
    AdvisoryException = namedtuple("AdvisoryException", "id advisory cve package version site "
                                                        "host reason added added_by expires "
                                                        "ended ended_by")
    SELECT_EXCEPTIONS = _select(AdvisoryException, "FROM advisory_exceptions{where} ORDER BY id")
    INSERT_EXCEPTION = (
        "INSERT INTO advisory_exceptions (advisory, cve, package, version, site, host, reason, "
        "added, added_by, expires, ended, ended_by) "
        "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    END_EXCEPTION = ("UPDATE advisory_exceptions SET ended = {p}, ended_by = {p} "
                     "WHERE id = {p} AND ended IS NULL")
    # an import: its date and its end as the document says
    UPDATE_EXCEPTION_TIMES = ("UPDATE advisory_exceptions SET expires = {p}, ended = {p}, "
                              "ended_by = {p} WHERE id = {p}")


Tag = TagSQL.Tag
TagTarget = TagSQL.TagTarget
AdvisoryException = TagSQL.AdvisoryException

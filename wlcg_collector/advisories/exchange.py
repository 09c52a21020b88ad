"""The document `tags export` writes and `tags import` reads: every tag
and exception of a collector, so that another collector follows its
decisions (OSG's collector EGI's EGI-Critical). Pure: records in, a JSON
value out; bytes in, records or DocumentError out.

    {"format": "wlcg-collector tags", "version": 1,
     "exported": "2026-12-01T08:00:00Z",
     "tags": [{"name": "EGI-Critical", "url": "https://...", "description": "...",
               "created": TIME, "created_by": WHO,
               "targets": [{"advisory": "RHSA-2025:23414", "added": TIME, "added_by": WHO},
                           {"cve": "CVE-2024-3094", "added": TIME, "added_by": WHO}]}],
     "exceptions": [{"id": 3, "advisory": null, "cve": "CVE-2024-3094",
                     "package": "xz-libs", "version": null, "site": "T2_X", "host": null,
                     "reason": "...", "added": TIME, "added_by": WHO,
                     "until": TIME or null, "ended": TIME or null, "ended_by": WHO or null}]}

Times are ISO 8601 UTC (dates.format_time). A tag's targets are those on
it now; exceptions are all of them, ended ones too. An exception's id is
the exporting collector's, for people: importing matches by identity
(exceptions.identity). Keys a version does not know are left
alone, so a later version may add some.
"""

import json
from collections import namedtuple

from ..dates import DAY, format_time, parse_date
from .exceptions import check_scope, identity
from .tags import (ADVISORY, CVE, DecisionError, advisory_of, cve_of, description_of,
                   reason_of, scope_value, tag_name, tag_url, who_of)

FORMAT = "wlcg-collector tags"
VERSION = 1

# a tag as a document gives it: targets [(kind, value, added, added_by)]
DocumentTag = namedtuple("DocumentTag", "name url description created created_by targets")
# an exception as a document gives it (the fields of db AdvisoryException)
DocumentException = namedtuple("DocumentException", "id advisory cve package version site "
                                                    "host reason added added_by expires ended "
                                                    "ended_by")


class DocumentError(ValueError):
    """A document that is not one: the one-line reason, naming where."""


def document(tags, exceptions, now):
    """The document (a JSON value) of [(Tag, [TagTarget])] and
    [AdvisoryException]."""
    return {
        "format": FORMAT, "version": VERSION, "exported": format_time(now),
        "tags": [{"name": tag.name, "url": tag.url, "description": tag.description,
                  "created": format_time(tag.created), "created_by": tag.created_by,
                  "targets": [{t.kind: t.target, "added": format_time(t.added),
                               "added_by": t.added_by} for t in targets]}
                 for tag, targets in tags],
        "exceptions": [{"id": e.id, "advisory": e.advisory, "cve": e.cve, "package": e.package,
                        "version": e.version, "site": e.site, "host": e.host,
                        "reason": e.reason, "added": format_time(e.added),
                        "added_by": e.added_by, "until": format_time(e.expires),
                        "ended": format_time(e.ended), "ended_by": e.ended_by}
                       for e in exceptions]}


def parse_document(data, now=None):
    """([DocumentTag], [DocumentException]) of a document's bytes; now (the
    importing collector's clock): no time of the document may be later
    than a day past it (a decision dated ahead would wait, unseen, until
    then: a campaign on a tag would find nothing)."""
    try:
        value = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except RecursionError:
        raise DocumentError("not a JSON document: nested too deeply")
    except (UnicodeDecodeError, ValueError) as exc:
        raise DocumentError("not a JSON document: %s" % str(exc).splitlines()[0][:200])
    latest = None if now is None else now + DAY
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise DocumentError("not a document of tags and exceptions (\"format\": %r expected)"
                            % FORMAT)
    if value.get("version") != VERSION:
        raise DocumentError("version %s: this collector reads version %d" % (
            json.dumps(value.get("version"))[:20], VERSION))
    tags = [_tag(item, "tags[%d]" % number, latest)
            for number, item in enumerate(_list(value, "tags", "document"))]
    seen = set()
    for number, tag in enumerate(tags):
        if tag.name.lower() in seen:
            raise DocumentError("tags[%d]: tag %s is given twice" % (number, tag.name))
        seen.add(tag.name.lower())
    exceptions = [_exception(item, "exceptions[%d]" % number, latest)
                  for number, item in enumerate(_list(value, "exceptions", "document"))]
    seen = set()
    for number, exception in enumerate(exceptions):
        if identity(exception) in seen:
            raise DocumentError("exceptions[%d]: the same exception is given twice" % number)
        seen.add(identity(exception))
    return tags, exceptions


def _list(value, key, where):
    found = value.get(key)
    if not isinstance(found, list):
        raise DocumentError("%s: %r is not a list" % (where, key))
    for item in found:
        if not isinstance(item, dict):
            raise DocumentError("%s: %r holds something that is not an object" % (where, key))
    return found


def _checked(where, check, value):
    try:
        return check(value)
    except DecisionError as exc:
        raise DocumentError("%s: %s" % (where, exc))


def _time(item, key, where, latest, optional=False):
    value = item.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise DocumentError("%s: %r is not a time (2026-01-31T18:00:00Z)" % (where, key))
    try:
        when = parse_date(value)
    except ValueError as exc:
        raise DocumentError("%s: %s: %s" % (where, key, exc))
    if key != "until" and latest is not None and when > latest:
        raise DocumentError("%s: %s %s is later than this collector's clock" % (where, key,
                                                                               value))
    return when


def _tag(item, where, latest):
    name = _checked(where, tag_name, item.get("name"))
    where = "%s (%s)" % (where, name)
    targets = []
    for number, target in enumerate(_list(item, "targets", where)):
        at = "%s.targets[%d]" % (where, number)
        kinds = [kind for kind in (ADVISORY, CVE) if kind in target]
        if len(kinds) != 1:
            raise DocumentError("%s: names one advisory or one CVE" % at)
        check = advisory_of if kinds[0] == ADVISORY else cve_of
        targets.append((kinds[0], _checked(at, check, target[kinds[0]]),
                        _time(target, "added", at, latest),
                        _checked(at, who_of, target.get("added_by"))))
    if len({(kind, value) for kind, value, _, _ in targets}) != len(targets):
        raise DocumentError("%s: a target is given twice" % where)
    return DocumentTag(name, _checked(where, tag_url, item.get("url")),
                       _checked(where, description_of, item.get("description")),
                       _time(item, "created", where, latest),
                       _checked(where, who_of, item.get("created_by")), targets)


def _exception(item, where, latest):
    def optional(key, check):
        return None if item.get(key) is None else _checked(where, check, item[key])

    def word(field):
        return lambda text: scope_value(field, text)
    exception = DocumentException(
        item.get("id") if isinstance(item.get("id"), int) else None,
        optional("advisory", advisory_of), optional("cve", cve_of),
        optional("package", word("package")), optional("version", word("version")),
        optional("site", word("site")), optional("host", word("host")),
        _checked(where, reason_of, item.get("reason")), _time(item, "added", where, latest),
        _checked(where, who_of, item.get("added_by")),
        _time(item, "until", where, latest, True), _time(item, "ended", where, latest, True),
        optional("ended_by", who_of))
    _checked(where, lambda e: check_scope(e.advisory, e.cve, e.package, e.version, e.site,
                                          e.host), exception)
    if (exception.ended is None) != (exception.ended_by is None):
        raise DocumentError("%s: \"ended\" and \"ended_by\" go together" % where)
    if any(t is not None and t < exception.added for t in (exception.expires, exception.ended)):
        raise DocumentError("%s: it ends before it was added" % where)
    return exception

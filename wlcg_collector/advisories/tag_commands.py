"""The officer's decisions about advisories: `tags` (which advisories
matter: EGI-Critical) and `exceptions` (what does not apply here).

    tags [list]                       every tag, what it names, its URL
    tags add NAME [--url] [--description]
    tags apply NAME ID...             an advisory, or a CVE (every advisory
    tags unapply NAME ID...           naming it, those imported later too)
    tags show NAME                    what a tag names, by whom, since when
    tags export                       every tag and exception as one JSON
    tags import FILE|URL              document, and another collector's
    exceptions [list] [--all]         in force now (--all: ever)
    exceptions add (--advisory ID | --cve CVE) --reason TEXT [--package]
                   [--version] [--site] [--host] [--until DATE]
    exceptions end ID
"""

import argparse
import json
import sys
import time

from ..cli_common import (CommandError, UsageError, actions_of, command, config_of, date_arg,
                          emit, host_of, row_id, site_of, store_of, with_format)
from ..dates import format_time
from ..remote import SourceError, fetch, printable, read_file
from ..site_commands import officer_name
from ..statuses import UNCHANGED
from . import exchange
from .exceptions import scope_of, state_of
from .tags import (CVE, SCOPE_FIELDS, DecisionError, advisory_of, cve_of, description_of,
                   reason_of, scope_value, tag_name, tag_url, target_of, who_of)

# a document of tags and exceptions: a grid's are some kilobytes
MAX_DOCUMENT = 16 * 1024 * 1024
TAG_COLUMNS = ["tag", "targets", "advisories", "url", "description"]
TARGET_COLUMNS = ["kind", "target", "advisories", "added", "by"]
EXCEPTION_COLUMNS = ["id", "names", "package", "version", "site", "host", "added", "by",
                     "until", "reason"]
ALL_EXCEPTION_COLUMNS = EXCEPTION_COLUMNS[:-1] + ["state", "ended", "ended_by", "reason"]


def checked(check, value):
    """check(value), its DecisionError a usage error (exit 2)."""
    try:
        return check(value)
    except DecisionError as exc:
        raise UsageError(str(exc))


def who(args):
    """Who the record says did it: --by, else the login."""
    return checked(who_of, args.by if args.by is not None else officer_name())


def with_by(parser):
    parser.add_argument("--by", metavar="WHO",
                        help="who did it, for the record (default: your login)")
    return parser


# ---------------------------------------------------------------- tags

def declare_tags(commands):
    p = with_format(command(commands, "tags", "tags on advisories and CVEs (EGI-Critical): "
                                              "make one, apply it, list them, export and "
                                              "import them", tags_list))
    actions = actions_of(p, required=False, help_text="none: list the tags")
    with_format(command(actions, "list", "every tag: what it names, its URL", tags_list),
                inherited=True)
    s = with_by(command(actions, "add", "make a tag (or change its URL and description)",
                        tags_add))
    s.add_argument("name", metavar="NAME")
    s.add_argument("--url", help="where people read about it (https:// or http://)")
    s.add_argument("--description", metavar="TEXT")
    for action, func, text in (
            ("apply", tags_apply, "tag advisories (by ID) and CVEs (every advisory naming the "
                                  "CVE, those imported later too)"),
            ("unapply", tags_unapply, "take advisories and CVEs off a tag")):
        s = with_by(command(actions, action, text, func))
        s.add_argument("name", metavar="NAME")
        s.add_argument("ids", metavar="ID", nargs="+", help="an advisory ID or a CVE")
    s = with_format(command(actions, "show", "what a tag names: each advisory or CVE, the "
                                             "stored advisories it stands for, by whom, since "
                                             "when", tags_show), inherited=True)
    s.add_argument("name", metavar="NAME")
    command(actions, "export", "every tag and exception as one JSON document", tags_export)
    s = with_by(command(actions, "import", "take the tags and exceptions of another "
                                           "collector's document (a file or https:// URL)",
                        tags_import))
    s.add_argument("source", metavar="FILE|URL")


def tags_list(args):
    store = store_of(args, read=True)
    targets = store.tags.targets()
    named = store.tags.advisories_of((t.kind, t.target) for t in targets)
    rows = []
    for tag in store.tags.listed():
        mine = [t for t in targets if t.tag_id == tag.id]
        ids = {i for t in mine for i in named.get((t.kind, t.target), ())}
        rows.append({"tag": tag.name, "targets": len(mine), "advisories": len(ids),
                     "url": tag.url, "description": tag.description})
    emit(rows, TAG_COLUMNS, args.format)


def tags_add(args):
    name = checked(tag_name, args.name)
    url = checked(tag_url, args.url)
    description = checked(description_of, args.description)
    by = who(args)
    done = store_of(args).tags.add(name, url, description, int(time.time()), by)
    print("tag %s %s" % (name, "unchanged" if done == UNCHANGED else done))


def _targets(args):
    return [checked(target_of, text) for text in args.ids]


def tags_apply(args):
    name = checked(tag_name, args.name)
    targets = _targets(args)
    by = who(args)
    store = store_of(args)
    applied, already = store.tags.apply(name, targets, int(time.time()), by)
    print("tag %s: %d applied, %d named already; it names %d stored advisories now"
          % (name, applied, already, len(store.tags.advisory_ids(name))))


def tags_unapply(args):
    name = checked(tag_name, args.name)
    targets = _targets(args)
    by = who(args)
    store = store_of(args)
    removed = store.tags.unapply(name, targets, int(time.time()), by)
    print("tag %s: %d taken off; it names %d stored advisories now"
          % (name, removed, len(store.tags.advisory_ids(name))))


def tags_show(args):
    store = store_of(args, read=True)
    tag = store.tags.get(args.name)
    targets = store.tags.targets(tag.name)
    named = store.tags.advisories_of((t.kind, t.target) for t in targets)
    idents = {i: info.ident for i, info in store.advisories.by_id(
        {i for ids in named.values() for i in ids}).items()}
    rows = [{"kind": t.kind, "target": t.target,
             "advisories": " ".join(sorted(idents[i] for i in named.get((t.kind, t.target), ()))),
             "added": format_time(t.added), "by": t.added_by} for t in targets]
    if args.format == "json":
        print(json.dumps({"tag": tag.name, "url": tag.url, "description": tag.description,
                          "created": format_time(tag.created), "created_by": tag.created_by,
                          "changed": format_time(tag.changed), "targets": rows}, indent=1))
        return
    if args.format == "csv":
        emit(rows, TARGET_COLUMNS, "csv")
        return
    print("tag: %s" % tag.name)
    print("url: %s" % (tag.url or "-"))
    print("description: %s" % printable(tag.description or "-", 1000))
    print("created: %s by %s" % (format_time(tag.created), printable(tag.created_by)))
    sys.stdout.write("\n")
    if rows:
        emit(rows, TARGET_COLUMNS, "table")
    else:
        print("it names nothing")


def tags_export(args):
    store = store_of(args, read=True)
    print(json.dumps(exchange.document(store.tags.exported(), store.exceptions.listed(),
                                       int(time.time())), indent=1))


def tags_import(args):
    source = args.source
    shown = printable(source, 255)
    by = who(args)
    config = config_of(args)
    try:
        if source.lower().startswith(("https://", "http://")):
            data = fetch(source, MAX_DOCUMENT, ca_file=config.feed_ca_file)
        else:
            data = read_file(source, MAX_DOCUMENT)
    except SourceError as exc:
        raise CommandError("%s; nothing imported" % printable(exc, 1000))
    try:
        tags, exceptions = exchange.parse_document(data, int(time.time()))
    except exchange.DocumentError as exc:
        raise UsageError("%s: %s; nothing imported" % (shown, printable(exc, 1000)))
    counts = store_of(args).tags.import_decisions(tags, exceptions, int(time.time()), by)
    if counts.tags_added + counts.tags_updated + counts.exceptions_added + \
            counts.exceptions_updated == 0:
        print("%s: unchanged (%d tag(s), %d exception(s) as stored)"
              % (shown, counts.tags_unchanged, counts.exceptions_unchanged))
        return
    print("%s: tags %d added, %d updated, %d unchanged; exceptions %d added, %d updated, "
          "%d unchanged" % (shown, counts.tags_added, counts.tags_updated, counts.tags_unchanged,
                            counts.exceptions_added, counts.exceptions_updated,
                            counts.exceptions_unchanged))


# ---------------------------------------------------------------- exceptions

def declare_exceptions(commands):
    p = command(commands, "exceptions", "exceptions: findings of an advisory or CVE that do not "
                                        "apply here (a backport, a mitigation, a host being "
                                        "retired); never deleted, only ended", exceptions_list)
    p.add_argument("--all", action="store_true", help="ended and expired ones too")
    with_format(p)
    actions = actions_of(p, required=False, help_text="none: list those in force")
    s = with_format(command(actions, "list", "the exceptions in force now (--all: every one)",
                            exceptions_list), inherited=True)
    s.add_argument("--all", action="store_true", default=argparse.SUPPRESS)
    s = with_by(command(actions, "add", "except the findings of one advisory or CVE, narrowed "
                                        "by package, version, site, host", exceptions_add))
    s.add_argument("--advisory", metavar="ID")
    s.add_argument("--cve", metavar="CVE")
    s.add_argument("--reason", metavar="TEXT", help="why (required)")
    s.add_argument("--package", metavar="NAME", help="the installed package's name")
    s.add_argument("--version", metavar="EVR", help="its installed version (with --package)")
    s.add_argument("--site", metavar="SITE")
    s.add_argument("--host", metavar="HOST", help="a host name (unique, or with --site)")
    s.add_argument("--until", metavar="DATE", type=date_arg,
                   help="in force until DATE (default: until ended)")
    s = with_by(command(actions, "end", "end an exception: its findings count again from now",
                        exceptions_end))
    s.add_argument("id", metavar="ID", type=row_id)


def exceptions_list(args):
    store = store_of(args, read=True)
    now = int(time.time())
    everything = bool(getattr(args, "all", False))
    found = store.exceptions.listed() if everything else store.exceptions.in_force(now)
    rows = [{"id": e.id, "names": e.advisory or e.cve, "package": e.package,
             "version": e.version, "site": e.site, "host": e.host,
             "added": format_time(e.added), "by": e.added_by, "until": format_time(e.expires),
             "state": state_of(e, now), "ended": format_time(e.ended), "ended_by": e.ended_by,
             "reason": e.reason} for e in found]
    emit(rows, ALL_EXCEPTION_COLUMNS if everything else EXCEPTION_COLUMNS, args.format)


def _scope(args, field):
    """--package, --version, --site or --host as given, checked (None: not
    given)."""
    text = getattr(args, field)
    return None if text is None else checked(
        lambda value: scope_value(field, value, "--" + field), text)


def exceptions_add(args):
    if (args.advisory is None) == (args.cve is None):
        raise UsageError("exceptions add: give --advisory ID or --cve CVE, one of them: an "
                         "exception is never wider than one advisory or CVE")
    if args.reason is None:
        raise UsageError("exceptions add: --reason TEXT is required: say why")
    if args.version is not None and args.package is None:
        raise UsageError("exceptions add: --version is a package's: give --package too")
    advisory = checked(advisory_of, args.advisory) if args.advisory is not None else None
    cve = checked(cve_of, args.cve) if args.cve is not None else None
    reason = checked(reason_of, args.reason)
    package, version, site, host = (_scope(args, field) for field in SCOPE_FIELDS)
    now = int(time.time())
    if args.until is not None and args.until <= now:
        raise UsageError("exceptions add: --until %s is not in the future"
                         % format_time(args.until))
    by = who(args)
    store = store_of(args)
    if advisory is not None:
        store.advisories.get(advisory)  # UnknownAdvisory: one line, exit 1
    elif not store.tags.advisories_of([(CVE, cve)]):
        raise CommandError("no stored advisory names %s" % cve)
    if host is not None:
        found = host_of(store, args)  # unique, or at --site
        host, site = found.name, found.site
    elif site is not None:
        site_of(store, args)
    exception = store.exceptions.add(advisory, cve, package, version, site, host, reason, now,
                                     by, args.until)
    print("added exception %d: %s; in force until %s" % (
        exception.id, printable(scope_of(exception), 1000),
        format_time(exception.expires) if exception.expires is not None else "ended"))


def exceptions_end(args):
    by = who(args)
    exception = store_of(args).exceptions.end(args.id, int(time.time()), by)
    print("ended exception %d: %s" % (exception.id, printable(scope_of(exception), 1000)))

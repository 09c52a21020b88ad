"""The officer's advisory commands: `advisories import|list|show` and
`vulnerable` (`exposure` and `patch-times`: exposure_commands.py)."""

import json
import os
import shutil
import sys
import time

from ..cli_common import (CommandError, UsageError, actions_of, command, config_of, date_arg,
                          emit, emit_records, site_of, store_of, with_at, with_format,
                          with_rows, with_site)
from ..db import StoreError
from ..output import FEW, DictRecord, first_few, record_rows
from ..numerals import is_digits
from ..text import escaped
from . import exposure as judging
from .exceptions import excepting
from .formats import parse_records
from .records import FORMATS as FEED_FORMATS
from .records import SEVERITIES, AdvisoryError
from .sources import SourceError, items_of, printable
from .streams import StreamTable

# advisories stored a transaction (a file's advisories are never split)
IMPORT_BATCH = 2000
LIST_COLUMNS = ["advisory", "severity", "published", "cves", "title"]
# `advisories list` never cuts a title shorter than this (a narrow terminal wraps)
MIN_TITLE = 20
SHOW_COLUMNS = ["stream", "name", "kind", "arch", "module", "introduced", "fixed",
                "last_affected", "pro"]
REVISION_COLUMNS = ["revision", "modified", "stored", "replaced"]
VULNERABLE_SUMMARY = ["site", "hosts", "exposed", "advisories", "cves", "critical", "important",
                      "moderate", "low", "other"]
# then one line per exposed host (`--rows`: every exposed package)
VULNERABLE_HOSTS = ["site", "host", "advisories", "cves", "most_severe"]
# a finding an exception took out, as `vulnerable` and `exposure` show it apart
EXCEPTED_TABLE = ["site", "host", "advisory", "package", "installed", "exception", "reason"]


def severity_list(text):
    """--severity: one name, or several joined by commas; "important"
    alone also means what is worse (critical)."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in SEVERITIES:
            raise UsageError("--severity %s: one of %s" % (name, ", ".join(SEVERITIES)))
    if len(names) == 1 and names[0] in SEVERITIES[:4]:
        return SEVERITIES[:SEVERITIES.index(names[0]) + 1]
    return tuple(names)


def stream_table(args):
    return StreamTable(config_of(args).os_streams)


# ---------------------------------------------------------------- advisories

def declare_advisories(commands):
    p = command(commands, "advisories", "security advisories: import the vendors' feeds, list "
                                        "them, show one", None)
    actions = actions_of(p)
    p = command(actions, "import", "import advisories from files, directories, zips of OSV "
                                   "records or https:// URLs (none: the configured feeds)",
                advisories_import)
    p.add_argument("sources", metavar="SOURCE", nargs="*")
    p.add_argument("--format", dest="feed_format", choices=FEED_FORMATS,
                   help="the files' format (default: detected from each file's content)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing unless something failed (for cron)")
    p = command(actions, "list", "the stored advisories", advisories_list)
    p.add_argument("--cve", metavar="CVE")
    p.add_argument("--severity", metavar="S", help="%s (one: it and worse)"
                   % ", ".join(SEVERITIES))
    p.add_argument("--since", metavar="DATE", type=date_arg,
                   help="published (or first seen) at or after DATE")
    p.add_argument("--tag", metavar="NAME", help="those the tag names")
    p.add_argument("--wide", action="store_true",
                   help="whole titles (the table cuts them to the terminal's width)")
    with_format(p)
    p = command(actions, "show", "one advisory: what it says is affected, its revisions",
                advisories_show)
    p.add_argument("ident", metavar="ID")
    with_format(p)


def advisories_import(args):
    config = config_of(args)
    sources = args.sources or config.feeds
    if not sources:
        raise UsageError("advisories import: name a SOURCE, or feeds in [advisories] of the "
                         "config file")
    store = store_of(args)
    failed = 0
    total = {"new": 0, "updated": 0, "unchanged": 0, "older": 0}
    files = 0

    def store_batch(advisories):
        result = store.advisories.import_records(advisories, int(time.time()))
        for key in total:
            total[key] += getattr(result, key)
    for source in sources:
        if not source.lower().startswith(("https://", "http://")) and not os.path.exists(source):
            failed += refuse(source, "no such file or directory")
            continue
        advisories = []
        try:
            for name, data in items_of(source, max_bytes=config.max_feed_bytes,
                                       ca_file=config.feed_ca_file):
                files += 1
                for record, result in records_of(data, args.feed_format):
                    if isinstance(result, AdvisoryError):
                        failed += refuse(name, record, result)
                    else:
                        advisories.append(result)
                if len(advisories) >= IMPORT_BATCH:
                    store_batch(advisories)  # a whole feed need not fit in memory
                    advisories = []
        except SourceError as exc:
            failed += refuse(exc)
        if advisories:
            store_batch(advisories)
    if not args.quiet or failed:
        print("%d file(s) read: %d new, %d updated, %d unchanged, %d older than stored%s"
              % (files, total["new"], total["updated"], total["unchanged"], total["older"],
                 "; %d not valid (nothing of them stored)" % failed if failed else ""))
    return 1 if failed else 0


def records_of(data, feed_format):
    """[(record, Advisory or AdvisoryError)] of one file (data: its bytes,
    or the AdvisoryError that refuses it whole; record None then)."""
    if isinstance(data, AdvisoryError):
        return [(None, data)]
    try:
        return parse_records(data, feed_format)
    except AdvisoryError as exc:
        return [(None, exc)]


def refuse(*parts):
    """One line on stderr: SOURCE: RECORD: reason (parts that are None left
    out), every part made printable; 1, counted as a failure."""
    sys.stderr.write("wlcg-collector: %s\n" % ": ".join(
        printable(part, 500) for part in parts if part is not None))
    return 1


def advisories_list(args):
    store = store_of(args, read=True)
    severities = severity_list(args.severity) if args.severity else None
    rows = advisory_list_rows(store, severities, args.cve, args.since, args.tag)
    width = terminal_width()
    if args.format == "table" and not args.wide and width is not None:
        rows = titles_cut(rows, width)
    emit(rows, LIST_COLUMNS, args.format)


def terminal_width():
    """The width a table is cut to: $COLUMNS, else the terminal's; None
    when printing to a pipe or a file (a script reads whole titles)."""
    columns = os.environ.get("COLUMNS", "")
    if is_digits(columns) and len(columns) < 6 and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def titles_cut(rows, width):
    """`advisories list`'s rows as a terminal `width` wide shows them: the
    first CVE and how many more, each title cut where a line of the table
    reaches the width (the title is last; never below MIN_TITLE
    characters): a long title or list of CVEs would wrap every line."""
    rows = [dict(row, cves=_first_cve(row["cves"])) for row in rows]
    used = sum(max([len(column)] + [len(escaped("-" if row[column] is None else
                                                 str(row[column]))) for row in rows]) + 2
               for column in LIST_COLUMNS[:-1])
    room = max(MIN_TITLE, width - used)
    for row in rows:
        title = escaped(row["title"] or "")
        if len(title) > room:
            row["title"] = title[:room - 1] + "…"
    return rows


def _first_cve(cves):
    names = cves.split()
    return names[0] + (" +%d more" % (len(names) - 1) if len(names) > 1 else "") \
        if names else cves


def advisory_list_rows(store, severities=None, cve=None, since=None, tag=None):
    """`advisories list`'s rows (LIST_COLUMNS), by advisory: the stored
    advisories of `severities` (None: all), naming `cve`, published (or
    first seen) at or after `since`, named by tag `tag` (each None: any)."""
    infos = store.advisories.listed(cve=cve.upper() if cve else None,
                                    severities=severities, since=since)
    if tag is not None:
        tagged = store.tags.advisory_ids(tag)
        infos = [i for i in infos if i.id in tagged]
    cves = store.advisories.cves([i.id for i in infos]) if infos else {}
    rows = [{"advisory": i.ident, "severity": i.severity, "published": i.published,
             "cves": " ".join(cves.get(i.id, [])), "title": i.title} for i in infos]
    return record_rows([DictRecord(r) for r in rows], LIST_COLUMNS)


def advisory_document(store, info, content):
    """`advisories show --format json`: what a stored advisory says (its
    content, as stored), with its revisions, first seen and revision."""
    return dict(content, revisions=[r._asdict() for r in store.advisories.revisions(info.id)],
                first_seen=info.first_seen, revision=info.revision)


def _info(store, ident):
    try:
        return store.advisories.get(ident)
    except StoreError as exc:
        raise CommandError(str(exc))


def advisories_show(args):
    store = store_of(args, read=True)
    info, content = _info(store, args.ident)
    if args.format == "json":
        sys.stdout.write(json.dumps(advisory_document(store, info, content), indent=1,
                                    sort_keys=True) + "\n")
        return
    rows = [dict(zip(SHOW_COLUMNS, a)) for a in content["affected"]]
    if args.format == "csv":
        emit(rows, SHOW_COLUMNS, "csv")
        return
    emit_records([info], ["ident", "severity", "published", "modified", "first_seen",
                          "revision"], "table")
    print("title: %s" % info.title)
    print("cves: %s" % " ".join(content["cves"]))
    if content.get("url"):
        print("url: %s" % content["url"])
    sys.stdout.write("\n")
    emit(rows, SHOW_COLUMNS, "table")
    revisions = store.advisories.revisions(info.id)
    if revisions:
        sys.stdout.write("\nearlier revisions:\n")
        emit_records(revisions, REVISION_COLUMNS, "table")


# ---------------------------------------------------------------- questions

def declare_vulnerable(commands):
    p = with_format(command(commands, "vulnerable", "per site, the hosts exposed to advisories "
                                                    "(critical and important first); then per "
                                                    "host how many advisories, the most severe "
                                                    "first (--rows: each exposed package, "
                                                    "installed and fixed versions)",
                            cmd_vulnerable))
    with_site(p)
    p.add_argument("--severity", metavar="S", help="%s (one: it and worse; default: all but "
                                                   "none)" % ", ".join(SEVERITIES))
    p.add_argument("--tag", metavar="NAME", help="only the advisories the tag names (as it "
                                                 "stood at --at)")
    with_at(p, "default: now")
    with_rows(p, "(host, advisory, package) row")
    p.add_argument("--summary", action="store_true",
                   help="only the lines per site (in every format)")
    p.add_argument("--hosts", action="store_true",
                   help="only the lines per exposed host (in every format)")


def cmd_vulnerable(args):
    store = store_of(args, read=True)
    site = site_of(store, args)
    severities = severity_list(args.severity) if args.severity else judging.SECURITY_SEVERITIES
    result, exceptions = vulnerable_at(store, stream_table(args), args.at, site, severities,
                                       args.tag)
    summary, details = result
    columns = judging.VULNERABLE_COLUMNS
    if args.summary:
        emit(vulnerable_site_rows(result), VULNERABLE_SUMMARY, args.format)
        return
    if args.hosts:
        emit(vulnerable_host_rows(result), VULNERABLE_HOSTS, args.format)
        return
    if args.format != "table":
        emit(vulnerable_rows(result, exceptions, args.format), VULNERABLE_ROWS, args.format)
        return
    emit(vulnerable_site_rows(result), VULNERABLE_SUMMARY, "table")
    if args.rows:
        if details:
            sys.stdout.write("\n")
            emit([dict(zip(columns, row)) for row in details], columns, "table")
    else:
        hosts = vulnerable_host_rows(result)
        if hosts:
            sys.stdout.write("\n")
            emit(hosts, VULNERABLE_HOSTS, "table")
    if result.excepted:
        sys.stdout.write("\nexcepted: %d finding(s) on %d host(s), not counted above\n" % (
            len(result.excepted), len({row[:2] for row in result.excepted})))
        emit(excepted_rows(result.excepted, exceptions, "table"), EXCEPTED_TABLE, "table")


def vulnerable_at(store, table, at=None, site=None, severities=judging.SECURITY_SEVERITIES,
                  tag=None):
    """(judging.vulnerable's result, the Excepting it was judged with) at
    `at` (None: now): the findings of `severities` (of the advisories tag
    `tag` named then, if given; UnknownTag), of `site` if given, with the
    exceptions in force then taken out."""
    when = at if at is not None else int(time.time())
    tagged = store.tags.advisory_ids(tag, at) if tag is not None else None
    exceptions = excepting(store, store.exceptions.in_force(when))
    return judging.vulnerable(store, table, when, site, severities, tagged,
                              exceptions), exceptions


def vulnerable_site_rows(result):
    """`vulnerable`'s lines per site (VULNERABLE_SUMMARY; `--summary`) of
    a judging.vulnerable result, in its order."""
    return record_rows(result[0], VULNERABLE_SUMMARY)


def vulnerable_host_rows(result):
    """`vulnerable`'s lines per exposed host (VULNERABLE_HOSTS; `--hosts`)
    of a judging.vulnerable result, by site and host: how many advisories
    and distinct CVEs, the most severe advisories first."""
    return [{"site": host.site, "host": host.host, "advisories": len(host.advisories),
             "cves": host.cves,
             "most_severe": first_few(["%s (%s)" % pair for pair in host.advisories[:FEW]],
                                      len(host.advisories))}
            for host in judging.hosts_exposed(result)]


# `vulnerable --format csv|json`: every finding, the excepted ones last
VULNERABLE_ROWS = judging.VULNERABLE_COLUMNS + ["excepted_by", "reason"]


def vulnerable_rows(result, exceptions, fmt="json"):
    """`vulnerable`'s rows in CSV and JSON (VULNERABLE_ROWS) of a
    judging.vulnerable result: the findings by site, host, severity and
    advisory, then those exceptions took out (`exceptions`: the
    Excepting it was judged with), in the same order."""
    rows = [dict(zip(judging.VULNERABLE_COLUMNS, row), excepted_by=None, reason=None)
            for row in result[1]]
    return rows + excepted_rows(result.excepted, exceptions, fmt)


def excepted_rows(excepted, exceptions, fmt):
    """The rows of excepted findings (judging.EXCEPTED_COLUMNS) as
    `vulnerable` prints them: with the ids of the exceptions (a list in
    JSON) and their reasons."""
    by_id = {e.id: e for e in exceptions.exceptions}
    rows = []
    for values in excepted:
        row = dict(zip(judging.EXCEPTED_COLUMNS, values))
        ids = row["excepted_by"]
        row["reason"] = "; ".join(by_id[i].reason for i in ids)
        row["exception"] = " ".join(map(str, ids))
        row["excepted_by"] = list(ids) if fmt == "json" else row["exception"]
        rows.append(row)
    return rows


def advisories_named(store, ident):
    """The AdvisoryInfo rows an ADVISORY|CVE argument names."""
    if ident.upper().startswith("CVE-"):
        infos = store.advisories.listed(cve=ident.upper())
        if not infos:
            raise CommandError("no stored advisory names %s" % ident.upper())
        return infos
    return [_info(store, ident)[0]]

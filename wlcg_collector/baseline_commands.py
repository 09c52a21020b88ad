"""`wlcg-collector baseline` and `compare`: the reference versions the
officer stores, and the hosts judged against them.

    baseline add NAME FILE        a new revision (its holders kept at once)
    baseline list | show NAME     the stored baselines, one of them
    baseline delete NAME          retire it (its revisions kept; `add` brings
                                  it back)
    baseline keep [NAME...]       compare's kept holders of each brought up
                                  to date (the ten-minute timer)
    compare BASELINE [--site S] [--at DATE] [--rows]
"""

import os
import re
import sys
import time

from . import analysis, compliance_cache
from .baselines import BaselineError, dpkg_caveats, parse_baseline
from .closest import closest_names, did_you_mean, stored_ones
from .cli_common import (PROG, CommandError, UsageError, actions_of, command, config_of,
                         emit, emit_records, keeper_of, site_of, store_of, with_at, with_format,
                         with_rows, with_site)
from .dates import DAY, format_time
from .db import StoreError
from .output import FEW, first_few, record_rows
from .site_names import site_key


BASELINE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# compare's rows in CSV and JSON (and the baseline page's): each with
# whether its host is judged on an old report (silent more than
# [officer] stale_days)
COMPARE_COLUMNS = analysis.COMPLIANCE_COLUMNS + ["stale"]
# compare's table: one line per host behind (`--rows`: every row behind)
HOSTS_BEHIND_COLUMNS = ["site", "host", "behind", "requirements"]
# a site's compliance when no requirement applies to any of its hosts
NOT_APPLICABLE = "n/a"
# compare --sort: the value a summary row is ordered by (None: last)
SUMMARY_SORTS = {
    "site": lambda row: 0,  # (the rows come in site order)
    "compliance": lambda row: None if row["compliant"] == NOT_APPLICABLE
    else float(row["compliant"].rstrip("%")),
    "behind": lambda row: -row["behind"],
    "tier": lambda row: row.get("tier"),
}


def read_baseline_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(1024 * 1024)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError("cannot read baseline %s: %s" % (path, getattr(exc, "strerror", exc)
                                                            or exc))
    return text, parse_baseline(text, path)


def declare_baseline(commands):
    baseline = command(commands, "baseline", "store and read baselines (reference versions)",
                       None)
    actions = actions_of(baseline)
    p = command(actions, "add", "store FILE as a new revision of baseline NAME", baseline_add)
    p.add_argument("name", metavar="NAME")
    p.add_argument("file", metavar="FILE")
    p = with_format(command(actions, "list", "the stored baselines", baseline_list))
    p.add_argument("--all", action="store_true", help="the retired ones too")
    p = command(actions, "show", "print a stored baseline (NAME or NAME@REVISION)",
                baseline_show)
    p.add_argument("name", metavar="NAME[@REVISION]")
    p = command(actions, "delete", "retire baseline NAME: gone from list, keep and the pages; "
                                   "its revisions kept (NAME@REVISION), `add` brings it back",
                baseline_delete)
    p.add_argument("name", metavar="NAME")
    p = command(actions, "keep", "bring compare's kept holders of the stored baselines (or of "
                                 "each NAME) up to date", baseline_keep)
    p.add_argument("names", metavar="NAME", nargs="*")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing unless something is wrong (for a timer)")


def baseline_add(args):
    store = store_of(args)
    if not BASELINE_NAME_RE.match(args.name):
        raise UsageError("baseline name %r: letters, digits, '.', '_', '-'" % args.name)
    text, requirements = read_baseline_file(args.file)
    warn(dpkg_caveats(requirements), args.file)
    revision = store.baselines.add(args.name, text, int(time.time()))
    print("baseline %s revision %d: %d requirement(s)" % (args.name, revision,
                                                          len(requirements)))
    sys.stdout.flush()
    # the officer's first compare of it then reads only the hosts
    # changed since (a full read of a whole grid takes seconds)
    try:
        current = compliance_cache.current_holders(store, requirements)
    except StoreError as exc:
        warn([compliance_cache.NOT_KEPT % exc])
        return
    warn(current.warnings)
    judged = analysis.compliance_from_holders(requirements, current.packages, current.hosts,
                                              current.masks, current.won)
    warn(compliance_cache.caveats_of(store, requirements, judged.installed()), args.file)


def warn(warnings, source=None):
    """Print warnings, one line each; those of a baseline's line ("line N:
    ...") as `source`:N: ... (the baseline's file or stored name)."""
    for warning in warnings:
        if source is not None:
            number, _, rest = warning[len("line "):].partition(": ")
            warning = "%s:%s: %s" % (source, number, rest) \
                if warning.startswith("line ") else "%s: %s" % (source, warning)
        sys.stderr.write("%s: warning: %s\n" % (PROG, warning))


def baseline_list(args):
    """The stored baselines, their latest revisions; with --all the
    retired ones too, and a column that says which."""
    emit_records(store_of(args, read=True).baselines.latest(retired=args.all),
                 ["name", "revision", "created", "revisions"] + (["retired"] if args.all else []),
                 args.format)


def baseline_delete(args):
    """`baseline delete NAME`: retired, not erased (compare's answers of
    its revisions stay reproducible)."""
    store = store_of(args)
    revision = store.baselines.retire(args.name, int(time.time()))
    print("baseline %s retired (revision %d); its revisions stay: %s@1 to %s@%d"
          % (args.name, revision, args.name, args.name, revision - 1))


def baseline_show(args):
    store = store_of(args, read=True)
    try:
        name, revision = analysis.split_baseline_ref(args.name)
    except ValueError as exc:
        raise UsageError(str(exc))
    baseline = store.baselines.get(name, revision)
    text = baseline.text
    sys.stdout.write("# baseline %s revision %d, stored %s\n%s" % (
        name, baseline.revision, format_time(baseline.created),
        text if text.endswith("\n") else text + "\n"))


def baseline_keep(args):
    """`baseline keep`: what compare keeps, brought up to date for each
    stored baseline (its latest revision), newest first."""
    store = store_of(args, read=True)
    infos = sorted(store.baselines.latest(), key=lambda info: (-info.created, info.name))
    unknown = set(args.names) - {info.name for info in infos}
    retired = sorted(unknown & {info.name for info in store.baselines.latest(retired=True)})
    if retired:  # (nothing of theirs is kept: compare names one of its revisions)
        raise CommandError("retired baseline(s): %s (baseline delete; baseline add brings one "
                           "back)" % ", ".join(retired))
    if unknown:
        stored = sorted(info.name for info in infos)
        meant = {name: closest_names(name, stored) for name in unknown}
        raise CommandError("unknown baseline(s): %s%s" % (", ".join(
            "%s (%s)" % (name, did_you_mean(meant[name])) if meant[name] else name
            for name in sorted(unknown)),
            "" if any(meant.values()) else ": " + stored_ones(stored)))
    baselines = []
    for info in infos:
        if args.names and info.name not in args.names:
            continue
        try:
            baselines.append((info.name, analysis.stored_baseline(store, info.name)[1]))
        except BaselineError as exc:  # (stored by an older version's rules)
            sys.stderr.write("%s: warning: %s\n" % (PROG, exc))
    if not baselines and not args.quiet:
        print("no stored baseline")
    kept = compliance_cache.keep_holders(store, baselines, keeper_of(args))
    warn(kept.warnings)
    for names, current, seconds in kept.done:
        if args.quiet:
            continue
        if current.changed is None:
            what = "the whole fleet read (%d hosts)" % len(current.hosts)
        elif current.changed:
            what = "%d host(s) read again" % len(current.changed)
        else:
            what = "nothing changed"
        print("%s: %s, %.2f s" % (", ".join(names), what, seconds))


def load_requirements(store, ref):
    """Requirements of a baseline given as a file path or a stored name."""
    if os.path.isfile(ref):
        return read_baseline_file(ref)[1]
    try:
        return analysis.stored_baseline(store, ref)[1]
    except ValueError as exc:
        raise UsageError(str(exc))


def declare_compare(commands):
    p = with_format(command(commands, "compare", "compliance of the hosts with a baseline (a "
                                                 "stored NAME[@REVISION] or a FILE)",
                            cmd_compare))
    p.add_argument("baseline", metavar="BASELINE")
    with_site(p)
    with_at(p)
    with_rows(p, "(host, package) row behind")
    p.add_argument("--summary", action="store_true",
                   help="only the summary, a line per site (in every format)")
    p.add_argument("--sort", choices=SUMMARY_SORTS, default="site",
                   help="the summary's order: by site (default), compliance (the least "
                        "first), behind (the most first) or tier; n/a and no tier last")


def cmd_compare(args):
    store = store_of(args, read=True)
    site = site_of(store, args)
    requirements = load_requirements(store, args.baseline)
    answer = compliance_cache.compliance_answer(store, requirements, args.at, site,
                                                keeper_of(args),
                                                stale_days=config_of(args).stale_days)
    warn(answer.warnings)
    warn(answer.caveats, args.baseline)
    result = answer.compliance
    if args.summary:
        emit(*sorted_summary(summary_rows(store, result), args.sort), args.format)
        return
    if args.format != "table":
        emit(compliance_rows(result), COMPARE_COLUMNS, args.format)
        return
    emit(*sorted_summary(summary_rows(store, result), args.sort), "table")
    if args.rows:
        columns = analysis.COMPLIANCE_COLUMNS
        behind = result.rows("behind")
        if behind:
            sys.stdout.write("\n")
            emit([dict(zip(columns, row), host=row[1] + silent_note(result, row[0], row[1]))
                  for row in behind], columns, "table")
        return
    emit_hosts_behind(result.hosts_behind(FEW), result)


def compliance_rows(result):
    """compare's rows (COMPARE_COLUMNS) of a Compliance, in its order
    (Compliance.rows): `stale`, its host is silent (analysis.mark_silent)."""
    silent = result.silent
    columns = analysis.COMPLIANCE_COLUMNS
    return [dict(zip(columns, row), stale=(row[0], row[1]) in silent) for row in result.rows()]


def silent_note(result, site, host):
    """" (silent N d)" after a host judged on an old report, else ""."""
    seconds = result.silent.get((site, host))
    return "" if seconds is None else " (silent %d d)" % (seconds // DAY)


def summary_rows(store, result):
    """(rows, columns) of compare's summary: a row a site, by name
    (analysis.SUMMARY_COLUMNS); with a list of sites loaded, each site's
    tier too (compliance by tier at a glance)."""
    listed = {site_key(row.name): row for row in store.sites.rows()}
    rows = record_rows(result.summary(), analysis.SUMMARY_COLUMNS)
    for row in rows:
        if row["compliant"] is None:  # no host the baseline applies to
            row["compliant"] = NOT_APPLICABLE
        meta = listed.get(site_key(row["site"]))
        row["tier"] = meta.tier if meta else None
    return rows, analysis.SUMMARY_COLUMNS + (["tier"] if listed else [])


def sorted_summary(summary, sort):
    """summary_rows' (rows, columns) in the order `sort` (SUMMARY_SORTS)
    names; ties, and the rows without a value (n/a, no tier) last, stay
    in site order."""
    rows, columns = summary
    value = SUMMARY_SORTS[sort]
    known = [row for row in rows if value(row) is not None]
    known.sort(key=value)  # (stable: site order within a value)
    return known + [row for row in rows if value(row) is None], columns


def emit_hosts_behind(hosts, result):
    """compare's table after the summary: one line per host behind, how
    many requirements and the first few of them; a host judged on an old
    report says how long it has been silent."""
    if hosts:
        sys.stdout.write("\n")
        emit([{"site": host.site, "host": host.host + silent_note(result, host.site, host.host),
               "behind": host.behind,
               "requirements": first_few(host.first, host.behind)} for host in hosts],
             HOSTS_BEHIND_COLUMNS, "table")

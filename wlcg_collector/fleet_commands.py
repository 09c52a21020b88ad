"""The fleet-wide commands over time: `adoption` (a requirement met day
by day), `changes` (the fleet's changes) and `stale` (who stopped
reporting, and why where the collector knows); the rows they print, which
the pages' JSON gives too."""

import time

from . import analysis, baseline_commands, compliance_cache, silence
from .cli_common import (UsageError, command, config_of, date_arg, decimal_number, draw_plot,
                         emit, emit_records, site_of, store_of, until_of, with_format,
                         with_plot, with_site, with_until)
from .dates import format_day, format_days, format_time
from .output import record_rows
from .plot import plot_adoption
from .site_names import same_site
from .statuses import LISTED


def declare_adoption(commands):
    p = with_format(command(commands, "adoption", "hosts and sites meeting a requirement, day "
                                                  "by day", cmd_adoption))
    p.add_argument("requirement", metavar='"NAME OP VERSION"',
                   help="with --baseline: a package NAME of the baseline (or one of its lines)")
    p.add_argument("--baseline", metavar="NAME[@REVISION]",
                   help="judge each host by the stored baseline's line for its system (hosts "
                        "out of every line's scope are not counted)")
    with_site(p)
    p.add_argument("--from", dest="first", metavar="DATE", type=date_arg,
                   help="first day (default: 29 days before --to)")
    p.add_argument("--to", dest="last", metavar="DATE", type=date_arg,
                   help="last day (default: today)")
    with_plot(p, "the curve")


def cmd_adoption(args):
    store = store_of(args, read=True)
    try:
        requirements = analysis.adoption_requirements(store, args.requirement, args.baseline)
    except ValueError as exc:
        raise UsageError("requirement %r: %s" % (args.requirement, exc))
    try:
        first, last = analysis.day_range(args.first, args.last, int(time.time()))
    except ValueError as exc:
        raise UsageError("--from/--to: %s" % exc)
    site = site_of(store, args)
    seen = set()
    days = analysis.adoption(store, requirements, first, last, site, seen)
    # (a [system: ...] of the baseline's line matching no system, and an
    # epoch trap: the warnings baseline add and compare give)
    baseline_commands.warn(compliance_cache.caveats_of(
        store, requirements, {requirements[0].name: seen}), args.baseline)
    if args.plot:
        draw_plot(args.plot, plot_adoption, days, requirements[0].text)
    emit(adoption_rows(days), analysis.ADOPTION_COLUMNS, args.format)


def adoption_rows(days):
    """`adoption`'s rows (analysis.ADOPTION_COLUMNS) of its AdoptionDays."""
    return record_rows(days, analysis.ADOPTION_COLUMNS, {"date": "day"})


def declare_changes(commands):
    p = with_format(command(commands, "changes", "the fleet's changes, one row per change",
                            cmd_changes))
    with_site(p)
    p.add_argument("--since", metavar="DATE", type=date_arg,
                   help="the changes from DATE on (default: 7 days ago)")
    with_until(p)
    p.add_argument("--package", metavar="NAME")


def cmd_changes(args):
    since = args.since if args.since is not None else int(time.time()) - 7 * analysis.DAY
    until = until_of(args, since)
    store = store_of(args, read=True)
    site = site_of(store, args)
    emit_records(analysis.fleet_changes(store, since, site, args.package, until),
                 analysis.CHANGES_COLUMNS, args.format)


def declare_stale(commands):
    p = with_format(command(commands, "stale", "hosts and whole sites that stopped reporting, "
                                               "the longest silent first, with why where the "
                                               "collector knows; then the listed sites that "
                                               "never reported", cmd_stale))
    p.add_argument("--days", type=decimal_number,
                   help="silent for more than DAYS days (default: [officer] stale_days)")
    with_site(p)


STALE_COLUMNS = ["site", "host", "last_report", "silent_for", "reason"]


def cmd_stale(args):
    days = args.days if args.days is not None else config_of(args).stale_days
    store = store_of(args, read=True)
    if args.site is not None and not any(
            row.status == LISTED and same_site(row.name, args.site)
            for row in store.sites.rows()):  # (a listed site may have never reported)
        site_of(store, args)
    emit(stale_rows(store, days, int(time.time()), args.site), STALE_COLUMNS, args.format)


def stale_rows(store, days, now, site=None, visible=None):
    """`stale`'s rows (STALE_COLUMNS): silence.stale's Silent records,
    their reasons in words (only those naming a `visible` site, if given)."""
    return [stale_row(silent) for silent in silence.stale(store, days, now, site, visible)]


def stale_row(silent):
    """A Silent as `stale` prints it: its reasons in words."""
    if silent.last_report is None:
        reasons = ["on the list of sites, never reported"]
    else:
        reasons = [silence_reason(reason, silent) for reason in silent.reasons]
    return {"site": silent.site, "host": silent.host,
            "last_report": format_time(silent.last_report),
            "silent_for": None if silent.silent_for is None else format_days(silent.silent_for),
            "reason": "; ".join(reasons) or None}


def silence_reason(reason, silent):
    """An silence.SilenceReason of a Silent row in words."""
    of = " (%d of %d hosts)" % (reason.hosts, silent.hosts) if silent.host is None else ""
    if reason.kind == silence.HELD:
        return "%d report(s)%s held in the quarantine (%s), the newest received %s%s" % (
            reason.reports, "" if same_site(reason.site, silent.site) else
            " under site %s" % reason.site, ", ".join(reason.held), format_day(reason.at), of)
    return "reports under site %s since %s%s" % (reason.site, format_day(reason.at), of)

"""The officer's exposure commands: `exposure` (the hosts ever exposed to
an advisory, or to a CVE's advisories: since when, fixed when, the curve)
and `patch-times` (how long each site takes to fix what it is exposed
to)."""

import sys
import time

from ..cli_common import (UsageError, command, date_arg, draw_plot, emit, site_of, store_of,
                          with_format, with_plot, with_site)
from ..dates import format_time
from ..output import DictRecord, record_rows
from ..plot import plot_exposure
from . import exposure as judging
from .commands import EXCEPTED_TABLE, advisories_named, severity_list, stream_table
from .exceptions import excepting

EXPOSURE_SITES = ["site", "hosts", "exposed_now", "median_days", "worst_days"]
EXPOSURE_HOSTS = ["site", "host", "exposed_since", "fixed_at", "ended_by",
                  "days_after_published"]
# `exposure --format csv|json`: and whether the start and the days are known
# (the table marks those that are not: "<= TIME (first report)", ">= DAYS")
EXPOSURE_ROWS = ["advisory"] + EXPOSURE_HOSTS + ["start_known", "days_known"]
CURVE_COLUMNS = ["date", "hosts", "sites"]
PATCH_COLUMNS = ["site", "affected", "exposed", "exposed_share", "advisories", "fixed", "open",
                 "median_days", "worst_days"]
# `patch-times --format csv|json`: and whether the days are known (the table
# marks a lower bound ">= DAYS")
PATCH_ROWS = PATCH_COLUMNS + ["days_known"]

def declare_exposure(commands):
    p = with_format(command(commands, "exposure", "the hosts ever exposed to an advisory (or a "
                                                  "CVE's advisories): since when, fixed when, "
                                                  "days exposed after publication; per site "
                                                  "median and worst", cmd_exposure))
    p.add_argument("ident", metavar="ADVISORY|CVE")
    with_site(p)
    p.add_argument("--now", action="store_true", help="only the hosts exposed now")
    p.add_argument("--from", dest="first", metavar="DATE", type=date_arg,
                   help="the hosts exposed on or after DATE, the curve from DATE")
    p.add_argument("--to", dest="last", metavar="DATE", type=date_arg,
                   help="the hosts exposed on or before DATE, the curve until DATE")
    p.add_argument("--curve", action="store_true",
                   help="print the exposed hosts per day instead")
    with_plot(p, "the exposed hosts per day")


def exposure_days(first, last):
    """(first, last): the midnights of --from and --to (None: not given);
    ValueError when the first day is after the last."""
    first = None if first is None else first - first % judging.DAY
    last = None if last is None else last - last % judging.DAY
    if first is not None and last is not None and first > last:
        raise ValueError("the first day is after the last")
    return first, last


def cmd_exposure(args):
    try:
        first, last = exposure_days(args.first, args.last)
    except ValueError as exc:
        raise UsageError("--from/--to: %s" % exc)
    store = store_of(args, read=True)
    site = site_of(store, args)
    results = exposures(store, stream_table(args), advisories_named(store, args.ident), site,
                        first, last, args.now)
    if args.plot:
        if len(results) != 1:
            raise UsageError("--plot draws one advisory: name it, not a CVE of %d"
                             % len(results))
        draw_plot(args.plot, plot_exposure, results[0].curve, results[0].info.ident)
    if args.curve:
        emit(curve_rows(results), ["advisory"] + CURVE_COLUMNS, args.format)
        return
    if args.format != "table":
        emit(exposure_rows(results), EXPOSURE_ROWS, args.format)
        return
    for number, result in enumerate(results):
        if number:
            sys.stdout.write("\n")
        info = result.info
        print("%s (%s), published %s: %d host(s) %s%s%s"
              % (info.ident, info.severity,
                 _day(info.published) if info.published is not None
                 else "%s (first seen)" % _day(info.first_seen),
                 len(result.hosts), _which_hosts(first, last, args.now),
                 "" if args.now else ", %d now" % sum(1 for h in result.hosts
                                                      if h.fixed_at is None),
                 ", %d excepted now" % len(result.excepted) if result.excepted else ""))
        if result.hosts:
            sys.stdout.write("\n")
            emit(exposure_site_table(result.sites), EXPOSURE_SITES, "table")
            sys.stdout.write("\n")
            emit(exposure_host_table(result.hosts), EXPOSURE_HOSTS, "table")
        if result.excepted:
            sys.stdout.write("\nexcepted now:\n")
            emit([{"site": h.site, "host": h.host, "advisory": info.ident,
                   "package": h.package, "installed": h.installed,
                   "exception": " ".join(str(e.id) for e in h.exceptions),
                   "reason": "; ".join(e.reason for e in h.exceptions)}
                  for h in result.excepted], EXCEPTED_TABLE, "table")


def _which_hosts(first, last, now_only):
    """The exposure line's words for the hosts it counts."""
    if now_only:
        return "exposed now"
    if first is None and last is None:
        return "ever exposed"
    return "exposed %s" % " ".join(
        part for part in ("from %s" % _day(first) if first is not None else None,
                          "to %s" % _day(last) if last is not None else None) if part)


def exposures(store, table, infos, site=None, first=None, last=None, now_only=False):
    """judging.exposure's result of each advisory (AdvisoryInfo) now, of
    `site` if given, with every exception (each in its span of time); of
    the days from `first` to `last` (midnights, None: unbounded) and of
    the hosts exposed now only (`now_only`), as asked."""
    now = int(time.time())
    exceptions = excepting(store, store.exceptions.listed())
    return [judging.exposure(store, table, info, now, site, exceptions, first, last, now_only)
            for info in infos]


def exposure_rows(results):
    """`exposure`'s rows in CSV and JSON (EXPOSURE_ROWS) of
    judging.exposure results: each advisory's hosts, by site and host."""
    rows = []
    for result in results:
        rows.extend(dict(advisory=result.info.ident, **h._asdict()) for h in result.hosts)
    return record_rows([DictRecord(r) for r in rows], EXPOSURE_ROWS)


def at_least(days, known):
    """Days as the table shows them: a lower bound marked."""
    return days if known or days is None else "\u2265 %s" % days


def since_text(host):
    """exposed_since as the table shows it: a start not known (the host
    was exposed in its first report) as the latest it can be."""
    text = format_time(host.exposed_since)
    return text if host.start_known else "\u2264 %s (first report)" % text


def exposure_host_table(hosts):
    """`exposure`'s table of hosts (EXPOSURE_HOSTS), what is not known marked."""
    rows = record_rows(hosts, EXPOSURE_HOSTS)
    for row, host in zip(rows, hosts):
        row["exposed_since"] = since_text(host)
        row["days_after_published"] = at_least(host.days_after_published, host.days_known)
    return rows


def exposure_site_table(sites):
    """`exposure`'s table of sites (EXPOSURE_SITES), lower bounds marked."""
    rows = record_rows(sites, EXPOSURE_SITES)
    for row, site in zip(rows, sites):
        for column in ("median_days", "worst_days"):
            row[column] = at_least(row[column], site.days_known)
    return rows


def curve_rows(results):
    """`exposure --curve`'s rows (advisory + CURVE_COLUMNS): each
    advisory's hosts and sites exposed, a row a day."""
    return record_rows([DictRecord(dict(advisory=result.info.ident, date=day.day, hosts=day.hosts,
                                  sites=day.sites)) for result in results
                        for day in result.curve], ["advisory"] + CURVE_COLUMNS)


def _day(seconds):
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def declare_patch_times(commands):
    p = with_format(command(commands, "patch-times", "per site, the hosts still exposed to "
                                                     "advisories and the median days from an "
                                                     "advisory's publication until the site's "
                                                     "hosts were fixed", cmd_patch_times))
    p.add_argument("--since", metavar="DATE", type=date_arg,
                   help="advisories published at or after DATE (default: 365 days ago)")
    p.add_argument("--severity", metavar="S")
    with_site(p)


def cmd_patch_times(args):
    store = store_of(args, read=True)
    site = site_of(store, args)
    now = int(time.time())
    since = args.since if args.since is not None else now - 365 * judging.DAY
    severities = severity_list(args.severity) if args.severity else judging.SECURITY_SEVERITIES
    times = judging.patch_times(store, stream_table(args), now, since, severities, site,
                                excepting(store, store.exceptions.listed()))
    if args.format != "table":
        emit(record_rows(times, PATCH_ROWS), PATCH_ROWS, args.format)
    elif not times:
        # an empty table would read as every site patched
        print("no advisory published (or first seen) since %s affects a host%s: %d considered"
              % (_day(since), " of %s" % site if site is not None else "", times.considered))
    else:
        rows = record_rows(times, PATCH_COLUMNS)
        for row, record in zip(rows, times):
            row["median_days"] = at_least(record.median_days, record.days_known)
            row["worst_days"] = at_least(record.worst_days, record.days_known)
        emit(rows, PATCH_COLUMNS, "table")

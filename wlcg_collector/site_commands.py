"""`wlcg-collector sites`: the sites the officer expects, the names hosts
report under that are not among them, and the repairs of site names.

    sites [--unknown]             every site; or the unknown names, with
                                  the closest official ones
    sites import [SOURCE]         the list: a file or https:// URL (plain,
                                  CRIC JSON or GOCDB XML)
    sites rename OLD NEW          a site renamed in the topology
    sites merge TYPO INTO         a misspelt site joined to the real one
                                  (both: --dry-run, what would move;
                                  --force, a listed site into a name
                                  not on the list)
    sites renames                 the renames and merges done
    sites show SITE [--days N]    one site: as `sites` lists it, whom it
                                  names, and the reports its bounds
                                  refused lately
    sites contacts import SOURCE  GOCDB's contacts or CSIRT addresses of
                                  the sites: a file or https:// URL
"""

import getpass
import json
import os
import sys
import time

from . import contacts, topology, trust
from .cli_common import (CommandError, UsageError, actions_of, command, config_of, emit,
                         emit_records, store_of, whole_number, with_format)
from .db.errors import UnknownHost
from .db.site_store import MERGE, RENAME, ListedSiteRefused
from .dates import DAY, format_day, format_time
from .remote import SourceError, fetch, printable, read_file
from .site_names import same_site
from .trust import UNKNOWN_SITE

MAX_LIST_BYTES = 32 * 1024 * 1024  # a whole CRIC site export is a few MB
SITE_COLUMNS = ["site", "status", "tier", "country", "gocdb", "hosts", "last_report"]
UNKNOWN_COLUMNS = ["site", "hosts", "quarantined", "last_report", "suggestions", "also_at",
                   "host_names", "senders"]
RENAME_COLUMNS = ["id", "time", "kind", "old", "new", "hosts", "merged", "reports",
                  "intervals", "by"]
SHOW_FIELDS = ["site", "status", "tier", "country", "gocdb", "hosts", "last_report",
               "quarantined", "csirt"]
CONTACT_COLUMNS = ["role", "name", "email", "certdn"]
QUOTA_EVENT_COLUMNS = ["day", "setting", "host", "sender", "refused", "first", "last"]
# a table shows this many host names or senders of an unknown site (CSV
# and JSON: all of them)
TABLE_NAMES = 5


def officer_name():
    """Who runs the command, for the record (the user sudo was run by)."""
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "uid %d" % os.getuid()


def declare_sites(commands):
    p = command(commands, "sites", "sites: the list the officer expects, hosts and last report; "
                                   "import the list, rename and merge sites", sites_list)
    p.add_argument("--unknown", action="store_true",
                   help="only the site names not on the list, with the closest official names "
                        "and the hosts and senders behind them")
    with_format(p)
    actions = actions_of(p, required=False, help_text="none: list the sites")
    s = command(actions, "import", "make a file or https:// URL the list of sites (none: "
                                   "[sites] source); sites no longer on it are retired",
                sites_import)
    s.add_argument("source", metavar="SOURCE", nargs="?")
    s.add_argument("--list-format", choices=topology.FORMATS,
                   help="plain, cric or gocdb (default: told from the content)")
    s.add_argument("--force", action="store_true",
                   help="import even a list that would retire most listed sites")
    s.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing unless the import failed (for the timer)")
    s = command(actions, "rename", "a site renamed in the topology: its hosts, history, "
                                   "reports and pins move to the new name", sites_rename)
    s.epilog = ("example: UKI-LT2-LANCS became UKI-NORTHGRID-LANCS-HEP in the topology (import "
                "the list that names it first): sites rename UKI-LT2-LANCS "
                "UKI-NORTHGRID-LANCS-HEP")
    s.add_argument("old", metavar="OLD", help="the name the site had")
    s.add_argument("new", metavar="NEW", help="its new name (no host has it yet)")
    with_move_options(s, "rename")
    s = command(actions, "merge", "a misspelt site: its hosts join site INTO (a host under "
                                  "both becomes one when they reported in turn)", sites_merge)
    s.epilog = ("example: hosts reported under INFN_PISA, a typo of the listed INFN-PISA: "
                "sites merge INFN_PISA INFN-PISA")
    s.add_argument("old", metavar="TYPO", help="the misspelt name, which goes")
    s.add_argument("new", metavar="INTO", help="the right name (listed, or with hosts), which "
                                               "stays")
    with_move_options(s, "merge")
    with_format(command(actions, "renames", "the renames and merges done", sites_renames),
                inherited=True)
    s = command(actions, "show", "one site as `sites` lists it, its quarantined reports, its "
                                 "CSIRT address and contacts, and the reports a quota refused "
                                 "(which setting, which senders) in the last days; csv: those "
                                 "refusals only", sites_show)
    s.add_argument("site", metavar="SITE")
    s.add_argument("--days", type=whole_number, default=7,
                   help="the refusals of the last DAYS UTC days, today's included (default 7)")
    with_format(s, inherited=True)
    s = command(actions, "contacts", "whom the sites name, from GOCDB", None)
    s = command(actions_of(s), "import", "GOCDB's get_site_contacts or get_site_security_info "
                                         "answer (a file or https:// URL): each site it names "
                                         "gets its contacts, or its CSIRT address, replaced",
                sites_contacts_import)
    s.add_argument("source", metavar="SOURCE")
    s.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing unless something was not imported (for the timer)")


def sites_list(args):
    store = store_of(args, read=True)
    rows = store.sites.rows()
    if args.unknown:
        found = topology.unknown_sites(rows, store.sites.hosts(),
                                       store.sites.quarantined(UNKNOWN_SITE))
        if not rows and args.format == "table":
            raise CommandError("no list of sites is loaded (wlcg-collector sites import): "
                               "every site is as good as any other")
        emit([unknown_row(site, args.format) for site in found], UNKNOWN_COLUMNS, args.format)
        return
    # the list's columns once a list is loaded
    emit_records(topology.site_lines(rows, store.sites.reported()),
                 SITE_COLUMNS if rows else ["site", "hosts", "last_report"], args.format)


def unknown_row(site, fmt):
    def names(values):
        if fmt == "table" and len(values) > TABLE_NAMES:
            return " ".join(values[:TABLE_NAMES]) + " (+%d)" % (len(values) - TABLE_NAMES)
        return " ".join(values)
    return {"site": site.site, "hosts": site.hosts, "quarantined": site.quarantined,
            "last_report": format_time(site.last_report) if site.last_report is not None
            else None, "suggestions": " ".join(site.suggestions),
            "also_at": " ".join("%s (%d of %d hosts)" % (other, count, site.hosts)
                                for other, count in site.also_at) or None,
            "host_names": names(site.host_names), "senders": names(site.senders)}


def sites_import(args):
    config = config_of(args)
    source = args.source or config.site_source
    if not source:
        raise UsageError("sites import: name a file or https:// URL (or set [sites] source)")
    # the name as every line shows it and the list's rows keep it (a file
    # name need not be UTF-8, nor free of control characters)
    shown = printable(source, 255)
    try:
        if source.lower().startswith(("https://", "http://")):
            data = fetch(source, MAX_LIST_BYTES, ca_file=config.site_ca_file)
        else:
            data = read_file(source, MAX_LIST_BYTES)
        fmt = args.list_format or topology.detect_format(data)
        listed = topology.parse_site_list(data, fmt, shown)
    except (SourceError, topology.SiteListError) as exc:
        raise CommandError("%s; nothing imported" % printable(exc, 1000))
    store = store_of(args)
    refusal = topology.shrink_refusal(store.sites.rows(), listed)
    if refusal and not args.force:
        raise CommandError("%s: %s; nothing imported" % (shown, refusal))
    result = store.sites.import_list(listed, shown, fmt, int(time.time()), officer_name())
    if args.quiet:
        return
    print("imported %d site(s) from %s (%s): %d added, %d retired, %d listed again, %d updated"
          % (result.sites, shown, fmt, result.added, result.retired, result.returned,
             result.updated))


def sites_contacts_import(args):
    config = config_of(args)
    shown = printable(args.source, 255)
    try:
        if args.source.lower().startswith(("https://", "http://")):
            data = fetch(args.source, MAX_LIST_BYTES, ca_file=config.site_ca_file)
        else:
            data = read_file(args.source, MAX_LIST_BYTES)
        answer = contacts.parse_contacts(data, shown)
    except (SourceError, contacts.ContactsError) as exc:
        raise CommandError("%s; nothing imported" % printable(exc, 1000))
    store = store_of(args)
    kept, missing = contacts.on_the_list(answer.sites, store.sites.rows())
    refused = list(answer.skipped)
    if missing:
        refused.append("%s: %d site(s) not on the list of sites, not imported: %s"
                       % (shown, len(missing), " ".join(missing)))
    result = store.contacts.replace(answer.layout, kept, shown,
                                    len(answer.skipped) + len(missing), int(time.time()),
                                    officer_name())
    for line in refused:
        sys.stderr.write("wlcg-collector: %s\n" % printable(line, None))
    if not args.quiet or refused:
        print("imported %s from %s: %d site(s), %d %s%s" % (
            result.layout, shown, result.sites, result.contacts,
            "contact(s)" if result.layout == contacts.CONTACTS else "CSIRT address(es)",
            "; %d not imported (above)" % result.skipped if result.skipped else ""))
    return 1 if refused else 0


def with_move_options(parser, kind):
    """`sites rename` and `merge`: --dry-run and --force."""
    parser.add_argument("--dry-run", action="store_true",
                        help="say what would move (hosts, reports, intervals, pins), and write "
                             "nothing")
    parser.add_argument("--force", action="store_true",
                        help="%s a listed site %s a name that is not on the list all the same "
                             "(refused: the arguments swapped would make a typo official)"
                        % (kind, "into" if kind == MERGE else "to"))


def sites_rename(args):
    move_site(args, RENAME)


def sites_merge(args):
    move_site(args, MERGE)


def move_site(args, kind):
    store = store_of(args)  # (a dry run too: what the primary would do)
    try:
        done = store.sites.move(args.old, args.new, kind, int(time.time()), officer_name(),
                                args.force, args.dry_run)
    except ListedSiteRefused as exc:
        raise CommandError("%s; --force %s %s %s %s all the same" % (
            exc, "merges" if exc.kind == MERGE else "renames", exc.listed,
            "into" if exc.kind == MERGE else "to", exc.other))
    if args.dry_run:
        say_plan(done)
        return
    print("%s site %s %s %s: %d host(s) moved (%d merged with a host of the same name), "
          "%d report(s), %d interval(s); reports naming %s are stored under %s from now on"
          % ("renamed" if kind == RENAME else "merged", done.old_name,
             "to" if kind == RENAME else "into", done.new_name, done.hosts, done.merged,
             done.reports, done.intervals, done.old_name, done.new_name))
    if done.site_key_dropped is not None:
        print("the site key of %s (SHA256 %s) was not moved: %s has hosts, and a key pinned on "
              "first use at %s may be anyone's; its hosts' next reports signed with it wait in "
              "the quarantine (accept one by ID to pin it for %s)" % (
                  done.old_name, trust.short_fingerprint(done.site_key_dropped), done.new_name,
                  done.old_name, done.new_name))
    for aside in done.set_aside:
        print("%s: %s at %s, %s at %s: kept the host of %s; the other's latest report %s, its "
              "reports are marked set aside" % (
                  aside.host, trust.describe_pin(*aside.target_pin), done.new_name,
                  trust.describe_pin(*aside.twin_pin), done.old_name, done.new_name,
                  "waits in the quarantine as entry %d (accept or drop it)" % aside.entry
                  if aside.entry is not None else "was in the quarantine already"))


def say_plan(plan):
    """What `sites rename` or `merge --dry-run` found it would do."""
    print("%s site %s %s %s would move %d host(s) (%d merged with a host of the same name), "
          "%d report(s), %d interval(s), %d quarantined report(s) and %d host pin(s); nothing "
          "written (--dry-run)" % (
              "renaming" if plan.kind == RENAME else "merging", plan.old_name,
              "to" if plan.kind == RENAME else "into", plan.new_name, plan.hosts, plan.merged,
              plan.reports, plan.intervals, plan.quarantined, plan.pinned))
    if plan.site_key is not None:
        print("the site key of %s (SHA256 %s) %s" % (
            plan.old_name, trust.short_fingerprint(plan.site_key),
            "would move to %s" % plan.new_name if plan.site_key_moves else
            "would not be moved: %s has hosts or a key of its own" % plan.new_name))
    for aside in plan.set_aside:
        print("%s: %s at %s, %s at %s: the host of %s would be kept, the other's latest report "
              "would wait in the quarantine" % (
                  aside.host, trust.describe_pin(*aside.target_pin), plan.new_name,
                  trust.describe_pin(*aside.twin_pin), plan.old_name, plan.new_name))


def sites_renames(args):
    rows = [{"id": r.id, "time": format_time(r.done), "kind": r.kind, "old": r.old_name,
             "new": r.new_name, "hosts": r.hosts, "merged": r.merged, "reports": r.reports,
             "intervals": r.intervals, "by": r.done_by}
            for r in store_of(args, read=True).sites.renames()]
    emit(rows, RENAME_COLUMNS, args.format)


def sites_show(args):
    store = store_of(args, read=True)
    now = int(time.time())
    since = now - now % DAY - (max(args.days, 1) - 1) * DAY
    lines = [line for line in topology.site_lines(store.sites.rows(), store.sites.reported())
             if same_site(line.site, args.site)]
    events = store.quotas.events(args.site, since)
    named = store.contacts.of_site(args.site)
    if not lines and not events and named.csirt is None and not named.contacts:
        raise UnknownHost("unknown site %r" % args.site, store.sites.closest_to(args.site))
    line = lines[0] if lines else topology.SiteLine(events[0].site if events else named.site,
                                                    None, None, None, None, 0, None)
    shown = dict(line._asdict(), last_report=format_time(line.last_report),
                 quarantined=len(store.review.quarantined(line.site)), csirt=named.csirt)
    rows = [quota_event_row(event) for event in events]
    if args.format == "json":
        emit_object(dict(shown, contacts=[c._asdict() for c in named.contacts],
                         quota_events=rows))
    elif args.format == "csv":
        emit(rows, QUOTA_EVENT_COLUMNS, "csv")
    else:
        print("".join("%s: %s\n" % (k, "-" if shown[k] is None else shown[k])
                      for k in SHOW_FIELDS))
        if named.contacts:
            print("contacts (GOCDB):")
            emit([contact_row(c) for c in named.contacts], CONTACT_COLUMNS, "table")
            print()
        else:
            print("no contacts imported (wlcg-collector sites contacts import)\n")
        if not rows:
            print("no report refused by a quota in the last %d UTC day(s)" % args.days)
            return
        print("reports refused by a quota, the last %d UTC day(s):" % args.days)
        emit(rows, QUOTA_EVENT_COLUMNS, "table")


def contact_row(contact):
    """A contacts.Contact as `sites show` lists it."""
    return {"role": contact.role, "email": contact.email, "certdn": contact.certdn,
            "name": " ".join(n for n in (contact.forename, contact.surname) if n) or None}


def quota_event_row(event):
    """A QuotaEventRow as shown: no host or sender ('') is None (a bound of
    the site or sender, or refusals past the rows a day keeps apart)."""
    return {"day": format_day(event.day), "setting": event.setting, "host": event.host or None,
            "sender": event.sender or None, "refused": event.refused,
            "first": format_time(event.first_at), "last": format_time(event.last_at)}


def emit_object(value):
    print(json.dumps(value, indent=1))

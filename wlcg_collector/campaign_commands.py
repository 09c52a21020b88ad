"""The `campaign` command: add, list, show, status and close campaigns
(campaigns.py has the rules)."""

import json
import os
import stat
import sys
import time

from . import campaigns, notices
from .advisories.commands import stream_table
from .advisories.tags import DecisionError, cve_of, who_of
from .campaigns import ADVISORY, CVE, NOTICE, OVERDUE_NOTICE, REQUIREMENT, TAG, CampaignError
from .cli_common import (PROG, CommandError, UsageError, actions_of, command, config_of,
                         date_arg, draw_plot, emit, site_of, store_of, whole_number, with_at,
                         with_format, with_plot, with_site)
from .dates import DAY, format_day, format_time
from .db import StoreError
from .db.advisory_store import UnknownAdvisory
from .site_names import site_key, site_keys
from .mail import Mailer, MailError, RelayLost, write_message
from .text import escaped
from .site_commands import officer_name

SITE_COLUMNS = ["site", "state", "affected", "fixed", "exposed", "excepted", "silent",
                "deadline", "overdue_days"]
HOST_COLUMNS = ["site", "host", "package", "installed", "fixed", "advisories"]
LIST_COLUMNS = ["campaign", "target", "system", "start", "deadline", "closed", "done", "open",
                "overdue", "unknown"]
BURNDOWN_COLUMNS = ["date", "hosts", "sites"]
LOG_COLUMNS = ["sent", "site", "stage", "recipients", "message_id", "sent_by"]


def declare_campaign(commands):
    p = command(commands, "campaign", "campaigns: a target the sites must meet by a deadline "
                                      "(EGI SEC03: 7 days), and where each site stands", None)
    actions = actions_of(p)
    s = command(actions, "add", "a new campaign: what must go, which hosts, by when",
                campaign_add)
    s.add_argument("name", metavar="NAME")
    target = s.add_mutually_exclusive_group(required=True)
    target.add_argument("--advisory", metavar="ID")
    target.add_argument("--cve", metavar="CVE")
    target.add_argument("--tag", metavar="NAME")
    target.add_argument("--requirement", metavar="'NAME OP VERSION'")
    s.add_argument("--system", metavar="PATTERN",
                   help="only hosts whose system matches (a glob, or el9 for the EL 9 family)")
    s.add_argument("--start", metavar="DATE", type=date_arg, help="default: now")
    until = s.add_mutually_exclusive_group(required=True)
    until.add_argument("--deadline", metavar="DATE", type=date_arg)
    until.add_argument("--days", type=whole_number,
                       help="days after the start (SEC03: 7)")
    s.add_argument("--by", metavar="WHO", help="who decided (default: your login)")
    with_format(command(actions, "list", "every campaign with its deadline and how many sites "
                                         "are done, open, overdue", campaign_list))
    s = command(actions, "show", "a campaign's definition", campaign_show)
    s.add_argument("name", metavar="NAME")
    s = command(actions, "status", "each site's state (overdue first), then the hosts still "
                                   "exposed, from the history at any date", campaign_status)
    s.add_argument("name", metavar="NAME")
    with_at(s, "the status as it was then (default: now; a closed campaign: its final status)")
    with_site(s)
    s.add_argument("--burndown", action="store_true",
                   help="print the hosts still exposed and the sites not done per day instead")
    with_plot(s, "the burn-down (hosts still exposed and sites not done per day)")
    with_format(s)
    s = command(actions, "notices", "write one message a site that has something to do into "
                                    "DIR, to its CSIRT (else its security officer, else its "
                                    "administrators); --send sends them", campaign_notices)
    s.add_argument("name", metavar="NAME")
    s.add_argument("--overdue", action="store_true",
                   help="the second stage: only the overdue sites")
    s.add_argument("--out", metavar="DIR", required=True,
                   help="where the messages go (made if missing; only you may write it)")
    s.add_argument("--send", action="store_true", help="send them through [mail] too")
    s.add_argument("--again", action="store_true",
                   help="send to the sites sent this stage already, too")
    s.add_argument("--by", metavar="WHO", help="who sent them (default: your login)")
    s = with_format(command(actions, "log", "the notices sent: when, to which site, which "
                                            "stage, to whom", campaign_log))
    s.add_argument("name", metavar="NAME")
    s = command(actions, "close", "close a campaign: it keeps the status it has now",
                campaign_close)
    s.add_argument("name", metavar="NAME")
    s.add_argument("--by", metavar="WHO", help="who closed it (default: your login)")


def _campaign(store, name):
    try:
        return store.campaigns.get(name)
    except StoreError as exc:
        raise CommandError(str(exc))


def campaign_add(args):
    if not campaigns.is_campaign_name(args.name):
        raise UsageError("campaign name %r: %s" % (args.name, campaigns.NAME_RULE))
    kind, target = next((kind, value) for kind, value in (
        (ADVISORY, args.advisory), (CVE, args.cve), (TAG, args.tag),
        (REQUIREMENT, args.requirement)) if value is not None)
    if kind == CVE:
        try:
            target = cve_of(target)
        except DecisionError as exc:
            raise UsageError(str(exc))
    now = int(time.time())
    start = args.start if args.start is not None else now
    deadline = args.deadline if args.deadline is not None else start + args.days * DAY
    try:
        campaigns.check_definition(kind, target, args.system, start, deadline)
        who = who_of(args.by or officer_name())
    except (CampaignError, DecisionError) as exc:
        raise UsageError(str(exc))
    store = store_of(args)
    _check_target(store, kind, target)
    # (names that differ in case only would be one on a case-blind file system or URL)
    same = [c.name for c in store.campaigns.listed() if c.name.lower() == args.name.lower()]
    if same:
        raise CommandError("campaign %r exists already" % same[0])
    try:
        campaign = store.campaigns.add(args.name, kind, target, args.system, start, deadline,
                                       now, who)
    except StoreError as exc:
        raise CommandError(str(exc))
    print("campaign %s: %s, from %s, deadline %s" % (
        campaign.name, campaigns.describe(campaign), format_time(start), format_time(deadline)))


def _check_target(store, kind, target):
    """CommandError naming an advisory, CVE or tag the store does not know."""
    if kind == ADVISORY:
        try:
            store.advisories.get(target)
        except UnknownAdvisory as exc:
            raise CommandError(str(exc))
    elif kind == CVE and not store.advisories.listed(cve=target):
        raise CommandError("no stored advisory names %s" % target)
    elif kind == TAG:
        try:
            campaigns.advisory_ids_of_tag(store, target)
        except CampaignError as exc:
            raise CommandError(str(exc))


def campaign_status_at(store, table, campaign, at, site=None):
    """The CampaignStatus of a campaign at `at`; CommandError for a target
    the store no longer knows."""
    try:
        return campaigns.status_at(store, table, campaign, at, site)
    except CampaignError as exc:
        raise CommandError(str(exc))


def campaign_list(args):
    try:
        rows = campaign_rows(store_of(args, read=True), stream_table(args), int(time.time()))
    except CampaignError as exc:
        raise CommandError(str(exc))
    emit(rows, LIST_COLUMNS, args.format)


def campaign_rows(store, table, now, site=None):
    """`campaign list`'s rows (LIST_COLUMNS), the newest deadline first:
    each campaign with how many sites are in each state now (a closed one:
    as it was closed); of these sites only (a site reader's), if given.
    CampaignError for a target the store no longer knows."""
    rows = []
    for campaign in store.campaigns.listed():
        counts = campaigns.site_counts(store, table, campaign, now, site)
        rows.append({"campaign": campaign.name, "target": "%s %s" % (campaign.kind,
                                                                      campaign.target),
                     "system": campaign.system, "start": format_day(campaign.start),
                     "deadline": format_time(campaign.deadline),
                     "closed": format_time(campaign.closed) if campaign.closed else None,
                     "done": counts[campaigns.DONE], "open": counts[campaigns.OPEN],
                     "overdue": counts[campaigns.OVERDUE], "unknown": counts[campaigns.UNKNOWN]})
    return rows


def campaign_show(args):
    store = store_of(args, read=True)
    campaign = _campaign(store, args.name)
    print("campaign %s: %s" % (campaign.name, campaigns.describe(campaign)))
    print("start: %s" % format_time(campaign.start))
    print("deadline: %s" % format_time(campaign.deadline))
    print("added: %s by %s" % (format_time(campaign.created), campaign.created_by))
    if campaign.closed is not None:
        print("closed: %s by %s" % (format_time(campaign.closed), campaign.closed_by))


def campaign_status(args):
    store = store_of(args, read=True)
    campaign = _campaign(store, args.name)
    site = site_of(store, args)
    if campaign.closed is not None and args.at is None:
        if args.burndown or args.plot:
            raise UsageError("campaign %s is closed: give --at for its burn-down" % campaign.name)
        _print_status(campaign, campaign.closed, closed_status(campaign, site), args.format,
                      closed=True)
        return
    at = args.at if args.at is not None else int(time.time())
    if at < campaign.start:
        if args.at is None:
            print("campaign %s: %s; it starts at %s: nothing to tell yet" % (
                campaign.name, campaigns.describe(campaign), format_time(campaign.start)))
            return
        raise UsageError("--at %s is before the campaign started (%s)"
                         % (format_time(at), format_time(campaign.start)))
    status = campaign_status_at(store, stream_table(args), campaign, at, site)
    if args.plot:
        from .plot import plot_burndown
        draw_plot(args.plot, plot_burndown, status.burndown, campaign.name, campaign.deadline)
    if args.burndown:
        emit(burndown_rows(status), BURNDOWN_COLUMNS, args.format)
        return
    _print_status(campaign, at, campaigns.status_document(status), args.format)


def closed_status(campaign, site=None):
    """The site documents (`campaign status --format json`) a closed
    campaign kept; of one site, or of a collection of sites (a site
    reader's), if given."""
    return campaigns.final_status(campaign, site)


def burndown_rows(status):
    """`campaign status --burndown`'s rows (BURNDOWN_COLUMNS) of a
    CampaignStatus: hosts still exposed and sites not done, a row a day."""
    return [{"date": format_day(day.day), "hosts": day.hosts, "sites": day.sites}
            for day in status.burndown]


def _print_status(campaign, at, sites, fmt, closed=False):
    if fmt == "json":
        sys.stdout.write(json.dumps(sites, indent=1, sort_keys=True) + "\n")
        return
    rows = [dict(site, deadline=format_time(site["deadline"])) for site in sites]
    if fmt == "csv":
        emit(rows, SITE_COLUMNS, fmt)
        return
    left = campaign.deadline - at
    print("campaign %s: %s; deadline %s (%s)%s" % (
        campaign.name, campaigns.describe(campaign), format_time(campaign.deadline),
        "%d day(s) left" % -(-left // DAY) if left > 0 else "passed",
        "; closed %s, final status" % format_time(at) if closed else
        "; status at %s" % format_time(at)))
    if not sites:
        print("no host is affected")
        return
    sys.stdout.write("\n")
    emit(rows, SITE_COLUMNS, fmt)
    hosts = [dict(host, site=site["site"], advisories=" ".join(host["advisories"]))
             for site in sites for host in site["hosts"]]
    if hosts:
        print("\nhosts still exposed:")
        emit(hosts, HOST_COLUMNS, fmt)


def campaign_close(args):
    try:
        who = who_of(args.by or officer_name())
    except DecisionError as exc:
        raise UsageError(str(exc))
    store = store_of(args)
    campaign = _campaign(store, args.name)
    if campaign.closed is not None:
        raise CommandError("campaign %s was closed on %s" % (campaign.name,
                                                             format_time(campaign.closed)))
    now = int(time.time())
    status = campaign_status_at(store, stream_table(args), campaign, now)
    try:
        store.campaigns.close(campaign, json.dumps(campaigns.status_document(status),
                                                   sort_keys=True), now, who)
    except StoreError as exc:
        raise CommandError(str(exc))
    states = [site.state for site in status.sites]
    print("closed campaign %s: %d site(s) done, %d open, %d overdue, %d unknown" % (
        campaign.name, states.count(campaigns.DONE), states.count(campaigns.OPEN),
        states.count(campaigns.OVERDUE), states.count(campaigns.UNKNOWN)))



def _out_dir(path):
    """The directory notices are written to: made (0700) if missing;
    UsageError when it is no directory of this user's own, or others may
    write it (they could put a link where a notice goes)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        try:
            os.makedirs(path, mode=0o700)
            info = os.lstat(path)
        except OSError as exc:
            raise CommandError("--out %s: %s" % (path, exc.strerror or exc))
    except OSError as exc:
        raise CommandError("--out %s: %s" % (path, exc.strerror or exc))
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError("--out %s is not a directory (a link to one is not taken either)"
                         % path)
    if info.st_uid != os.geteuid():
        raise UsageError("--out %s belongs to another user: use a directory of your own"
                         % path)
    if info.st_mode & 0o022:
        raise UsageError("--out %s may be written by others (mode %04o): use a directory of "
                         "your own" % (path, stat.S_IMODE(info.st_mode)))
    return path


def campaign_notices(args):
    config = config_of(args)
    if not config.mail.sender:
        raise UsageError("notices need a sender: set from in [mail]")
    try:
        args.who = who_of(args.by or officer_name())
    except DecisionError as exc:
        raise UsageError(str(exc))
    store = store_of(args)
    campaign = _campaign(store, args.name)
    if campaign.closed is not None:
        raise CommandError("campaign %s is closed" % campaign.name)
    out = _out_dir(args.out)
    now = int(time.time())
    stage = OVERDUE_NOTICE if args.overdue else NOTICE
    status = campaign_status_at(store, stream_table(args), campaign, now)
    failed, messages = 0, []
    for site in notices.sites_to_notify(status, stage):
        recipients = store.contacts.recipients(site.site)
        if not recipients:
            _warn("site %s has no contact (no CSIRT, security officer or administrator "
                  "imported: sites contacts import): no notice" % site.site)
            failed += 1
            continue
        try:
            message = notices.notice_message(campaign, campaigns.describe(campaign), site, now, stage,
                                             config.mail.sender, recipients)
            write_message(out, site.site, message)
        except (MailError, ValueError) as exc:
            # (an address the contacts import let through that a header cannot carry)
            _warn("site %s: %s: no notice" % (site.site, escaped(exc)))
            failed += 1
            continue
        except OSError as exc:
            raise CommandError("cannot write into %s: %s" % (out, exc.strerror or exc))
        messages.append((site, message, recipients))
    print("wrote %d notice(s) (%s) into %s" % (len(messages), stage, out))
    if args.send:
        failed += _send(store, config.mail, campaign, stage, messages, now, args)
    if failed:
        raise CommandError("%d site(s) not notified (above)" % failed)


def _send(store, settings, campaign, stage, messages, now, args):
    """Send the messages not sent this stage before (unless --again);
    record each the relay took. Returns how many sites it failed."""
    done = {(site_key(notice.site), notice.stage) for notice in store.campaigns.notices(campaign)}
    pending = [(site, message, recipients) for site, message, recipients in messages
               if args.again or (site_key(site.site), stage) not in done]
    if len(pending) < len(messages):
        print("skipped %d site(s) sent this stage already (--again sends to them too)"
              % (len(messages) - len(pending)))
    if not pending:
        return 0
    failed, sent_count, who = 0, 0, args.who
    try:
        with Mailer(settings) as mailer:
            for site, message, recipients in pending:
                try:
                    sent = mailer.send(message, recipients)
                except RelayLost:
                    raise  # (the connection is gone: the rest are not tried)
                except MailError as exc:
                    _warn("site %s: %s: not sent" % (site.site, exc))
                    failed += 1
                    continue
                for address, reason in sorted(sent.refused.items()):
                    _warn("site %s: the relay refused %s: %s"
                          % (site.site, escaped(address), escaped(reason)))
                if sent.refused:  # (sent to the others, and recorded so: said, exit 1)
                    failed += 1
                if not sent.accepted:
                    continue
                store.campaigns.record_notice(campaign, site.site, stage, now, sent.accepted,
                                              sent.message_id, who)
                sent_count += 1
    except MailError as exc:
        raise CommandError("%s; %d notice(s) sent before" % (exc, sent_count))
    print("sent %d notice(s)" % sent_count)
    return failed


def _warn(line):
    sys.stderr.write("%s: %s\n" % (PROG, line))


def campaign_log(args):
    store = store_of(args, read=True)
    emit(notice_rows(store, _campaign(store, args.name)), LOG_COLUMNS, args.format)


def notice_rows(store, campaign, site=None):
    """`campaign log`'s rows (LOG_COLUMNS): the notices sent, oldest first;
    to these sites only (a site reader's), if given."""
    wanted = site_keys(site)
    return [{"sent": format_time(notice.sent), "site": notice.site, "stage": notice.stage,
             "recipients": notice.recipients, "message_id": notice.message_id,
             "sent_by": notice.sent_by} for notice in store.campaigns.notices(campaign)
            if wanted is None or site_key(notice.site) in wanted]

"""The `campaign` command: add, list, show, status and close campaigns
(campaigns.py has the rules)."""

import json
import sys
import time

from . import campaigns
from .advisories.commands import stream_table
from .campaigns import ADVISORY, CVE, REQUIREMENT, TAG, CampaignError, Exceptions
from .cli_common import (CommandError, UsageError, actions_of, command, date_arg, draw_plot,
                         emit, site_of, store_of, whole_number, with_at, with_format,
                         with_plot, with_site)
from .dates import DAY, format_day, format_time
from .db import StoreError
from .db.advisory_store import UnknownAdvisory
from .site_commands import officer_name

SITE_COLUMNS = ["site", "state", "affected", "fixed", "exposed", "excepted", "silent",
                "deadline", "overdue_days"]
HOST_COLUMNS = ["site", "host", "package", "installed", "fixed", "advisories"]
LIST_COLUMNS = ["campaign", "target", "system", "start", "deadline", "closed", "done", "open",
                "overdue", "unknown"]
BURNDOWN_COLUMNS = ["date", "hosts", "sites"]


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
    s = command(actions, "close", "close a campaign: it keeps the status it has now",
                campaign_close)
    s.add_argument("name", metavar="NAME")
    s.add_argument("--by", metavar="WHO", help="who closed it (default: your login)")


def _campaign(store, name):
    try:
        return store.campaigns.get(name)
    except StoreError as exc:
        raise CommandError(str(exc))


def _describe(campaign):
    text = {ADVISORY: "advisory %s", CVE: "the advisories of %s", TAG: "the advisories tagged %s",
            REQUIREMENT: "requirement %s"}[campaign.kind] % campaign.target
    if campaign.system:
        text += " on %s" % campaign.system
    return text


def campaign_add(args):
    if not campaigns.is_campaign_name(args.name):
        raise UsageError("campaign name %r: %s" % (args.name, campaigns.NAME_RULE))
    kind, target = next((kind, value) for kind, value in (
        (ADVISORY, args.advisory), (CVE, args.cve), (TAG, args.tag),
        (REQUIREMENT, args.requirement)) if value is not None)
    if kind == CVE:
        target = target.upper()
    now = int(time.time())
    start = args.start if args.start is not None else now
    deadline = args.deadline if args.deadline is not None else start + args.days * DAY
    try:
        campaigns.check_definition(kind, target, start, deadline)
    except CampaignError as exc:
        raise UsageError(str(exc))
    store = store_of(args)
    _check_target(store, kind, target)
    try:
        campaign = store.campaigns.add(args.name, kind, target, args.system, start, deadline,
                                       now, args.by or officer_name())
    except StoreError as exc:
        raise CommandError(str(exc))
    print("campaign %s: %s, from %s, deadline %s" % (
        campaign.name, _describe(campaign), format_time(start), format_time(deadline)))


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
        advisory_ids_of_tag(store, target)


def advisory_ids_of_tag(store, name):
    """The ids of the advisories tag `name` names; CommandError when there
    is no such tag."""
    raise CommandError("unknown tag %r" % name)


def exceptions_of(store):
    """Every exception ever recorded (ended ones too: a past date uses
    them as they stood)."""
    return Exceptions()


def target_of(store, table, campaign):
    """The campaigns.Target of a campaign."""
    if campaign.kind == REQUIREMENT:
        return campaigns.requirement_target(store, campaign.target)
    if campaign.kind == ADVISORY:
        try:
            ids = [store.advisories.get(campaign.target)[0].id]
        except UnknownAdvisory as exc:
            raise CommandError(str(exc))
    elif campaign.kind == CVE:
        ids = [info.id for info in store.advisories.listed(cve=campaign.target)]
    else:
        ids = advisory_ids_of_tag(store, campaign.target)
    return campaigns.advisory_target(store, table, ids)


def campaign_status_at(store, table, campaign, at, site=None):
    """The CampaignStatus of a campaign at `at`, from the history."""
    return campaigns.status(store, target_of(store, table, campaign), campaign, at, site,
                            exceptions_of(store))


def status_document(status):
    """A CampaignStatus as the JSON document `status --format json`
    prints and a closed campaign keeps: one object a site."""
    return [dict(site._asdict(), hosts=[h._asdict() for h in site.hosts],
                 excepted_hosts=[e._asdict() for e in site.excepted_hosts])
            for site in status.sites]


def _final_status(campaign):
    """The status a closed campaign kept (its sites, as documents)."""
    return json.loads(campaign.final) if campaign.final else []


def campaign_list(args):
    store = store_of(args, read=True)
    table = stream_table(args)
    now = int(time.time())
    rows = []
    for campaign in store.campaigns.listed():
        if campaign.closed is not None:
            states = [site["state"] for site in _final_status(campaign)]
        else:
            states = [site.state for site in campaign_status_at(store, table, campaign,
                                                                 now).sites]
        rows.append({"campaign": campaign.name, "target": "%s %s" % (campaign.kind,
                                                                      campaign.target),
                     "system": campaign.system, "start": format_day(campaign.start),
                     "deadline": format_time(campaign.deadline),
                     "closed": format_time(campaign.closed) if campaign.closed else None,
                     "done": states.count(campaigns.DONE), "open": states.count(campaigns.OPEN),
                     "overdue": states.count(campaigns.OVERDUE),
                     "unknown": states.count(campaigns.UNKNOWN)})
    emit(rows, LIST_COLUMNS, args.format)


def campaign_show(args):
    store = store_of(args, read=True)
    campaign = _campaign(store, args.name)
    print("campaign %s: %s" % (campaign.name, _describe(campaign)))
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
        sites = [site_document for site_document in _final_status(campaign)
                 if site is None or site_document["site"].upper() == site.upper()]
        _print_status(campaign, campaign.closed, sites, args.format, closed=True)
        return
    at = args.at if args.at is not None else int(time.time())
    if at < campaign.start:
        raise UsageError("--at %s is before the campaign started (%s)"
                         % (format_time(at), format_time(campaign.start)))
    status = campaign_status_at(store, stream_table(args), campaign, at, site)
    if args.plot:
        from .plot import plot_burndown
        draw_plot(args.plot, plot_burndown, status.burndown, campaign.name, campaign.deadline)
    if args.burndown:
        emit([{"date": format_day(day.day), "hosts": day.hosts, "sites": day.sites}
              for day in status.burndown], BURNDOWN_COLUMNS, args.format)
        return
    _print_status(campaign, at, status_document(status), args.format)


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
        campaign.name, _describe(campaign), format_time(campaign.deadline),
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
    store = store_of(args)
    campaign = _campaign(store, args.name)
    if campaign.closed is not None:
        raise CommandError("campaign %s was closed on %s" % (campaign.name,
                                                             format_time(campaign.closed)))
    now = int(time.time())
    status = campaign_status_at(store, stream_table(args), campaign, now)
    try:
        store.campaigns.close(campaign, json.dumps(status_document(status), sort_keys=True),
                              now, args.by or officer_name())
    except StoreError as exc:
        raise CommandError(str(exc))
    states = [site.state for site in status.sites]
    print("closed campaign %s: %d site(s) done, %d open, %d overdue, %d unknown" % (
        campaign.name, states.count(campaigns.DONE), states.count(campaigns.OPEN),
        states.count(campaigns.OVERDUE), states.count(campaigns.UNKNOWN)))


"""`wlcg-collector quarantine`, `keys` and `rollback`: the officer's
decisions about who may write a host's rows.

    quarantine [list|show ID|accept ID|drop ID]
                                  the reports kept aside; accept --site S
                                  --key-changes (or --unknown-site) for a
                                  whole site, skipping hosts with two keys
    keys [--site S]               each host's trust, key and pin
    keys pin HOST --site S --fingerprint FP
    keys unpin HOST --site S      the officer says which key a host answers to
    rollback HOST --site S --to DATE [--dry-run]
                                  a host's state, facts and history as they
                                  were at DATE; its pin is said, not changed
"""

import sys
import time

from . import trust
from .cli_common import (CommandError, UsageError, actions_of, command, config_of, date_arg,
                         emit, host_of, row_id, site_of, store_of, with_format, with_site)
from .dates import format_time
from .ingest import quarantine_answer
from .db import StoreError
from .db.errors import RepairRefused
from .report import ReportError, parse_report
from .site_names import site_key, site_order
from .statuses import QUARANTINED
from .text import escaped


QUARANTINE_COLUMNS = ["id", "received", "sender", "site", "host", "kind", "reason",
                      "fingerprint"]


def quarantine_row(entry):
    return {"id": entry.id, "received": format_time(entry.received), "sender": entry.sender,
            "site": entry.site, "host": entry.host, "kind": entry.kind, "reason": entry.reason,
            "fingerprint": trust.short_fingerprint(entry.fingerprint)}


def declare_quarantine(commands):
    p = command(commands, "quarantine", "reports kept aside for review: list them, show, "
                                        "accept or drop one", quarantine_list)
    with_site(p, "list, or accept --key-changes, of one site")
    with_format(p)
    actions = actions_of(p, required=False, help_text="none: list them")
    s = command(actions, "list", "the reports kept aside (--site SITE: of one site)",
                quarantine_list)
    with_site(s, inherited=True)
    with_format(s, inherited=True)
    command(actions, "show", "one quarantined report: why it was kept aside, and its text",
            quarantine_show).add_argument("id", nargs="?", metavar="ID", type=row_id)
    s = command(actions, "accept", "apply a quarantined report (a key change: pin its key); "
                                   "or, with --site, every key change of a site",
                quarantine_accept)
    s.add_argument("id", nargs="?", metavar="ID", type=row_id)
    with_site(s, inherited=True)
    s.add_argument("--key-changes", action="store_true",
                   help="with --site S: accept every pending key change of the site")
    s.add_argument("--unknown-site", action="store_true",
                   help="with --site S: accept every report held because S is not on the list "
                        "of sites (S becomes an accepted site)")
    command(actions, "drop", "delete a quarantined report",
            quarantine_drop).add_argument("id", nargs="?", metavar="ID", type=row_id)


def quarantine_list(args):
    emit(quarantine_rows(store_of(args, read=True), args.site), QUARANTINE_COLUMNS, args.format)


def quarantine_rows(store, site=None):
    """The rows `quarantine` lists (QUARANTINE_COLUMNS): the reports kept
    aside (of `site`, if given), oldest entry first."""
    return [quarantine_row(entry) for entry in store.review.quarantined(site)]


def quarantined_entry(store, args, action):
    """The quarantined entry ID names."""
    if args.id is None:
        raise UsageError("quarantine %s needs the ID of a quarantined report" % action)
    return store.review.quarantined_one(args.id)


def quarantine_show(args):
    store = store_of(args, read=True)
    entry = quarantined_entry(store, args, "show")
    sys.stdout.write("".join("%s: %s\n" % (k, escaped(v)) for k, v in
                             quarantine_row(entry).items()))
    if entry.signer_subject:
        sys.stdout.write("subject: %s\n" % escaped(entry.signer_subject))
    sys.stdout.write("\n" + entry.report.decode("utf-8", "replace"))


def quarantine_drop(args):
    store = store_of(args)
    entry = quarantined_entry(store, args, "drop")
    store.review.drop(entry.id)
    print("dropped quarantined report %d of %s at %s" % (entry.id, entry.host, entry.site))


def quarantine_accept(args):
    if args.key_changes or args.unknown_site:
        return accept_site_entries(args)
    store = store_of(args)
    entry = quarantined_entry(store, args, "accept")
    result, pin_line = accept_entry(store, entry, config_of(args).rules)
    if result.outcome == QUARANTINED:  # its site accepted, its key held again
        print("accepted the site of quarantined report %d of %s at %s; the report is %s"
              % (entry.id, entry.host, entry.site, quarantine_answer(result)))
        return
    print("accepted quarantined report %d of %s at %s: %s%s" % (
        entry.id, entry.host, entry.site, result.outcome,
        ", key pinned" if entry.fingerprint is not None else ""))
    if pin_line:
        print(pin_line)


def accept_site_entries(args):
    """accept --site S --key-changes (or --unknown-site): a whole site's
    entries of that kind, but a host with two keys and a new site key."""
    flag = "--key-changes" if args.key_changes else "--unknown-site"
    if args.site is None or args.id is not None or (args.key_changes and args.unknown_site):
        raise UsageError("accept %s takes --site SITE and no ID" % flag)
    store = store_of(args)
    kinds = (trust.KEY_CHANGE, trust.SITE_KEY_CHANGE) if args.key_changes else \
        (trust.UNKNOWN_SITE,)
    entries = [e for e in store.review.quarantined(args.site) if e.kind in kinds]
    conflicts = trust.conflicting_hosts(entries)
    site_keys = {bytes(k.fingerprint) for k in store.review.site_keys(args.site)}
    # a new site key re-pins every host of the site: only ever by ID
    new_site_keys = [e for e in entries if e.kind == trust.SITE_KEY_CHANGE
                     and bytes(e.fingerprint) not in site_keys]
    skipped = sorted({(e.site, e.host) for e in entries
                      if (site_key(e.site), e.host) in conflicts})
    entries = [store.review.quarantined_one(e.id) for e in entries
               if (site_key(e.site), e.host) not in conflicts and e not in new_site_keys]
    rules = config_of(args).rules
    for entry in entries:
        accept_entry(store, entry, rules)
    print("accepted %d %s of site %s" % (len(entries), "key change(s)" if args.key_changes
                                         else "report(s) held for an unknown site",
                                         args.site))
    for site, host in skipped:
        print("skipped %s at %s: its reports are signed by different keys; accept the "
              "host's own one by ID (wlcg-collector quarantine --site %s)" % (host, site,
                                                                              site))
    for entry in new_site_keys:
        if (site_key(entry.site), entry.host) not in conflicts:
            print("skipped %s at %s: signed by a new site key (SHA256 %s), which would "
                  "answer for every host of the site; accept it by ID (quarantine accept "
                  "%d) once the site confirms it" % (
                      entry.host, entry.site, trust.short_fingerprint(entry.fingerprint),
                      entry.id))


def accept_entry(store, entry, rules):
    """Apply a quarantined entry (`rules`: the collector's, for an entry
    held for its site only); (its IngestResult, the line that says how the
    host's pin changed, or None when it did not)."""
    try:
        # counted against the collector's max_packages when it arrived
        report = parse_report(entry.report, max_packages=entry.report.count(b"\n"))
    except ReportError as exc:  # it was parsed once already: the text is stored as received
        raise CommandError("quarantined report %d: %s" % (entry.id, exc))
    before = pin_of(store, entry.site, entry.host)
    result = store.review.accept(entry, report, int(time.time()), "officer", rules)
    after = pin_of(store, entry.site, entry.host)
    if before is None or before[:2] == after[:2]:
        return result, None
    return result, "%s at %s: now %s (was %s)" % (entry.host, entry.site, trust.describe_pin(*after),
                                                  trust.describe_pin(*before))


def pin_of(store, site, name):
    """(trust, fingerprint, pinned_at, pinned_by) of a host, None for none."""
    try:
        host = store.hosts.get(site, name)
    except StoreError:
        return None
    return (host.trust, host.key_fingerprint, host.pinned_at, host.pinned_by)


KEYS_COLUMNS = ["site", "host", "trust", "fingerprint", "pinned_since", "pinned_by"]


def declare_keys(commands):
    p = with_format(command(commands, "keys", "each host's trust (verified, site, pinned, "
                                              "unsigned), key fingerprint, pinned since and by "
                                              "which sender; pin a host to a key, or unpin it",
                            keys_list))
    with_site(p)
    actions = actions_of(p, required=False, help_text="none: list them")
    s = command(actions, "list", "each host's trust and key (--site SITE: of one site)",
                keys_list)
    with_format(s, inherited=True)
    with_site(s, inherited=True)
    s = command(actions, "pin", "pin HOST --site SITE --fingerprint FP: judge the host's "
                                "reports against that key from now on", keys_pin)
    s.add_argument("host", nargs="?", metavar="HOST")
    with_site(s, inherited=True)
    s.add_argument("--fingerprint", metavar="FP",
                   help="the key's SHA-256 in hex, whole or its first 16 digits or more when a "
                        "report of the host was signed with it")
    s = command(actions, "unpin", "unpin HOST --site SITE: the host is unsigned again (its "
                                  "next signed report waits in the quarantine)", keys_unpin)
    s.add_argument("host", nargs="?", metavar="HOST")
    with_site(s, inherited=True)


def keys_list(args):
    store = store_of(args, read=True)
    site = site_of(store, args)
    rows = [{"site": h.site, "host": h.name, "trust": h.trust,
             "fingerprint": trust.short_fingerprint(h.key_fingerprint),
             "pinned_since": format_time(h.pinned_at), "pinned_by": h.pinned_by}
            for h in store.review.keys(site)]
    rows += [{"site": k.site, "host": None, "trust": "site key",
              "fingerprint": trust.short_fingerprint(k.fingerprint),
              "pinned_since": format_time(k.pinned_at), "pinned_by": k.pinned_by}
             for k in store.review.site_keys(site)]
    rows.sort(key=lambda r: (site_order(r["site"]), r["host"] or ""))
    emit(rows, KEYS_COLUMNS, args.format)


def keys_pin(args):
    """keys pin: the officer says which key a host answers to."""
    host_at_site(args, "pin")
    if args.fingerprint is None:
        raise UsageError("keys pin takes --fingerprint FP")
    store = store_of(args)
    host = host_of(store, args)
    signers = store.review.signers_of(host)
    site_keys = store.review.site_keys(host.site)
    signers += [trust.Signer(trust.SITE_KEY, bytes(k.fingerprint), None) for k in site_keys]
    try:
        signer = trust.match_fingerprint(args.fingerprint, signers)
    except ValueError as exc:
        raise UsageError(str(exc))
    if signer is None:
        raise CommandError("no report of %s at %s was signed by a key %s...: give the whole "
                           "SHA-256 (64 hex digits)" % (host.name, host.site,
                                                        args.fingerprint))
    set_pin(store, host, signer)


def keys_unpin(args):
    """keys unpin: the host is unsigned again."""
    host_at_site(args, "unpin")
    store = store_of(args)
    set_pin(store, host_of(store, args), None)


def host_at_site(args, action):
    if args.host is None or args.site is None:
        raise UsageError("keys %s takes HOST and --site SITE" % action)


def set_pin(store, host, signer):
    """Pin host to signer (None: unpin it), and say what changed."""
    before = store.review.set_pin(host, signer, int(time.time()), "officer")
    after = (trust.UNSIGNED, None) if signer is None else (trust.trust_of(signer),
                                                           signer.fingerprint)
    print("%s at %s: now %s (was %s)" % (host.name, host.site, trust.describe_pin(*after),
                                         trust.describe_pin(*before)))


def declare_rollback(commands):
    p = command(commands, "rollback", "make a host's state and history what they were at a "
                                      "date (the reports after it stay in the audit trail, "
                                      "marked rolled back)", cmd_rollback)
    p.add_argument("host", metavar="HOST")
    with_site(p, required=True)
    p.add_argument("--to", required=True, metavar="DATE", type=date_arg)
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")


def cmd_rollback(args):
    store = store_of(args)
    host = host_of(store, args)
    try:
        done = store.review.rollback(host, args.to, dry_run=args.dry_run)
    except RepairRefused as exc:
        raise CommandError(str(exc))
    print("%s %s at %s to %s: %d interval(s) opened since removed, %d closed since reopened, "
          "%d report(s) marked rolled back, %d change(s) of its facts undone" % (
              "would roll back" if args.dry_run else "rolled back", host.name, host.site,
              format_time(args.to), done.intervals_removed, done.intervals_reopened,
              done.reports_rolled_back, done.facts_rolled_back))
    # the pin is the officer's own decision, never a rollback's side effect
    print("its pin is unchanged: %s%s (wlcg-collector keys pin or keys unpin change it)" % (
        trust.describe_pin(host.trust, host.key_fingerprint),
        ", since %s by %s" % (format_time(host.pinned_at), host.pinned_by)
        if host.pinned_at is not None else ""))

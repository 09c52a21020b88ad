"""`wlcg-collector`: set up the collector, serve it, and read what it holds.

Exit codes: 0 success; 1 the request failed (unknown host, site or
baseline, nothing known of a host at the time asked, a report rejected,
the database unavailable); 2 usage or configuration error.
"""

import argparse
import functools
import os
import signal
import sys
import time

from . import (__version__, analysis, baseline_commands, campaign_commands, crypto, devserver,
               fleet_commands, reader_commands, site_commands, trust, trust_commands)
from .advisories import commands as advisory_commands
from .advisories import exposure_commands
from .advisories import tag_commands
from .baselines import BaselineError
from .config import ConfigError, check_key_pairs
from .dates import format_time
from .cli_common import (PROG, CommandError, UsageError, command, config_of, date_arg,
                         decimal_number, emit, failure_line, host_of, site_of, store_of,
                         until_of, whole_number, with_at, with_format, with_site, with_until)
from .db import PendingReport, StoreError, StoreFault
from .history import changes
from .ingest import Rejected, is_plaintext, open_body, site_notice
from .output import record_rows
from .remote import printable
from .report import ReportError
from .site_names import site_key
from .statuses import QUARANTINED
from .versions import compare

INGEST_MAX = 64 * 1024 * 1024
INGEST_BATCH = 50  # reports stored a transaction by `ingest`


def build_parser():
    """The whole command line: the options every command takes, then each
    command as its module declares it, in the order --help lists them."""
    parser = argparse.ArgumentParser(prog=PROG, description=(
        "The WLCG package collector: receives encrypted package reports, keeps them with "
        "their history, and answers questions about them."), epilog=(
        "Exit codes: 0 success; 1 the request failed (unknown host, site or baseline, nothing "
        "known of a host at the time asked, report rejected, database unavailable); 2 usage "
        "or configuration error. Dates are ISO "
        "8601 in UTC: 2026-01-31 (midnight) or 2026-01-31T18:00:00Z."))
    parser.add_argument("--config", metavar="FILE",
                        help="INI file (default $WLCG_COLLECTOR_CONFIG, else "
                             "/etc/wlcg-collector/collector.conf)")
    parser.add_argument("--db", metavar="URL", help="database URL (sqlite:///PATH or "
                                                    "mysql://user:password@host:port/db)")
    parser.add_argument("--key", metavar="FILE", action="append",
                        help="collector private key (repeat for rotation, paired with --cert)")
    parser.add_argument("--cert", metavar="FILE", action="append",
                        help="collector certificate (repeat, in the order of --key)")
    parser.add_argument("--version", action="version", version="%s %s" % (PROG, __version__))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for declare in (declare_keygen, declare_init_db, declare_serve, declare_ingest,
                    site_commands.declare_sites, declare_hosts, declare_state,
                    declare_history, declare_reports, baseline_commands.declare_baseline,
                    baseline_commands.declare_compare, fleet_commands.declare_adoption,
                    fleet_commands.declare_changes, fleet_commands.declare_stale,
                    trust_commands.declare_quarantine,
                    trust_commands.declare_keys, trust_commands.declare_rollback,
                    advisory_commands.declare_advisories, advisory_commands.declare_vulnerable,
                    exposure_commands.declare_exposure, exposure_commands.declare_patch_times,
                    tag_commands.declare_tags, tag_commands.declare_exceptions,
                    campaign_commands.declare_campaign, reader_commands.declare_readers,
                    declare_vercmp):
        declare(commands)
    return parser


@functools.lru_cache(maxsize=1)
def command_line():
    """The parser, built once a process: building it (some 200 parsers, each
    asking gettext for its words) takes about 14 ms, paid on every call by
    a process that runs many commands (the tests run thousands). Parsing
    leaves it as it was."""
    return build_parser()


def main(argv=None):
    args = command_line().parse_args(argv)
    args.stores = []  # closed when the command is done
    try:
        return args.func(args) or 0
    except (UsageError, ConfigError) as exc:
        sys.stderr.write("%s: %s\n" % (PROG, exc))
        return 2
    except (CommandError, StoreError, StoreFault, crypto.CryptoError, BaselineError) as exc:
        sys.stderr.write("%s: %s\n" % (PROG, failure_line(exc)))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        for store in args.stores:
            store.close()


# ---------------------------------------------------------------- commands

def declare_keygen(commands):
    p = command(commands, "keygen", "make a new collector key DIR/collector.key (0600) and "
                                    "self-signed certificate DIR/collector.pem", cmd_keygen)
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--subject", default=crypto.SUBJECT)
    p.add_argument("--days", type=whole_number, default=crypto.CERT_DAYS)


def cmd_keygen(args):
    key, cert = crypto.keygen(args.directory, args.subject, args.days)
    print("key %s (mode 0600) and certificate %s written" % (key, cert))


def declare_init_db(commands):
    command(commands, "init-db", "create the database schema, or upgrade it", cmd_init_db)


def cmd_init_db(args):
    store = store_of(args, check=False)
    before, after = store.schema.init()
    if store.schema.init_note:
        print(store.schema.init_note)
    if before is None:
        print("created schema version %d" % after)
    elif before == after:
        print("schema version %d is current" % after)
    else:
        print("upgraded schema from version %d to %d" % (before, after))


def declare_serve(commands):
    p = command(commands, "serve", "serve the collector application (development and demo "
                                   "server)", cmd_serve)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=whole_number, default=8080)
    p.add_argument("--timeout", type=decimal_number, default=devserver.TIMEOUT, metavar="SECONDS",
                   help="a client's time to send its whole request, and to take the answer")
    p.add_argument("--max-connections", type=whole_number, metavar="N",
                   help="at most N connections (default: 2000, fewer under the open-file limit)")


def _stop(signum, frame):
    raise KeyboardInterrupt()


def cmd_serve(args):
    import secrets
    from . import create_app
    # The officer's pages are never open: a fresh token each start lets in
    # whoever was given the link (besides the [officer] allow list).
    token = secrets.token_urlsafe(24)
    app = create_app(args.config, database=args.db, keys=args.key, certs=args.cert,
                     officer_token=token)
    try:
        server = devserver.make_server(args.host, args.port, app, timeout=args.timeout,
                                       max_connections=args.max_connections,
                                       max_body=app.config.max_body)
    except ValueError as exc:  # bounds out of range, or beyond the open-file limit
        raise UsageError("cannot serve: %s" % exc)
    except OSError as exc:
        raise CommandError("cannot listen on %s:%d: %s" % (args.host, args.port,
                                                          exc.strerror or exc))
    signal.signal(signal.SIGTERM, _stop)
    sys.stderr.write("%s: serving http://%s:%d/ (stop with Ctrl-C)\n"
                     % (PROG, args.host, server.server_port))
    sys.stderr.write("%s: officer pages: http://%s:%d/officer/?token=%s\n"
                     % (PROG, args.host, server.server_port, token))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def declare_ingest(commands):
    p = command(commands, "ingest", "store reports written by the reporter's --output",
                cmd_ingest)
    p.add_argument("files", metavar="FILE", nargs="+")


def cmd_ingest(args):
    """The bulk path for relayed and spooled reports: each file read,
    decrypted and checked in turn, the reports stored INGEST_BATCH to a
    transaction (one commit for many; a report that fails, fails alone)."""
    config = config_of(args)
    store = store_of(args)
    counts, failed, batch = {}, 0, []
    notices = {}  # the lines a reporter would have been told about its site, once each
    keys_checked = False
    received = int(time.time())

    def refuse(path, reason):
        # a name need not be UTF-8 nor free of control characters: shown escaped
        sys.stderr.write("%s: %s: %s\n" % (PROG, printable(path, 1000), printable(reason, 1000)))
        return 1

    def flush():
        refused = 0
        results = store.writer.store_reports([item for _, item in batch], config.limits)
        for (path, _), result in zip(batch, results):
            if isinstance(result, ReportError):
                refused += refuse(path, "bad report: %s" % result)
            elif isinstance(result, Exception):
                refused += refuse(path, result)
            else:
                counts[result.outcome] = counts.get(result.outcome, 0) + 1
                notice = site_notice(result.site)
                if notice:
                    notices[notice] = notices.get(notice, 0) + 1
        del batch[:]
        return refused

    for path in args.files:
        try:
            with open(path, "rb") as handle:
                body = handle.read(INGEST_MAX + 1)
        except OSError as exc:
            failed += refuse(path, "cannot read: %s" % (exc.strerror or exc))
            continue
        if len(body) > INGEST_MAX:
            failed += refuse(path, "larger than %d bytes" % INGEST_MAX)
            continue
        if not is_plaintext(body) and not keys_checked:
            check_key_pairs(config)
            keys_checked = True
        try:
            # the operator's own files: plaintext is as good as encrypted
            report, signer = open_body(body, config.pairs, received, allow_plaintext=True,
                                       clock_skew=config.clock_skew, rules=config.rules,
                                       max_packages=config.max_packages)
        except Rejected as exc:
            failed += refuse(path, exc.reason)
            continue
        del body
        batch.append((path, PendingReport(
            report, received, "file:" + printable(os.path.basename(path), 59),
            config.clock_skew, signer, config.rules)))
        if len(batch) >= INGEST_BATCH:
            failed += flush()
    if batch:
        failed += flush()
    for notice, count in sorted(notices.items()):
        sys.stderr.write("%s: %s (%d report(s))\n" % (PROG, notice, count))
    summary = ", ".join("%d %s" % (n, outcome) for outcome, n in sorted(counts.items()))
    print("stored %d of %d report(s)%s" % (sum(counts.values()), len(args.files),
                                           ": " + summary if summary else ""))
    return 1 if failed else 0


def declare_hosts(commands):
    p = with_format(command(commands, "hosts", "hosts with system, packager, last report, "
                                               "packages", cmd_hosts))
    with_site(p)
    p.add_argument("--stale", metavar="DAYS", type=decimal_number,
                   help="only hosts whose last report is older than DAYS days")


def cmd_hosts(args):
    store = store_of(args, read=True)
    site = site_of(store, args)
    before = None
    if args.stale is not None:
        before = int(time.time() - args.stale * analysis.DAY)
    emit(*host_rows(store, site, before), args.format)


HOST_COLUMNS = ["site", "host", "system", "packager", "last_report", "packages", "trust"]


def host_rows(store, site=None, before=None):
    """(rows, columns) of `hosts` (and the site page's JSON): each host of
    `site` (None: every host) whose last report is older than `before`
    (None: every one), by site and name; with a list of sites loaded, each
    host's site's tier and country."""
    listed = {site_key(row.name): row for row in store.sites.rows()}
    rows = []
    for host in store.hosts.listed(site, before):
        row = listed.get(site_key(host.site))
        rows.append({"site": host.site, "host": host.name, "system": host.system,
                     "packager": host.packager, "last_report": format_time(host.last_report),
                     "packages": host.packages, "trust": host.trust,
                     "tier": row.tier if row else None, "country": row.country if row else None})
    return rows, HOST_COLUMNS + (["tier", "country"] if listed else [])


def declare_state(commands):
    p = with_format(command(commands, "state", "the packages installed on a host (now or at a "
                                               "date)", cmd_state))
    p.add_argument("host", metavar="HOST")
    with_site(p)
    with_at(p)


STATE_COLUMNS = ["name", "version", "arch"]


def cmd_state(args):
    store = store_of(args, read=True)
    host = host_of(store, args)
    before = before_first_report(host, args.at)
    if before:
        raise CommandError(before)
    emit(state_rows(store, host, args.at), STATE_COLUMNS, args.format)


def before_first_report(host, at):
    """Why nothing is known of a Host at `at`, before its first report
    (None: something is): an empty `state` would read as a host with no
    packages."""
    if at is None or at >= host.first_report:
        return None
    return "%s at %s first reported at %s: nothing is known of it at %s" % (
        host.name, host.site, format_time(host.first_report), format_time(at))


def state_rows(store, host, at=None):
    """`state`'s rows (STATE_COLUMNS): the packages on a Host now or at
    `at`, by name, arch and version."""
    return record_rows(store.hosts.state(host.id, at), STATE_COLUMNS)


def declare_history(commands):
    p = with_format(command(commands, "history", "the changes of a host, one row per change",
                            cmd_history))
    p.add_argument("host", metavar="HOST")
    with_site(p)
    p.add_argument("--since", metavar="DATE", type=date_arg, help="the changes from DATE on")
    with_until(p)


HISTORY_COLUMNS = ["time", "action", "name", "arch", "old", "new"]


def cmd_history(args):
    store = store_of(args, read=True)
    until = until_of(args, args.since)
    emit(history_rows(store, host_of(store, args), args.since, until), HISTORY_COLUMNS,
         args.format)


def history_rows(store, host, since=None, until=None):
    """`history`'s rows (HISTORY_COLUMNS): a Host's changes from `since`
    and before `until` (None: all), by time, name and arch."""
    events = changes(host.packager, store.hosts.intervals(host.id, since), since)
    return [dict(zip(HISTORY_COLUMNS, (format_time(event[0]),) + tuple(event[1:])))
            for event in events if until is None or event[0] < until]


def declare_reports(commands):
    p = with_format(command(commands, "reports", "the reports received from a host (audit "
                                                 "trail)", cmd_reports))
    p.add_argument("host", metavar="HOST")
    with_site(p)


REPORT_COLUMNS = ["received", "collected", "sender", "signer", "packages", "changed", "outcome",
                  "duplicates"]


def cmd_reports(args):
    store = store_of(args, read=True)
    host = host_of(store, args)
    rows = [{"received": r.received, "collected": r.collected, "sender": r.sender,
             "signer": trust.short_fingerprint(r.signer), "packages": r.packages,
             "changed": bool(r.changed), "outcome": r.outcome, "duplicates": r.duplicates}
            for r in store.hosts.reports(host.id)]
    # the ones kept aside are reports received too
    rows += [{"received": q.received, "collected": None, "sender": q.sender,
              "signer": trust.short_fingerprint(q.fingerprint), "packages": None,
              "changed": False, "outcome": QUARANTINED, "duplicates": 0}
             for q in store.review.quarantined(host.site) if q.host == host.name]
    rows.sort(key=lambda r: r["received"])
    for row in rows:
        row["received"], row["collected"] = (format_time(row["received"]),
                                             format_time(row["collected"]))
    emit(rows, REPORT_COLUMNS, args.format)


def declare_vercmp(commands):
    p = command(commands, "vercmp", "compare two versions as rpm or dpkg does: prints <, = or >",
                cmd_vercmp)
    p.add_argument("packager", choices=("rpm", "dpkg"))
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")


def cmd_vercmp(args):
    try:
        result = compare(args.packager, args.a, args.b)
    except ValueError as exc:
        raise UsageError("bad %s version: %s" % (args.packager, exc))
    print({-1: "<", 0: "=", 1: ">"}[result])

"""What every `wlcg-collector` command shares: its errors, argument
types, the store it opens and how it prints records."""

import argparse
import sys

from . import analysis
from .config import load_config
from .dates import format_day, format_time, parse_date
from .db import StoreError, open_store
from .output import FORMATS, render
from .versions import ascii_decimal, is_ascii_number

PROG = "wlcg-collector"


class CommandError(Exception):
    """A one-line failure of a command (exit 1)."""


class UsageError(Exception):
    """A one-line usage or configuration error (exit 2)."""


def with_format(parser):
    """A command's parser, given --format table|csv|json."""
    parser.add_argument("--format", choices=FORMATS, default="table")
    return parser


def whole_number(text):
    """argparse type: an int in ASCII digits (int() also reads other scripts')."""
    if not is_ascii_number(text):
        raise argparse.ArgumentTypeError("%r is not a whole number" % text)
    return int(text)


def decimal_number(text):
    try:
        return ascii_decimal(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def date_arg(text):
    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def config_of(args):
    return load_config(args.config, database=args.db, keys=args.key, certs=args.cert)


def store_of(args, check=True, read=False):
    """The store a command uses: for a command that only reads (`read`),
    the replica of `[collector] read_database` when there is one."""
    config = config_of(args)
    url = config.read_database if read and config.read_database else config.database
    store = open_store(url, config.package_cache, config.read_connections)
    args.stores.append(store)
    if check:
        store.schema.check()
    return store


def keeper_of(args):
    """The store a reading command may keep what it worked out in: the
    primary when it reads a replica (opened lazily), else None (the store
    it reads)."""
    config = config_of(args)
    if not config.read_database:
        return None
    store = open_store(config.database, config.package_cache, config.read_connections)
    args.stores.append(store)
    return store


def emit(rows, columns, fmt):
    sys.stdout.write(render(rows, columns, fmt))


# how a record's fields are shown: times as ISO 8601, shares as percentages
def _percent(value):
    return "%.1f%%" % value


FIELD_FORMATS = {"last_report": format_time, "received": format_time,
                 "collected": format_time, "created": format_time, "time": format_time,
                 "date": format_day, "compliant": _percent, "published": format_time,
                 "modified": format_time, "first_seen": format_time, "changed": format_time,
                 "stored": format_time, "replaced": format_time, "exposed_since": format_time,
                 "fixed_at": format_time}


def emit_records(records, columns, fmt, renamed=None):
    """Print named records: columns are their fields (or, through `renamed`,
    {column: field}); times and shares are formatted here, at the edge."""
    renamed = renamed or {}
    rows = []
    for record in records:
        row = {}
        for column in columns:
            value = getattr(record, renamed.get(column, column))
            form = FIELD_FORMATS.get(column)
            row[column] = form(value) if form is not None and value is not None else value
        rows.append(row)
    emit(rows, columns, fmt)


def site_of(store, args):
    """--site, checked to exist (None when not given)."""
    try:
        analysis.require_site(store, args.site)
    except StoreError as exc:
        raise CommandError(str(exc))
    return args.site


def host_of(store, args):
    """The Host that HOST [--site SITE] names."""
    try:
        return store.hosts.find(args.host, args.site)
    except StoreError as exc:
        raise CommandError(str(exc))

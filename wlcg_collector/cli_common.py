"""What every `wlcg-collector` command shares: how a command is declared,
the options many take, its errors, argument types, the store it opens and
how it prints records.

A command module declares each command's parser beside its function:
`command(commands, NAME, HELP, cmd_NAME)` and, for a command with actions
(`sites merge`, `keys pin`), `actions_of(parser)` and `command(actions,
ACTION, HELP, NAME_ACTION)`; `main` runs `args.func(args)`.
"""

import argparse
import sys

from . import analysis, numerals
from .config import load_config
from .dates import format_time, parse_date
from . import check_schema
from .db import StoreError, open_store
from .db.errors import AmbiguousHost, UnknownName
from .output import FORMATS, record_rows, render

PROG = "wlcg-collector"


class CommandError(Exception):
    """A one-line failure of a command (exit 1)."""


class UsageError(Exception):
    """A one-line usage or configuration error (exit 2)."""


PLOT_SUFFIXES = (".svg", ".png", ".pdf")


def command(commands, name, help_text, func):
    """The parser of command (or action) `name` among `commands` (an
    argparse subparsers object); parsed, it runs func(args)."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    if func is not None:  # None: a command that is only its actions (`baseline`)
        parser.set_defaults(func=func)
    return parser


def actions_of(parser, required=True, help_text=None):
    """The actions of a command (`sites merge`, `keys pin`), each declared
    with command(); not `required`, the command's own func runs when none
    is given (`sites`, `keys`)."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION" if required else "[ACTION]",
                                    help=help_text)
    actions.required = required
    return actions


# An option a command takes both before its action and after it (`keys
# --site S pin HOST`, `keys pin HOST --site S`) is declared on the action
# `inherited`: given there it wins; absent, what came before stands.
def _inherited(default, inherited):
    return argparse.SUPPRESS if inherited else default


def with_format(parser, inherited=False):
    """A command's parser, given --format table|csv|json."""
    parser.add_argument("--format", choices=FORMATS, default=_inherited("table", inherited))
    return parser


def with_rows(parser, what):
    """A command's parser, given --rows: its table lists every row (`what`,
    as "(host, package) row behind") rather than one line per host; CSV and
    JSON give every row whatever it says."""
    parser.add_argument("--rows", action="store_true",
                        help="list every %s, not one line per host (--format csv and json "
                             "always give every row)" % what)
    return parser


def with_site(parser, help_text=None, required=False, inherited=False):
    """A command's parser, given --site SITE."""
    parser.add_argument("--site", help=help_text, required=required,
                        default=_inherited(None, inherited))
    return parser


def with_at(parser, help_text=None):
    """A command's parser, given --at DATE (an ISO 8601 UTC date)."""
    parser.add_argument("--at", metavar="DATE", type=date_arg, help=help_text)
    return parser


def with_plot(parser, what):
    """A command's parser, given --plot FILE (drawn with draw_plot)."""
    parser.add_argument("--plot", metavar="FILE", help="draw %s into FILE (.svg or .png)" % what)
    return parser


def draw_plot(path, draw, *data):
    """--plot FILE: draw(*data, FILE), every failure one line: a name that
    is no picture or no matplotlib is a usage error, a file that cannot be
    written a failed request."""
    from .plot import PlotUnavailable
    if not path.lower().endswith(PLOT_SUFFIXES):
        raise UsageError("--plot %s: name a .svg, .png or .pdf file" % path)
    try:
        draw(*data, path)
    except PlotUnavailable as exc:
        raise UsageError(str(exc))
    except OSError as exc:
        raise CommandError("cannot write %s: %s" % (path, exc.strerror or exc))


def whole_number(text):
    """argparse type: a whole number as numerals reads it."""
    try:
        return numerals.whole_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


# the largest id a database row may have (a signed 64-bit column)
MAX_ROW_ID = 2 ** 63 - 1


def row_id(text):
    """argparse type: the id of a stored row (a quarantined report, an
    exception): a whole number a database can hold."""
    value = whole_number(text)
    if value > MAX_ROW_ID:
        raise argparse.ArgumentTypeError("%s is no id (at most %d)" % (text.strip()[:40],
                                                                       MAX_ROW_ID))
    return value


def decimal_number(text):
    """argparse type: a number, 1.5 allowed, as numerals reads it."""
    try:
        return numerals.decimal_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def date_arg(text):
    """argparse type: an ISO 8601 UTC date (dates.parse_date) in Unix seconds."""
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
        check_schema(store)
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


def emit_records(records, columns, fmt, renamed=None):
    """Print named records: columns are their fields (or, through `renamed`,
    {column: field}); times and shares are formatted at the edge
    (output.record_rows)."""
    emit(record_rows(records, columns, renamed), columns, fmt)


def failure_line(exc):
    """The one line a command prints for a failure: a name that names
    nothing, with the closest names that do (the officer may read them
    all)."""
    return exc.line() if isinstance(exc, UnknownName) else str(exc)


def site_of(store, args):
    """--site, checked to exist (None when not given)."""
    try:
        analysis.require_site(store, args.site)
    except StoreError as exc:
        raise CommandError(failure_line(exc))
    return args.site


def host_of(store, args):
    """The Host that HOST [--site SITE] names."""
    try:
        return store.hosts.find(args.host, args.site)
    except AmbiguousHost as exc:
        raise CommandError("%s: give --site" % exc)
    except StoreError as exc:
        raise CommandError(failure_line(exc))


def with_until(parser):
    """`history` and `changes`: --until DATE."""
    parser.add_argument("--until", metavar="DATE", type=date_arg,
                        help="the changes before DATE (a date alone: its midnight, so "
                             "--until 2026-02-01 ends with January's)")


def until_of(args, since):
    """--until, checked to come after --since (None when not given)."""
    if args.until is not None and since is not None and args.until <= since:
        raise UsageError("--until %s is not after --since %s" % (format_time(args.until),
                                                                 format_time(since)))
    return args.until

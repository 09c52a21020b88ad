"""Rendering rows for the terminal: an aligned table, CSV or JSON; and
named records made rows, their times and shares formatted (the rows a
command prints and a page's JSON holds)."""

import csv
import io
import json

from .dates import format_day, format_time
from .text import escaped

FORMATS = ("table", "csv", "json")
# a cell that lists a host's requirements or advisories names this many,
# then how many more there are: a line per host stays a line
FEW = 3


# A CSV value starting with one of these is a formula to a spreadsheet (a
# host named "=HYPERLINK(...)"): it gets a leading "'" there, only there.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value):
    text = _text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def first_few(texts, count=None):
    """The first FEW of `count` items (default: as many as texts), joined by
    ", ", then "+N more" for the rest; texts need hold only the first FEW."""
    count = len(texts) if count is None else count
    shown = ", ".join(texts[:FEW])
    return shown if count <= FEW else "%s +%d more" % (shown, count - FEW)


def json_rows(rows, columns):
    """rows (dicts) as `--format json` gives them: each only its `columns`,
    in their order."""
    return [{c: row[c] for c in columns} for row in rows]


def render(rows, columns, fmt):
    """rows: list of dicts; columns: the keys, in order."""
    if fmt == "json":
        return json.dumps(json_rows(rows, columns), indent=1) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else csv_text(row[c]) for c in columns])
        return out.getvalue()
    return table(rows, columns)


def _text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def table(rows, columns):
    # what a report or a sender wrote never drives the officer's terminal
    cells = [[c.upper() for c in columns]]
    cells += [["-" if row[c] is None else escaped(_text(row[c])) for c in columns]
              for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in cells]
    return "\n".join(lines) + "\n"


# how a record's fields are shown: times as ISO 8601, shares as percentages
def _percent(value):
    return "%.1f%%" % value


FIELD_FORMATS = {"last_report": format_time, "received": format_time,
                 "collected": format_time, "created": format_time, "time": format_time,
                 "date": format_day, "compliant": _percent, "exposed_share": _percent,
                 "published": format_time,
                 "modified": format_time, "first_seen": format_time, "changed": format_time,
                 "stored": format_time, "replaced": format_time, "exposed_since": format_time,
                 "fixed_at": format_time}


class DictRecord(object):
    """A dict read as a record (its keys as attributes) by record_rows."""

    def __init__(self, values):
        self.__dict__.update(values)


def record_rows(records, columns, renamed=None):
    """Named records as rows (dicts of `columns`, each the field of that
    name or, through `renamed`, {column: field}); times and shares are
    formatted here, at the edge."""
    renamed = renamed or {}
    rows = []
    for record in records:
        row = {}
        for column in columns:
            value = getattr(record, renamed.get(column, column))
            form = FIELD_FORMATS.get(column)
            row[column] = form(value) if form is not None and value is not None else value
        rows.append(row)
    return rows

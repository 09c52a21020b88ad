"""Rendering rows for the terminal: an aligned table, CSV or JSON."""

import csv
import io
import json

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


def render(rows, columns, fmt):
    """rows: list of dicts; columns: the keys, in order."""
    if fmt == "json":
        return json.dumps([{c: row[c] for c in columns} for row in rows], indent=1) + "\n"
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

"""How the officer's pages draw numbers: the charts' lines as SVG
coordinates, drawn as steps (the templates draw them: no script, no inline
style), and the shade of a compliance share."""

from .dates import format_day

# compliance bands, the lowest share (percent) of each: the CSS paints each
# its own shade, so that 98 % does not look like 0 % (below the last: "low")
COMPLIANCE_BANDS = ((100, "full"), (95, "high"), (80, "fair"), (50, "poor"))


def compliance_band(share):
    """The CSS class of a compliance share (percent; None: n/a, neutral)."""
    if share is None:
        return "band-na"
    for lowest, name in COMPLIANCE_BANDS:
        if share >= lowest:
            return "band-" + name
    return "band-low"


def chart(rows):
    """Polylines of hosts meeting / behind (analysis.AdoptionDay rows)."""
    drawn = line_chart(rows, ("hosts_ok", "hosts_behind"))
    drawn.update(ok=drawn["lines"]["hosts_ok"], behind=drawn["lines"]["hosts_behind"])
    return drawn


def line_chart(rows, keys, width=760, height=300, margin=40):
    """Polylines of the `keys` of day rows (records with .day), in SVG
    coordinates (the template draws them: no script, no inline style),
    drawn as steps."""
    top = max([1] + [max(getattr(r, key) for key in keys) for r in rows])
    count = max(1, len(rows) - 1)

    def points(key):
        return step_points([(margin + i * (width - 2 * margin) / count,
                             height - margin - getattr(r, key) * (height - 2 * margin) / top)
                            for i, r in enumerate(rows)])

    ticks = [{"y": height - margin - v * (height - 2 * margin) / top, "label": v}
             for v in sorted({0, top // 2, top})]
    labels = [{"x": margin + i * (width - 2 * margin) / count, "label": format_day(r.day)}
              for i, r in enumerate(rows) if i in (0, len(rows) - 1) or
              (len(rows) > 2 and i == len(rows) // 2)]
    return {"width": width, "height": height, "margin": margin, "ticks": ticks,
            "labels": labels, "lines": {key: points(key) for key in keys}}


def step_points(corners):
    """SVG points of a line through (x, y) corners as steps: a count holds
    until the next day's x, then the line goes straight up or down (a
    diagonal would read as hosts changing gradually between two days).
    Corner i is point 2i."""
    drawn = []
    for i, (x, y) in enumerate(corners):
        if i:
            drawn.append((x, corners[i - 1][1]))
        drawn.append((x, y))
    return " ".join("%.1f,%.1f" % xy for xy in drawn)

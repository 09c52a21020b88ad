"""The adoption and exposure curves as pictures, with matplotlib (an
optional dependency of the officer tools: `pip install
'wlcg-package-reporter[plot]'`).

Counts change at discrete moments, so they are drawn as steps: a day's
count holds until the next day's, where the line goes straight up or down.
A diagonal from 3 to 1 across a day would read as hosts fixing themselves
gradually."""

# a day's count holds from its point to the next one's
STEPS = "steps-post"


class PlotUnavailable(Exception):
    pass


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise PlotUnavailable("--plot needs matplotlib: pip install "
                              "'wlcg-package-reporter[plot]' (or python3-matplotlib)")
    return plt, mdates, MaxNLocator


def _days(rows):
    import datetime
    return [datetime.datetime.fromtimestamp(row.day, datetime.timezone.utc).replace(tzinfo=None)
            for row in rows]


def plot_adoption(rows, title, path):
    """Draw hosts (and sites) meeting / not meeting the requirement per day
    (analysis.AdoptionDay rows), as steps, into path; the format follows its
    extension (.svg, .png, .pdf)."""
    plt, mdates, MaxNLocator = _pyplot()
    days = _days(rows)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.plot(days, [r.hosts_ok for r in rows], color="tab:green", marker=".",
              drawstyle=STEPS, label="hosts meeting it")
    axes.plot(days, [r.hosts_behind for r in rows], color="tab:red", marker=".",
              drawstyle=STEPS, label="hosts behind")
    axes.plot(days, [r.sites_ok for r in rows], color="tab:green", linestyle="--",
              drawstyle=STEPS, label="sites meeting it")
    axes.plot(days, [r.sites_behind for r in rows], color="tab:red", linestyle="--",
              drawstyle=STEPS, label="sites behind")
    axes.set_title("Adoption of %s" % title)
    _finish(plt, mdates, MaxNLocator, figure, axes, days, path)


def plot_exposure(rows, title, path):
    """Draw the hosts and sites exposed to an advisory per day
    (advisories.exposure.ExposureDay rows), as steps, into path."""
    plt, mdates, MaxNLocator = _pyplot()
    days = _days(rows)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.plot(days, [r.hosts for r in rows], color="tab:red", marker=".",
              drawstyle=STEPS, label="hosts exposed")
    axes.plot(days, [r.sites for r in rows], color="tab:red", linestyle="--",
              drawstyle=STEPS, label="sites with exposed hosts")
    axes.set_title("Exposure to %s" % title)
    _finish(plt, mdates, MaxNLocator, figure, axes, days, path)


def plot_burndown(rows, title, deadline, path):
    """Draw a campaign's burn-down (campaigns.BurnDay rows: hosts still
    exposed, sites not done), as steps, the deadline marked, into path."""
    import datetime
    plt, mdates, MaxNLocator = _pyplot()
    days = _days(rows)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.plot(days, [r.hosts for r in rows], color="tab:red", marker=".",
              drawstyle=STEPS, label="hosts still exposed")
    axes.plot(days, [r.sites for r in rows], color="tab:red", linestyle="--",
              drawstyle=STEPS, label="sites not done")
    axes.axvline(datetime.datetime.fromtimestamp(deadline, datetime.timezone.utc).replace(
        tzinfo=None), color="black", linestyle=":", label="deadline")
    axes.set_title("Campaign %s" % title)
    _finish(plt, mdates, MaxNLocator, figure, axes, days, path)


def _finish(plt, mdates, MaxNLocator, figure, axes, days, path):
    axes.set_xlabel("day (UTC, state at the end of the day)")
    axes.set_ylabel("count")
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, len(days) // 10)))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    figure.autofmt_xdate()
    figure.tight_layout()
    try:
        figure.savefig(path)
    finally:
        plt.close(figure)

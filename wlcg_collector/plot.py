"""The adoption curve as a picture, with matplotlib (an optional dependency
of the officer tools: `pip install 'wlcg-package-reporter[plot]'`)."""


class PlotUnavailable(Exception):
    pass


def plot_adoption(rows, title, path):
    """Draw hosts (and sites) meeting / not meeting the requirement per day
    (analysis.AdoptionDay rows) into path; the format follows its extension
    (.svg, .png, .pdf)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise PlotUnavailable("--plot needs matplotlib: pip install "
                              "'wlcg-package-reporter[plot]' (or python3-matplotlib)")
    import datetime
    days = [datetime.datetime.fromtimestamp(row.day, datetime.timezone.utc).replace(tzinfo=None)
            for row in rows]
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.plot(days, [r.hosts_ok for r in rows], color="tab:green", marker=".",
              label="hosts meeting it")
    axes.plot(days, [r.hosts_behind for r in rows], color="tab:red", marker=".",
              label="hosts behind")
    axes.plot(days, [r.sites_ok for r in rows], color="tab:green", linestyle="--",
              label="sites meeting it")
    axes.plot(days, [r.sites_behind for r in rows], color="tab:red", linestyle="--",
              label="sites behind")
    axes.set_title("Adoption of %s" % title)
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

#!/usr/bin/env python3
"""Officer query timings on a large synthetic fleet (default 10,000 hosts x
~1,500 packages, 90 days, 50 staged upgrades), on SQLite and, when it is
reachable, on the local MariaDB.

    python3 bench/queries.py [--hosts N] [--backend sqlite|mysql|both] [--json]

Targets (from the officer tools' requirements): compare against a 50-line
baseline < 1 s, state --at < 50 ms, adoption over 90 days < 2 s.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.fleet import DAY, Fleet, load_history  # noqa: E402
from wlcg_collector import analysis  # noqa: E402
from wlcg_collector.baselines import parse_baseline, parse_requirement  # noqa: E402
from wlcg_collector.storage import open_store  # noqa: E402

TARGETS = {"compare_s": 1.0, "state_at_ms": 50.0, "adoption_90d_s": 2.0, "changes_s": None}


def timed(function, repeat=3):
    """Median wall time of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def mysql_scratch():
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
    from helpers import ScratchMySQL, mysql_available
    if not mysql_available():
        return None
    return ScratchMySQL()


def measure(store, fleet, log):
    requirements = parse_baseline(fleet.baseline_text(), "bench")
    middle = fleet.start + fleet.days // 2 * DAY
    results = {}
    seconds, (hosts, rows) = timed(lambda: analysis.compliance(store, requirements, middle))
    results["compare_s"] = seconds
    log("compare: %d hosts x %d requirements -> %d rows in %.3f s"
        % (len(hosts), len(requirements), len(rows), seconds))
    host = store.find_host("wn%05d.site%03d.example.org" % (7, 7 % fleet.sites))
    seconds, state = timed(lambda: store.state(host, middle), repeat=5)
    results["state_at_ms"] = seconds * 1000
    log("state --at: %d packages in %.1f ms" % (len(state), seconds * 1000))
    name, version, arch = fleet.staged[0]
    requirement = parse_requirement("%s >= %s" % (name, version.split(":", 1)[1] + ".1"))
    seconds, rows = timed(lambda: analysis.adoption(
        store, requirement, fleet.start, fleet.start + (fleet.days - 1) * DAY))
    results["adoption_90d_s"] = seconds
    log("adoption over %d days: %d..%d hosts ok in %.3f s"
        % (len(rows), rows[0]["hosts_ok"], rows[-1]["hosts_ok"], seconds))
    since = fleet.start + (fleet.days - 7) * DAY
    seconds, rows = timed(lambda: analysis.fleet_changes(store, since, package=name), repeat=1)
    results["changes_s"] = seconds
    log("changes --since (last 7 days) --package %s: %d rows in %.3f s"
        % (name, len(rows), seconds))
    return results


def run_backend(backend, args, log):
    fleet = Fleet(hosts=args.hosts, packages=args.packages, days=args.days)
    scratch, directory = None, None
    if backend == "sqlite":
        directory = tempfile.mkdtemp(prefix="wlcg-bench-")
        url = "sqlite:///%s" % os.path.join(directory, "bench.db")
    else:
        scratch = mysql_scratch()
        if scratch is None:
            log("mysql: MariaDB not reachable on 127.0.0.1:3306, skipped")
            return None
        url = scratch.url
    store = open_store(url)
    try:
        store.init_schema()
        start = time.perf_counter()
        load_history(store, fleet)
        counts = store.row_counts()
        log("%s: loaded %d hosts, %d packages, %d install rows in %.0f s"
            % (backend, counts["hosts"], counts["packages"], counts["installs"],
               time.perf_counter() - start))
        return measure(store, fleet, lambda m: log("%s: %s" % (backend, m)))
    finally:
        store.close()
        if scratch is not None:
            scratch.close()
        if directory is not None:
            shutil.rmtree(directory)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--packages", type=int, default=1500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--backend", choices=("sqlite", "mysql", "both"), default="both")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    log = (lambda m: sys.stderr.write(m + "\n")) if args.json else print
    backends = ("sqlite", "mysql") if args.backend == "both" else (args.backend,)
    results = {}
    for backend in backends:
        measured = run_backend(backend, args, log)
        for key, value in (measured or {}).items():
            results[("" if backend == "sqlite" else "mysql_") + key] = round(value, 4)
    if args.json:
        print(json.dumps(results, sort_keys=True))
        return 0
    print("\n%-22s %10s %10s" % ("measure", "value", "target"))
    for key in sorted(results):
        target = TARGETS.get(key.replace("mysql_", ""))
        print("%-22s %10.3f %10s" % (key, results[key], "< %g" % target if target else "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

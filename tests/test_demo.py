"""The README's first commands work on this machine: `make demo` (this
host reporting to a local collector) and `make demo-grid` (a grid of real
signed reports, built small here)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import ROOT, run_cli


def test_demo_reports_this_host_to_a_local_collector(tmp_path):
    # its own process group, so that a step that hangs takes its collector
    # with it when the group is killed, and the work directory stays behind
    # in tmp_path for the failure to show
    proc = subprocess.Popen([os.path.join(ROOT, "demo", "run")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            env=dict(os.environ, TMPDIR=str(tmp_path),
                                     PYTHON=os.environ.get("PYTHON", "python3")))
    try:
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        logs = sorted(tmp_path.glob("wlcg-demo.*/serve.log"))
        raise AssertionError("demo/run still running after 120 s\nstdout:\n%s\nstderr:\n%s\n"
                             "collector log:\n%s" % (
                                 stdout.decode(), stderr.decode(),
                                 logs[0].read_text() if logs else "(none)"))
    out = stdout.decode()
    assert proc.returncode == 0, stderr.decode()
    assert "delivered" in out
    lines = out.splitlines()
    assert "made the host key" in out  # in the demo's own directory
    hosts = lines[lines.index("== wlcg-collector hosts") + 2].split()
    # signed by its new host key, pinned on this first report
    assert hosts[0] == "DEMO" and int(hosts[-2]) > 0 and hosts[-1] == "pinned"
    report = lines[lines.index("== wlcg-collector reports " + hosts[1]) + 2].split()
    assert report[-4:] == [hosts[-2], "true", "applied", "0"]
    # the example baseline is loaded and the compliance table printed
    summary = lines[lines.index("== wlcg-collector compare osg-3.5.31") + 1:][:2]
    assert summary[0].split() == ["SITE", "HOSTS", "APPLICABLE", "BEHIND", "COMPLIANT"]
    assert summary[1].split()[:2] == ["DEMO", "1"]
    assert lines[-1] == "== stopping the collector"
    assert not list(tmp_path.glob("wlcg-demo.*")), "the demo left its work directory"


# ---------------------------------------------------------------- make demo-grid

# (small: the suite builds it twice)
HOSTS, SITES, DAYS, SEED = 14, 5, 3, 7
GRID = ["--hosts", str(HOSTS), "--sites", str(SITES), "--days", str(DAYS), "--seed", str(SEED),
        "--jobs", "2"]


def build_grid(directory, end, packages, keys=()):
    """demo/grid.py's small grid, built only (what `make demo-grid
    GRID_ARGS=--no-serve` runs), its rpm packages kept in (or taken from)
    `packages`, with the collector keys in `keys` when given; its
    database URL."""
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "demo", "grid.py"), "--no-serve",
                           "--dir", str(directory), "--end", end, "--packages",
                           str(packages)] + GRID + (["--keys", str(keys)] if keys else []),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    assert "grid: stored in" in proc.stdout.decode()
    return "sqlite:///%s" % directory.joinpath("collector.db")


def answer(url, *args):
    code, out, err = run_cli(["--db", url] + list(args) + ["--format", "json"])
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    # the last day fixed once, so that the two builds date their reports alike
    end = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    # (the second build takes the packages the first built: the same answers
    # from them show the kept packages are those a build makes)
    packages = tmp_path_factory.mktemp("packages")
    first_dir = tmp_path_factory.mktemp("grid")
    first = build_grid(first_dir, end, packages)
    assert len(os.listdir(str(packages))) == 1
    # (and the first build's collector keys: a build that makes none)
    keys = first_dir / "keys"
    made = {name: keys.joinpath(name).read_bytes() for name in ("collector.key", "collector.pem")}
    second_dir = tmp_path_factory.mktemp("grid")
    second = build_grid(second_dir, end, packages, keys=keys)
    assert not second_dir.joinpath("keys").exists()
    assert made == {name: keys.joinpath(name).read_bytes() for name in made}
    sys.path.insert(0, os.path.join(ROOT, "demo"))
    try:
        import grid as builder
    finally:
        sys.path.remove(os.path.join(ROOT, "demo"))
    plan = builder.plan_grid(HOSTS, SITES, DAYS, SEED, builder.day_arg(end))
    return first, second, plan


def test_grid_holds_what_it_promises(grid):
    url, _, plan = grid
    hosts = answer(url, "hosts")
    assert len(hosts) == len(plan["hosts"]) == HOSTS
    # several OS families, rpm and dpkg, from the captured package lists
    systems = {host["system"] for host in hosts}
    assert len(systems) >= 3, systems
    assert {host["packager"] for host in hosts} == {"rpm", "dpkg"}
    assert min(int(host["packages"]) for host in hosts) > 90
    # history: the staged upgrades hosts took after their first report
    upgrades = [row for row in answer(url, "changes", "--since", "2000-01-01")
                if row["action"] == "upgraded"]
    staged = {(p["host"], source) for p in plan["hosts"] for source, day in p["staged"].items()
              if day is not None and 0 < day <= p["last"]}
    assert staged and {(row["host"]) for row in upgrades} == {h for h, _ in staged}
    # the misspelt site, with the name it should have been
    site, typo = plan["typo"]
    unknown = answer(url, "sites", "--unknown")
    assert [row["site"] for row in unknown] == [typo]
    assert site in str(unknown[0]["suggestions"])
    # silent hosts and the site gone silent (the days the plan left them silent)
    # (more than 2 days: the hosts that report reported on the last day,
    # yesterday, at any time of it, so within 48 hours of now; the silent
    # ones last on the first, more than 2 days ago. With 1 day, yesterday's
    # reports sent earlier in the day than now count as silent too, and
    # late in the day every site did)
    stale = answer(url, "stale", "--days", "2")
    # (a site whose hosts are all silent is one row, without a host)
    silent_sites = {row["site"] for row in stale if row["host"] is None}
    silent = {row["host"] for row in stale if row["host"]}
    quiet = {p["host"] for p in plan["hosts"] if p["last"] < 2 and p["site"] not in silent_sites}
    assert quiet and quiet <= silent
    assert plan["silent_site"] in silent_sites
    # the reinstalled host: its new key's reports wait in the quarantine
    held = answer(url, "quarantine")
    assert {(row["host"], row["kind"]) for row in held} == {(plan["reinstalled"], "key change")}
    # the vendors' advisories, and hosts exposed to them
    assert len(answer(url, "advisories", "list")) >= 10
    exposed = answer(url, "vulnerable", "--rows")
    assert exposed and {row["host"] for row in exposed} <= {h["host"] for h in hosts}


def test_grid_same_seed_same_answers(grid):
    first, second, plan = grid
    # what does not hang on keys made at random nor on when ingest ran
    volatile = {"received", "fingerprint", "id", "silent_for", "digest", "reason"}

    def answers(url):
        result = {}
        for args in (["hosts"], ["sites"], ["sites", "--unknown"], ["stale", "--days", "1"],
                     ["quarantine"], ["vulnerable", "--rows"],
                     ["changes", "--since", "2000-01-01"]):
            rows = answer(url, *args)
            result[" ".join(args)] = [{k: v for k, v in row.items() if k not in volatile}
                                      for row in rows]
        for host in plan["hosts"][:6]:
            result[host["host"]] = answer(url, "state", host["host"])
        return result
    assert answers(first) == answers(second)

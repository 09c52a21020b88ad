"""The README's first command, `make demo`, works on this machine."""

import os
import subprocess

from helpers import ROOT


def test_demo_reports_this_host_to_a_local_collector():
    proc = subprocess.run([os.path.join(ROOT, "demo", "run")], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120,
                          env=dict(os.environ, PYTHON=os.environ.get("PYTHON", "python3")))
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
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
    assert summary[0].split() == ["SITE", "HOSTS", "BEHIND", "COMPLIANT"]
    assert summary[1].split()[:2] == ["DEMO", "1"]
    assert lines[-1] == "== stopping the collector"

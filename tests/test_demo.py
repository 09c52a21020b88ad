"""The README's first command, `make demo`, works on this machine."""

import os
import signal
import subprocess

from helpers import ROOT


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

"""The real reporter sending to a running `wlcg-collector serve`, then the
officer's `state` returning exactly what was installed."""

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from helpers import (RPM_PACKAGES, ROOT, collector_command, installed_dpkg_packages, rpm_evr,
                     run_cli, run_reporter, write_config)
from wlcg_collector.config import load_config
from wlcg_collector.db import open_store


@pytest.fixture
def served(tmp_path, database_url, collector_keys):
    """(url, config path) of a collector served on a free loopback port."""
    config = write_config(tmp_path / "collector.conf", database_url, [collector_keys],
                          max_body=1024 * 1024)
    assert run_cli(["--config", config, "init-db"])[0] == 0
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "wlcg_collector", "--config", config,
                             "serve", "--port", "0"], stderr=subprocess.PIPE, env=env)
    line = proc.stderr.readline().decode()
    match = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
    assert match, line
    yield match.group(1), config
    proc.terminate()
    proc.wait(timeout=10)


def state(config, host, site="T2_TEST"):
    proc = collector_command(["--config", config, "state", host, "--site", site,
                              "--format", "json"])
    assert proc.returncode == 0, proc.stderr.decode()
    return [(r["name"], r["version"], r["arch"]) for r in json.loads(proc.stdout)]


def test_rpm_host_end_to_end(served, home, tmp_path, rpm_dbpath, collector_keys):
    url, config = served
    proc = run_reporter(["--site", "T2_TEST", "--host", "wn-rpm.example.org", "--cert",
                         collector_keys[1], "--url", url, "--spool", str(tmp_path / "spool"),
                         "--rpm", "rpm --dbpath " + rpm_dbpath], home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    expected = sorted(((n, rpm_evr(e, v, r), a) for n, e, v, r, a in RPM_PACKAGES),
                      key=lambda p: (p[0], p[2], p[1]))
    assert state(config, "wn-rpm.example.org") == expected
    # the report named each package's source package (format 2)
    store = open_store(load_config(config).database)
    try:
        rows = store.advisories.package_rows(names=["python3-scitokens", "bash"])
    finally:
        store.close()
    assert {(r.name, r.source) for r in rows.values()} == {
        ("python3-scitokens", "python-scitokens"), ("bash", "bash")}


def test_dpkg_host_end_to_end(served, home, tmp_path, collector_keys):
    url, config = served
    proc = run_reporter(["--site", "T2_TEST", "--host", "wn-deb.example.org", "--cert",
                         collector_keys[1], "--url", url, "--spool", str(tmp_path / "spool"),
                         "--packager", "dpkg"], home)
    assert proc.returncode == 0, proc.stderr.decode()
    installed = sorted(installed_dpkg_packages(), key=lambda p: (p[0], p[2], p[1]))
    assert state(config, "wn-deb.example.org") == installed


def test_too_large_body_gets_a_readable_413(served):
    url, _ = served
    request = urllib.request.Request(url + "?protocol=5", data=b"x" * (3 * 1024 * 1024),
                                     method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 413
    assert err.value.read() == b"report larger than 1048576 bytes\n"

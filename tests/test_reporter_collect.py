"""Collecting the package list from real package databases: an rpm database
built with rpmbuild, and this machine's own dpkg database."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

from helpers import (REPORTER, RPM_PACKAGES, RPM_SOURCES, clean_env, installed_dpkg_packages, parse_report,
                     refused_url, rpm_evr, run_reporter)


def dry_run(home, *args):
    proc = run_reporter(["--dry-run", "--site", "T2_TEST", "--host", "wn01.example.org"]
                        + list(args), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    return parse_report(proc.stdout.decode())


def expected_rpm_lines():
    """The database's packages as the reporter's lines: with their source
    package (format 2)."""
    return sorted((name, rpm_evr(epoch, version, release), arch, RPM_SOURCES.get(name, name))
                  for name, epoch, version, release, arch in RPM_PACKAGES)


def test_rpm_database(home, rpm_dbpath):
    headers, packages = dry_run(home, "--packager", "rpm", "--rpm", "rpm --dbpath " + rpm_dbpath)
    assert packages == expected_rpm_lines()
    assert not any(name == "gpg-pubkey" for name, _, _, _ in packages)
    # what the database really holds, pubkey included, to show it was left out
    listed = subprocess.run(["rpm", "--dbpath", rpm_dbpath, "-qa"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, check=True).stdout.decode()
    assert "gpg-pubkey-" in listed
    names = [name for name, _, _, _ in packages]
    assert names.count("kernel") == 2 and names.count("glibc") == 2
    assert ("libstdc++_compat.x", "2:11.4.1-3.el9", "x86_64", "libstdc++_compat.x") in packages
    assert ("python3-scitokens", "0:1.8.1~rc1-1.el9", "noarch", "python-scitokens") in packages
    assert ("htcondor", "0:24.0.1^20240910git1a2b3c-1.el9", "x86_64", "htcondor") in packages
    assert headers["packager"] == "rpm"


def test_headers(home, rpm_dbpath):
    before = int(time.time())
    headers, _ = dry_run(home, "--rpm", "rpm --dbpath " + rpm_dbpath, "--tag", "worker nodes")
    uname = os.uname()
    assert headers["site"] == "T2_TEST"
    assert headers["host"] == "wn01.example.org"
    assert headers["kernel"] == uname.release
    assert headers["arch"] == uname.machine
    assert headers["version"] == "2"
    assert headers["reporter"].startswith("wlcg-package-reporter ")
    assert headers["tag"] == "worker nodes"
    assert before <= int(headers["ts"]) <= int(time.time())
    with open("/etc/os-release") as handle:
        fields = dict(line.split("=", 1) for line in handle.read().splitlines() if "=" in line)
    assert headers["system"] == "%s %s" % (fields["NAME"].strip('"'), fields["VERSION_ID"].strip('"'))


def test_auto_takes_rpm_when_it_lists_packages(home, rpm_dbpath):
    headers, packages = dry_run(home, "--rpm", "rpm --dbpath " + rpm_dbpath)
    assert headers["packager"] == "rpm"
    assert packages == expected_rpm_lines()


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="not a dpkg machine")
def test_this_machines_dpkg_database(home):
    headers, packages = dry_run(home, "--packager", "dpkg")
    assert headers["packager"] == "dpkg"
    # the source of each, as dpkg's own ${source:Package} names it
    expected = installed_dpkg_packages(sources=True)
    assert len(expected) > 50
    assert packages == expected
    assert any(name != source for name, _, _, source in packages)


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="not a dpkg machine")
def test_auto_takes_dpkg_when_rpm_lists_nothing(home, tmp_path):
    empty = tmp_path / "emptydb"
    empty.mkdir()
    headers, packages = dry_run(home, "--rpm", "rpm --dbpath %s" % empty)
    assert headers["packager"] == "dpkg"
    assert packages == installed_dpkg_packages(sources=True)


def test_root_reports_an_image(home, tmp_path, rpm_dbpath):
    image = tmp_path / "image"
    (image / "etc").mkdir(parents=True)
    (image / "etc" / "os-release").write_text('NAME="AlmaLinux"\nVERSION_ID="9.4"\n')
    shutil.copytree(rpm_dbpath, str(image / "var" / "lib" / "rpm"))
    headers, packages = dry_run(home, "--root", str(image), "--packager", "rpm",
                                "--rpm", "rpm --dbpath /var/lib/rpm")
    assert headers["system"] == "AlmaLinux 9.4"
    assert packages == expected_rpm_lines()


def test_rpm_failure_is_exit_3(home):
    proc = run_reporter(["--dry-run", "--site", "S", "--packager", "rpm", "--rpm", "/bin/false"],
                        home)
    assert proc.returncode == 3
    assert proc.stdout == b""
    assert proc.stderr.decode().splitlines() == [
        "wlcg-package-reporter: rpm failed with exit code 1"]


def test_missing_package_tool_is_exit_3(home):
    proc = run_reporter(["--dry-run", "--site", "S", "--packager", "dpkg",
                         "--dpkg-query", "/nonexistent/dpkg-query"], home)
    assert proc.returncode == 3
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and "dpkg-query not found" in lines[0]


def test_commands_are_not_taken_from_path(home, tmp_path):
    # A dpkg-query planted in $PATH must not be run: only system directories count.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    planted = bindir / "dpkg-query"
    marker = tmp_path / "ran"
    planted.write_text("#!/bin/sh\ntouch %s\n" % marker)
    planted.chmod(0o755)
    proc = run_reporter(["--dry-run", "--site", "S", "--packager", "dpkg"], home,
                        env_extra={"PATH": "%s:/usr/bin:/bin" % bindir})
    assert proc.returncode == 0
    assert not marker.exists()


def test_no_site_is_a_usage_error(home):
    proc = run_reporter(["--dry-run"], home)
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1
    assert "--site" in proc.stderr.decode()


@pytest.mark.parametrize("site", ["T2 EXAMPLE", "site;rm -rf", ""])
def test_bad_site_names_are_refused(home, site):
    proc = run_reporter(["--dry-run", "--site", site], home)
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="already unprivileged: every test shows it")
def test_runs_as_an_unprivileged_user(collector_keys):
    """As `nobody`, with the system Python: report, fail to deliver, spool in
    the user's cache directory."""
    # pytest's own temporary directories are private to root: use an open one
    base = tempfile.mkdtemp(prefix="wlcg-nobody-")
    try:
        os.chmod(base, 0o755)
        home = os.path.join(base, "home")
        os.mkdir(home)
        os.chown(home, 65534, 65534)
        script = os.path.join(base, "wlcg-package-reporter")
        cert = os.path.join(base, "collector.pem")
        shutil.copy(REPORTER, script)
        shutil.copy(collector_keys[1], cert)
        os.chmod(cert, 0o644)
        proc = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3",
             script, "--config", os.devnull, "--site", "T2_TEST", "--cert", cert,
             "--url", refused_url(), "--retries", "0", "--timeout", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(home), timeout=60)
        assert proc.returncode == 1, proc.stderr.decode()
        spool = os.path.join(home, ".cache", "wlcg-package-reporter")
        assert len([n for n in os.listdir(spool) if n.endswith(".p7m")]) == 1
        assert "kept in %s" % spool in proc.stderr.decode()
    finally:
        shutil.rmtree(base)


def test_report_format_1_for_older_collectors(home, rpm_dbpath, tmp_path):
    headers, packages = dry_run(home, "--rpm", "rpm --dbpath " + rpm_dbpath,
                                "--report-format", "1")
    assert headers["version"] == "1"
    assert packages == [p[:3] for p in expected_rpm_lines()]
    config = tmp_path / "reporter.conf"
    config.write_text("report-format = 3\n")
    proc = run_reporter(["--dry-run", "--site", "T2_TEST", "--config", str(config)], home)
    assert proc.returncode == 2
    assert proc.stderr.decode().endswith("report-format: must be 1 or 2, not '3'\n")

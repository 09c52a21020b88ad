"""The reporter signs its reports: the host key made on the first run, a
grid host certificate or a site key instead, and what it says when the
collector keeps a report for review. Real openssl; runs under Python 3.6
too."""

import os
import stat
import subprocess

import pytest

from helpers import OPENSSL, refused_url, run_reporter, unwrap

PROG = "wlcg-package-reporter: "


def subject(cert):
    return subprocess.run([OPENSSL, "x509", "-in", str(cert), "-noout", "-subject", "-nameopt",
                           "RFC2253"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()


def args(collector_keys, state, *more):
    return ["--site", "T2_TEST", "--host", "wn01.example.org", "--cert", collector_keys[1],
            "--state-dir", str(state)] + list(more)


def test_the_first_run_makes_the_host_key_and_signs_with_it(home, tmp_path, collector_keys):
    state = tmp_path / "state"
    out = tmp_path / "r.p7m"
    proc = run_reporter(args(collector_keys, state, "--output", str(out)), home)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
    key, cert = state / "host.key", state / "host.pem"
    assert stat.S_IMODE(os.stat(str(state)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(str(key)).st_mode) == 0o600
    assert subject(cert) == "subject=CN=wn01.example.org"
    plaintext, signer = unwrap(out.read_bytes(), *collector_keys)
    assert plaintext.startswith(b"#\n") and signer == cert.read_bytes()
    made = key.read_bytes()
    # the next run signs with the same key and never makes another
    assert run_reporter(args(collector_keys, state, "--output", str(out)), home).returncode == 0
    assert key.read_bytes() == made and unwrap(out.read_bytes(), *collector_keys)[1] == \
        cert.read_bytes()
    # a lost certificate is made again from the key: the same key, no change
    cert.unlink()
    assert run_reporter(args(collector_keys, state, "--output", str(out)), home).returncode == 0
    assert key.read_bytes() == made
    public = [subprocess.run([OPENSSL, "pkey", "-pubout", "-in", str(key)],
                             stdout=subprocess.PIPE, check=True).stdout,
              subprocess.run([OPENSSL, "x509", "-pubkey", "-noout", "-in", str(cert)],
                             stdout=subprocess.PIPE, check=True).stdout]
    assert public[0] == public[1]


def test_dry_run_makes_no_key(home, tmp_path, collector_keys):
    state = tmp_path / "state"
    proc = run_reporter(args(collector_keys, state, "--dry-run"), home)
    assert proc.returncode == 0 and proc.stdout.startswith(b"#\n") and not state.exists()


def test_a_lost_key_is_one_line_naming_it(home, tmp_path, collector_keys):
    state = tmp_path / "state"
    out = str(tmp_path / "r.p7m")
    assert run_reporter(args(collector_keys, state, "--output", out), home).returncode == 0
    (state / "host.key").unlink()
    proc = run_reporter(args(collector_keys, state, "--output", out), home)
    assert proc.returncode == 2
    line = proc.stderr.decode()
    assert line.count("\n") == 1 and line.startswith(PROG + "the host key %s is lost"
                                                     % (state / "host.key"))
    assert "restore the key from a backup, or remove %s" % (state / "host.pem") in line
    assert not (state / "host.key").exists()  # nothing made behind the admin's back


def test_a_grid_host_certificate_signs_instead(home, tmp_path, collector_keys):
    from helpers import make_tls_server_files
    key, cert, _ = make_tls_server_files(tmp_path / "grid")
    out = tmp_path / "r.p7m"
    state = tmp_path / "state"
    proc = run_reporter(args(collector_keys, state, "--host-cert", cert, "--host-key", key,
                             "--output", str(out)), home)
    assert proc.returncode == 0, proc.stderr.decode()
    with open(cert, "rb") as handle:
        assert unwrap(out.read_bytes(), *collector_keys)[1] == handle.read()
    assert not state.exists()
    proc = run_reporter(args(collector_keys, state, "--host-cert", cert, "--output", str(out)),
                        home)
    assert proc.returncode == 2 and "--host-key and --host-cert go together" in \
        proc.stderr.decode()
    proc = run_reporter(args(collector_keys, state, "--host-cert", cert, "--host-key",
                             str(tmp_path / "nope.key"), "--output", str(out)), home)
    assert proc.returncode == 2 and "host key %s is missing" % (tmp_path / "nope.key") in \
        proc.stderr.decode()


def test_a_site_key_made_once_signs_for_every_host(home, tmp_path, collector_keys):
    directory = tmp_path / "site"
    directory.mkdir()
    proc = run_reporter(["--site", "T2_TEST", "--make-site-key", str(directory)], home)
    assert proc.returncode == 0, proc.stderr.decode()
    key, cert = directory / "site.key", directory / "site.pem"
    assert stat.S_IMODE(os.stat(str(key)).st_mode) == 0o600
    assert subject(cert) == "subject=CN=wlcg-site:T2_TEST"
    assert "give both to every host of T2_TEST" in proc.stdout.decode()
    again = run_reporter(["--site", "T2_TEST", "--make-site-key", str(directory)], home)
    assert again.returncode == 2 and "a site key is made once" in again.stderr.decode()
    out = tmp_path / "r.p7m"
    proc = run_reporter(args(collector_keys, tmp_path / "state", "--site-key", str(key),
                             "--site-cert", str(cert), "--output", str(out)), home)
    assert proc.returncode == 0
    assert unwrap(out.read_bytes(), *collector_keys)[1] == cert.read_bytes()


def test_a_report_kept_for_review_is_delivered_and_said_once(collector, reporter_run,
                                                             collector_keys, tmp_path):
    """202: the collector keeps the report for the officer. Delivered (exit
    0, nothing spooled), and its one line said once a run, also for a
    spooled report answered the same."""
    spool = tmp_path / "spool"
    base = args(collector_keys, tmp_path / "state", "--spool", str(spool))
    line = (b"quarantined: signed by another key than the one pinned for this host "
            b"(SHA256 0123456789abcdef): the officer must accept the new key")
    assert reporter_run(base + ["--url", refused_url(), "--retries", "0"]).returncode == 1
    server = collector([(202, {}, line + b"\n")])
    run = reporter_run(base + ["--url", server.url])
    assert run.returncode == 0
    assert run.stderr.decode() == PROG + "collector: " + line.decode() + "\n"
    assert len(server.requests) == 2 and not [p for p in spool.iterdir()
                                              if p.name.endswith(".p7m")]


def test_a_notice_about_the_site_name_is_said_once_a_day(collector, reporter_run,
                                                         collector_keys, tmp_path):
    """200 with a line before "OK": the collector's word on --site (not on
    its list of sites). Said on the first run of a UTC day only (the state
    directory remembers the day), quietly again on the day's later runs."""
    state = tmp_path / "state"
    line = (b"site T2_TSET is not on the collector's list of sites (did you mean T2_TEST?): "
            b"check --site")
    server = collector([(200, {}, line + b"\nOK")] * 3 + [(200, {}, b"OK")])
    base = args(collector_keys, state) + ["--url", server.url]
    first = reporter_run(base)
    assert first.returncode == 0
    assert first.stderr.decode() == PROG + "collector: " + line.decode() + "\n"
    stamp = state / "collector-notice"
    assert stat.S_IMODE(os.stat(str(stamp)).st_mode) == 0o600
    again = reporter_run(base)
    assert again.returncode == 0 and again.stderr == b""
    # a new day: said again
    stamp.write_text("2020-01-01\n")
    assert reporter_run(base).stderr.decode() == PROG + "collector: " + line.decode() + "\n"
    # a plain OK says nothing
    assert reporter_run(base).stderr == b""
    assert len(server.requests) == 4


def test_planted_links_in_the_site_key_directory(home, tmp_path):
    """--make-site-key (often run as root) where someone planted links: a
    link at site.pem.tmp (a name once written through, then made 0644) is
    never touched; a link at site.key or site.pem, even dangling, is
    refused and never followed."""
    directory = tmp_path / "site"
    directory.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("secret\n")
    victim.chmod(0o600)
    (directory / "site.pem.tmp").symlink_to(victim)
    proc = run_reporter(["--site", "T2_TEST", "--make-site-key", str(directory)], home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert victim.read_text() == "secret\n" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert subject(directory / "site.pem") == "subject=CN=wlcg-site:T2_TEST"
    assert stat.S_IMODE(os.stat(str(directory / "site.pem")).st_mode) == 0o644
    other = tmp_path / "other"
    other.mkdir()
    elsewhere = tmp_path / "elsewhere"
    for name in ("site.key", "site.pem"):
        (other / name).symlink_to(elsewhere)
        proc = run_reporter(["--site", "T2_TEST", "--make-site-key", str(other)], home)
        line = proc.stderr.decode()
        assert proc.returncode == 2 and line.count("\n") == 1, line
        assert "exists already (or is a symlink): a site key is made once" in line
        assert not os.path.lexists(str(elsewhere)) and os.listdir(str(other)) == [name]
        (other / name).unlink()


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770], ids="{:04o}".format)
def test_a_site_key_directory_others_can_write_is_refused(home, tmp_path, mode):
    directory = tmp_path / "site"
    directory.mkdir()
    directory.chmod(mode)
    proc = run_reporter(["--site", "T2_TEST", "--make-site-key", str(directory)], home)
    line = proc.stderr.decode()
    assert proc.returncode == 2 and line.count("\n") == 1, line
    assert line.startswith(PROG + "--make-site-key %s is writable by group or others (mode "
                                  "%04o): another user could swap the key files there"
                           % (directory, mode))
    assert os.listdir(str(directory)) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_site_key_directory_of_another_user_is_refused(home, tmp_path):
    directory = tmp_path / "site"
    directory.mkdir()
    os.chown(str(directory), 65534, 65534)
    proc = run_reporter(["--site", "T2_TEST", "--make-site-key", str(directory)], home)
    assert proc.returncode == 2 and "--make-site-key %s belongs to uid 65534, not to root or " \
                                    "this user" % directory in proc.stderr.decode()
    assert os.listdir(str(directory)) == []


def test_openssl_writes_the_host_key_to_no_path(reporter_module, reporter_run, tmp_path,
                                               collector_keys, monkeypatch):
    """The host key made on the first run, and its certificate made again
    when lost: openssl hands both back on its stdout (the reporter writes
    the files), the key never in a file openssl opened."""
    given = []
    real_run_command = reporter_module.run_command

    def spy(argv, what, stdin_bytes=None):
        given.append(list(argv))
        return real_run_command(argv, what, stdin_bytes)
    monkeypatch.setattr(reporter_module, "run_command", spy)
    state = tmp_path / "state"
    out = str(tmp_path / "r.p7m")
    assert reporter_run(args(collector_keys, state, "--output", out)).returncode == 0
    (state / "host.pem").unlink()
    run = reporter_run(args(collector_keys, state, "--output", out))
    assert run.returncode == 0, run.stderr.decode()
    made = [argv for argv in given if "genpkey" in argv or "req" in argv]
    assert len(made) == 3 and not [a for argv in made for a in argv
                                   if a in ("-keyout", "-out") or str(state) in a], made
    assert stat.S_IMODE(os.stat(str(state / "host.key")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(state / "host.pem")).st_mode) == 0o644

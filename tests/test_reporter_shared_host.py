"""The reporter on a host it shares with others: directories and files a
neighbour could have touched, commands root would run, text from the
collector, proxy passwords. (Runs as root here, as it does in CI: root
can hand files to other users with chown to play the neighbour.)"""

import os
import stat
import threading

import pytest

from helpers import refused_url, run_reporter, unwrap

PROG = "wlcg-package-reporter: "
NEIGHBOUR = 54321  # a uid of nobody's


@pytest.fixture
def base(collector_keys, tmp_path):
    def args(url, *more):
        return ["--site", "T2_TEST", "--host", "wn01.example.org", "--cert", collector_keys[1],
                "--url", url, "--spool", str(tmp_path / "spool"), "--state-dir",
                str(tmp_path / "state"), "--retries", "0"] + list(more)
    return args


def spool_with_one_report(reporter_run, base, tmp_path):
    assert reporter_run(base(refused_url())).returncode == 1
    [entry] = [p for p in (tmp_path / "spool").iterdir() if p.name.endswith(".p7m")]
    return entry


def test_a_spool_others_may_write_is_not_used(reporter_run, base, tmp_path, collector):
    entry = spool_with_one_report(reporter_run, base, tmp_path)
    (tmp_path / "spool").chmod(0o777)
    server = collector()
    run = reporter_run(base(server.url))
    assert run.returncode == 0 and len(server.requests) == 1  # its own report only
    assert "spool %s is writable by group or others (mode 0777)" % (tmp_path / "spool") in \
        run.stderr.decode()
    assert entry.exists()
    run = reporter_run(base(refused_url()))
    assert run.returncode == 1 and "nor spool it" in run.stderr.decode()
    (tmp_path / "spool").chmod(0o700)
    os.chown(str(tmp_path / "spool"), NEIGHBOUR, -1)
    run = reporter_run(base(server.url))
    assert "belongs to uid %d" % NEIGHBOUR in run.stderr.decode()


def test_planted_entries_are_neither_followed_nor_waited_for(reporter_run, base, tmp_path,
                                                             collector, collector_keys):
    """A symlink to a file the reporter may read (sent as a report before)
    and a FIFO (the run hung) are skipped; the real entry is sent."""
    entry = spool_with_one_report(reporter_run, base, tmp_path)
    waiting = entry.read_bytes()
    secret = tmp_path / "secret"
    secret.write_bytes(b"root's secret\n")
    spool = tmp_path / "spool"
    os.symlink(str(secret), str(spool / "0000000000000000-1.p7m"))
    os.mkfifo(str(spool / "0000000000000001-1.p7m"))
    server = collector()
    done = []
    runner = threading.Thread(target=lambda: done.append(reporter_run(base(server.url))))
    runner.start()
    runner.join(60)
    assert done, "the run hung on a FIFO in the spool"
    assert done[0].returncode == 0
    bodies = server.bodies()
    assert b"root's secret" not in b"".join(bodies) and len(bodies) == 2
    assert bodies[0] == waiting and not entry.exists()
    stderr = done[0].stderr.decode()
    assert stderr.count("cannot read spooled report") == 2


def test_a_planted_lock_symlink_is_not_followed(reporter_run, base, tmp_path, collector):
    entry = spool_with_one_report(reporter_run, base, tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    if os.path.lexists(str(tmp_path / "spool" / ".lock")):
        (tmp_path / "spool" / ".lock").unlink()
    os.symlink(str(victim), str(tmp_path / "spool" / ".lock"))
    server = collector()
    run = reporter_run(base(server.url))
    assert run.returncode == 0 and "cannot lock the spool" in run.stderr.decode()
    assert victim.read_text() == "keep me\n" and entry.exists()


def test_a_state_directory_of_someone_else_is_refused(reporter_run, base, tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(str(state), NEIGHBOUR, -1)
    run = reporter_run(base("http://unused.invalid/", "--output", str(tmp_path / "o")))
    assert run.returncode == 2
    assert "state directory %s belongs to uid %d" % (state, NEIGHBOUR) in run.stderr.decode()
    os.chown(str(state), os.geteuid(), -1)
    state.chmod(0o770)
    run = reporter_run(base("http://unused.invalid/", "--output", str(tmp_path / "o")))
    assert run.returncode == 2 and "writable by group or others" in run.stderr.decode()


def test_output_never_writes_through_a_planted_temporary_name(reporter_run, base, tmp_path,
                                                               collector_keys):
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    out = tmp_path / "out.p7m"
    # the name the temporary file used to have: .NAME.PID.tmp
    os.symlink(str(victim), str(tmp_path / (".out.p7m.%d.tmp" % os.getpid())))
    assert reporter_run(base("http://unused.invalid/", "--output", str(out))).returncode == 0
    assert victim.read_text() == "keep me\n"
    assert unwrap(out.read_bytes(), *collector_keys)[0].startswith(b"#\n")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize("owner,mode,message", [
    (None, 0o664, "is writable by group or others (mode 0664): chmod go-w {config}"),
    (NEIGHBOUR, 0o644, "belongs to uid %d: it must belong to root" % NEIGHBOUR),
])
def test_a_config_file_others_could_change_is_refused(home, tmp_path, owner, mode, message):
    config = tmp_path / "reporter.conf"
    config.write_text("site = T2_X\n")
    config.chmod(mode)
    if owner is not None:
        os.chown(str(config), owner, -1)
    proc = run_reporter(["--config", str(config), "--dry-run"], home)
    assert proc.returncode == 2
    assert proc.stderr.decode() == PROG + "config file %s %s\n" % (
        config, message.format(config=config))


def test_root_runs_only_commands_of_root(home, tmp_path, collector_keys):
    fake = tmp_path / "openssl"
    fake.write_text("#!/bin/sh\nexec /usr/bin/openssl \"$@\"\n")
    fake.chmod(0o755)
    os.chown(str(fake), NEIGHBOUR, -1)
    proc = run_reporter(["--site", "S", "--cert", collector_keys[1], "--openssl", str(fake),
                         "--output", str(tmp_path / "o")], home)
    assert proc.returncode == 2
    assert "--openssl command %s belongs to uid %d: it must belong to root" % (fake, NEIGHBOUR) \
        in proc.stderr.decode()


def test_text_from_the_collector_is_escaped(reporter_run, base, collector):
    server = collector([(301, {"Location": "http://x.invalid/\x1b[31mred"}, b"")])
    run = reporter_run(base(server.url))
    line = run.stderr.decode()
    assert "\x1b" not in line and "http://x.invalid/\\x1b[31mred" in line


def test_cron_keeps_proxy_passwords_out_of_the_cron_file(home, tmp_path, collector, base,
                                                         collector_keys):
    proc = run_reporter(["--site", "T2_X", "--cron"], home,
                        env_extra={"https_proxy": "http://user:secret@proxy.example.org:3128"})
    assert proc.returncode == 2 and b"secret" not in proc.stdout
    assert "holds a user name or password" in proc.stderr.decode()
    # the config file carries it instead, and the reporter uses it
    proxy = collector()
    config = tmp_path / "reporter.conf"
    config.write_text("http_proxy = %s\n" % proxy.url.rsplit("/", 1)[0])
    config.chmod(0o600)
    proc = run_reporter(["--config", str(config)] + base("http://collector.invalid/wlcg"), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert [r["path"] for r in proxy.requests] == ["http://collector.invalid/wlcg?protocol=5"]

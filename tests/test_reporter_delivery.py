"""Encryption with real openssl, and delivery to a local HTTP collector that
accepts, fails, rejects, hangs or refuses: exit codes, attempts, spool and
messages."""

import subprocess
import time

import pytest

from helpers import (OPENSSL, make_tls_server_files, parse_report, refused_url, run_reporter,
                     unwrap)

PROG = "wlcg-package-reporter: "


@pytest.fixture
def spool(tmp_path):
    return tmp_path / "spool"


@pytest.fixture
def report_args(collector_keys, spool):
    """Options of a run that reports this machine (dpkg) to a given URL."""
    def args(url, *more):
        return ["--site", "T2_TEST", "--host", "wn01.example.org", "--cert", collector_keys[1],
                "--url", url, "--spool", str(spool)] + list(more)
    return args


def spooled(spool):
    if not spool.exists():
        return []
    return sorted(p for p in spool.iterdir() if p.name.endswith(".p7m"))


def one_line(stderr):
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(PROG)
    return lines[0]


# ---------------------------------------------------------------- openssl

def test_encrypted_output_round_trip(home, tmp_path, collector_keys):
    key, cert = collector_keys
    out = tmp_path / "report.p7m"
    proc = run_reporter(["--site", "T2_TEST", "--host", "wn01.example.org", "--cert", cert,
                         "--output", str(out)], home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"" and proc.stderr == b""
    der = out.read_bytes()
    assert not der.startswith(b"#")
    plain = unwrap(der, key, cert)[0].decode()
    headers, packages = parse_report(plain)
    assert headers["site"] == "T2_TEST" and headers["host"] == "wn01.example.org"
    dry = run_reporter(["--site", "T2_TEST", "--host", "wn01.example.org", "--dry-run"], home)
    assert parse_report(dry.stdout.decode())[1] == packages
    # AES-256, not OpenSSL's old 3DES default
    structure = subprocess.run([OPENSSL, "cms", "-cmsout", "-print", "-inform", "DER", "-in",
                                str(out)], stdout=subprocess.PIPE, check=True).stdout.decode()
    assert "aes-256-cbc" in structure


def test_missing_certificate_is_exit_2(home, tmp_path):
    proc = run_reporter(["--site", "S", "--cert", str(tmp_path / "nope.pem"),
                         "--output", str(tmp_path / "out")], home)
    assert proc.returncode == 2
    assert "nope.pem not found" in one_line(proc.stderr)
    assert not (tmp_path / "out").exists()


def test_invalid_certificate_is_exit_2(home, tmp_path, collector_keys):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    for cert in (str(bad), collector_keys[0]):  # garbage, and a private key instead
        proc = run_reporter(["--site", "S", "--cert", cert, "--output", str(tmp_path / "o")], home)
        assert proc.returncode == 2
        assert "not a valid PEM X.509 certificate" in one_line(proc.stderr)


def test_openssl_failure_is_exit_3(home, tmp_path, collector_keys):
    """openssl fails at each step in turn: making the host key (which leaves
    no half-made key behind), signing, encrypting."""
    real = OPENSSL
    state = tmp_path / "state"
    for failing in ("req", "smime -sign", "smime -encrypt"):
        fake = tmp_path / "openssl"
        fake.write_text("#!/bin/sh\ncase \"$*\" in \"%s\"*) echo broken >&2; exit 4;; esac\n"
                        "exec %s \"$@\"\n" % (failing, real))
        fake.chmod(0o755)
        proc = run_reporter(["--site", "S", "--cert", collector_keys[1], "--openssl", str(fake),
                             "--state-dir", str(state), "--output", str(tmp_path / "o")], home)
        assert proc.returncode == 3
        assert one_line(proc.stderr) == PROG + "openssl %s failed with exit code 4: broken" \
            % failing
        assert not (tmp_path / "o").exists()
        if failing == "req":
            assert sorted(p.name for p in state.iterdir()) == []


# ---------------------------------------------------------------- HTTP

def test_delivered(home, collector, report_args, spool, collector_keys):
    server = collector()
    proc = run_reporter(report_args(server.url), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"" and proc.stderr == b""
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request["path"] == "/report?protocol=5"
    assert int(request["headers"]["Content-Length"]) == len(request["body"])
    headers, _ = parse_report(unwrap(request["body"], *collector_keys)[0].decode())
    assert headers["host"] == "wn01.example.org"
    assert spooled(spool) == []


def test_5xx_then_200_is_retried(collector, reporter_run, report_args, spool):
    server = collector([(503, {"Retry-After": "0"}, b"database down"),
                        (502, {}, b"bad gateway"), (200, {}, b"OK")])
    run = reporter_run(report_args(server.url, "--retries", "3"))
    assert run.returncode == 0, run.stderr.decode()
    assert run.stderr == b""
    assert len(server.requests) == 3
    assert len(set(server.bodies())) == 1  # the same report each time
    assert spooled(spool) == []
    # exponential backoff with up to 50 % jitter: 1-1.5 s, then 2-3 s
    assert len(run.slept) == 2
    assert 1 <= run.slept[0] <= 1.5 and 2 <= run.slept[1] <= 3


def test_the_script_retries_after_a_5xx(home, collector, report_args, spool):
    """The same, through the script itself and its real clock."""
    server = collector([(503, {"Retry-After": "0"}, b"database down"), (200, {}, b"OK")])
    proc = run_reporter(report_args(server.url, "--retries", "1"), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert len(server.requests) == 2
    assert server.requests[1]["time"] - server.requests[0]["time"] >= 1.0


def test_retry_after_is_honoured(collector, reporter_run, report_args):
    server = collector([(503, {"Retry-After": "3"}, b""), (200, {}, b"OK")])
    run = reporter_run(report_args(server.url, "--retries", "1"))
    assert run.returncode == 0
    assert run.slept == [3.0]


def test_retry_after_as_an_http_date_is_honoured(collector, reporter_run, report_args):
    from email.utils import formatdate
    began = time.time()
    when = formatdate(began + 20, usegmt=True)
    server = collector([(503, {"Retry-After": when}, b""), (200, {}, b"OK")])
    run = reporter_run(report_args(server.url, "--retries", "1"))
    ended = time.time()
    assert run.returncode == 0
    # the date less the moment the reporter read it (whole seconds in the
    # header; the backoff cap, 60 s, above), however long a loaded machine
    # took to get there
    assert len(run.slept) == 1 and began + 19 - ended <= run.slept[0] <= 20


def test_retry_after_past_the_cap_is_capped(collector, reporter_run, report_args):
    server = collector([(429, {"Retry-After": "86400"}, b"slow down"), (200, {}, b"OK")])
    run = reporter_run(report_args(server.url, "--retries", "1"))
    assert run.returncode == 0 and run.slept == [60.0]


def test_5xx_every_time_spools(collector, reporter_run, report_args, spool):
    server = collector([(500, {}, b"Internal Server Error")])
    run = reporter_run(report_args(server.url, "--retries", "2"))
    assert run.returncode == 1
    assert len(server.requests) == 3 and len(run.slept) == 2
    line = one_line(run.stderr)
    assert "after 3 attempt(s): HTTP 500" in line and "kept in " + str(spool) in line
    [path] = spooled(spool)
    assert path.read_bytes() == server.bodies()[0]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_4xx_is_reported_not_retried_not_spooled(home, collector, report_args, spool):
    server = collector([(400, {}, b"malformed report: no package section\n")])
    proc = run_reporter(report_args(server.url, "--retries", "3"), home)
    assert proc.returncode == 1
    assert len(server.requests) == 1
    line = one_line(proc.stderr)
    assert "rejected the report: HTTP 400 malformed report: no package section" in line
    assert spooled(spool) == []


def test_a_rejection_is_said_even_with_quiet(collector, reporter_run, report_args, spool):
    server = collector([(403, {}, b"plaintext reports are not accepted here")])
    run = reporter_run(report_args(server.url, "-q"))
    assert run.returncode == 1
    assert "rejected the report: HTTP 403" in one_line(run.stderr)


def test_hanging_collector_times_out_within_bound(home, collector, report_args, spool):
    server = collector(["hang"])
    start = time.monotonic()
    proc = run_reporter(report_args(server.url, "--timeout", "1", "--retries", "1"), home)
    elapsed = time.monotonic() - start
    assert proc.returncode == 1
    assert len(server.requests) == 2
    assert "no answer within 1 s" in one_line(proc.stderr)
    assert len(spooled(spool)) == 1
    # 2 attempts of 1 s and one backoff of at most 1.5 s, plus start-up
    assert elapsed < 15


def test_refused_connection_spools(reporter_run, report_args, spool):
    run = reporter_run(report_args(refused_url(), "--retries", "2"))
    assert run.returncode == 1
    line = one_line(run.stderr)
    assert "after 3 attempt(s)" in line and "Connection refused" in line
    assert len(spooled(spool)) == 1


def test_quiet_spooling_prints_nothing(home, report_args, spool):
    proc = run_reporter(report_args(refused_url(), "--retries", "0", "-q"), home)
    assert proc.returncode == 1
    assert proc.stderr == b""
    assert len(spooled(spool)) == 1


def test_spool_is_delivered_first_oldest_first(collector, reporter_run, report_args, spool):
    for _ in range(2):
        assert reporter_run(report_args(refused_url(), "--retries", "0")).returncode == 1
    waiting = [p.read_bytes() for p in spooled(spool)]
    assert len(waiting) == 2
    server = collector()
    run = reporter_run(report_args(server.url))
    assert run.returncode == 0, run.stderr.decode()
    assert run.stderr == b""
    bodies = server.bodies()
    assert len(bodies) == 3
    assert bodies[:2] == waiting
    assert bodies[2] not in waiting
    assert spooled(spool) == []


def test_spool_stops_at_first_failure_and_keeps_everything(collector, reporter_run, report_args,
                                                           spool):
    assert reporter_run(report_args(refused_url(), "--retries", "0")).returncode == 1
    server = collector([(503, {}, b"")])
    run = reporter_run(report_args(server.url, "--retries", "0"))
    assert run.returncode == 1
    assert len(server.requests) == 1  # only the oldest spooled report was tried
    assert len(spooled(spool)) == 2


def test_spool_is_bounded(reporter_run, report_args, spool):
    for _ in range(3):
        run = reporter_run(report_args(refused_url(), "--retries", "0", "--spool-max", "2"))
        assert run.returncode == 1
    assert len(spooled(spool)) == 2
    assert "dropped the oldest" in run.stderr.decode()


def test_rejected_spooled_report_is_dropped(collector, reporter_run, report_args, spool):
    assert reporter_run(report_args(refused_url(), "--retries", "0")).returncode == 1
    server = collector([(400, {}, b"cannot decrypt"), (200, {}, b"OK")])
    run = reporter_run(report_args(server.url))
    assert run.returncode == 0
    assert "rejected spooled report" in one_line(run.stderr)
    assert len(server.requests) == 2
    assert spooled(spool) == []


def test_a_spooled_report_that_cannot_be_removed_is_still_delivered(
        collector, reporter_run, report_args, spool, reporter_module, monkeypatch):
    """Removing a delivered spooled report fails (a read-only spool, say):
    the run still succeeds, says so once, and the report stays to be sent
    again (the collector answers a duplicate with 200 and stores nothing)."""
    assert reporter_run(report_args(refused_url(), "--retries", "0")).returncode == 1
    [waiting] = spooled(spool)
    server = collector()

    def refuse(path):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(reporter_module.os, "unlink", refuse)
    run = reporter_run(report_args(server.url))
    monkeypatch.undo()
    assert run.returncode == 0
    assert "cannot remove %s from the spool (Permission denied)" % waiting in \
        one_line(run.stderr)
    assert len(server.requests) == 2 and spooled(spool) == [waiting]


def test_a_run_that_finds_the_spool_locked_sends_only_its_own(collector, reporter_run,
                                                              report_args, spool):
    """Two runs at once: the one holding the spool's lock sends the spool;
    the other sends its own report and leaves the spool alone."""
    import fcntl
    import os
    assert reporter_run(report_args(refused_url(), "--retries", "0")).returncode == 1
    [waiting] = spooled(spool)
    server = collector()
    fd = os.open(str(spool / ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        run = reporter_run(report_args(server.url, "-v"))
    finally:
        os.close(fd)
    assert run.returncode == 0
    assert len(server.requests) == 1 and server.bodies()[0] != waiting.read_bytes()
    assert spooled(spool) == [waiting]
    assert "another run is sending the spool" in run.stderr.decode()
    # the lock released, the next run sends it first
    body = waiting.read_bytes()
    assert reporter_run(report_args(server.url)).returncode == 0
    assert server.bodies()[1] == body and len(server.requests) == 3
    assert spooled(spool) == []


def test_an_unexpected_error_is_one_line_and_exit_3(reporter_run, report_args,
                                                     reporter_module, monkeypatch):
    def broken(*args):
        raise TypeError("a bug")
    monkeypatch.setattr(reporter_module, "format_report", broken)
    run = reporter_run(report_args("http://unused.invalid/", "--dry-run"))
    assert run.returncode == 3
    assert one_line(run.stderr) == PROG + "unexpected error: TypeError: a bug"
    assert b"Traceback" not in run.stderr


def test_redirect_is_not_followed(home, collector, report_args, spool):
    server = collector([(301, {"Location": "http://elsewhere.invalid/"}, b"")])
    proc = run_reporter(report_args(server.url, "--retries", "3"), home)
    assert proc.returncode == 1
    assert len(server.requests) == 1
    assert "redirect to http://elsewhere.invalid/" in one_line(proc.stderr)
    assert len(spooled(spool)) == 1


def test_input_relays_an_encrypted_report(home, tmp_path, collector, report_args, spool):
    out = tmp_path / "offline.p7m"
    assert run_reporter(report_args("http://unused.invalid/", "--output", str(out)),
                        home).returncode == 0
    server = collector()
    proc = run_reporter(["--input", str(out), "--url", server.url, "--spool", str(spool)], home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert server.bodies() == [out.read_bytes()]


def test_input_refuses_plaintext(home, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("#\nsite: X\n#\nbash\t0:5-1\tx86_64\n#\n")
    proc = run_reporter(["--input", str(plain), "--url", "http://127.0.0.1:9/"], home)
    assert proc.returncode == 2
    assert "plaintext report" in one_line(proc.stderr)


def test_https_verified_against_capath(home, tmp_path, collector, report_args, spool):
    key, cert, capath = make_tls_server_files(tmp_path / "tls")
    server = collector(tls=(key, cert))
    proc = run_reporter(report_args(server.url, "--capath", capath), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert len(server.requests) == 1
    # a CA directory without the collector's CA: refused, not retried, kept
    other = tmp_path / "other-cas"
    other.mkdir()
    proc = run_reporter(report_args(server.url, "--capath", str(other), "--retries", "3"), home)
    assert proc.returncode == 1
    assert "TLS verification failed" in one_line(proc.stderr)
    assert len(server.requests) == 1
    assert len(spooled(spool)) == 1


def test_http_proxy_is_honoured(home, collector, report_args, spool):
    proxy = collector()
    proc = run_reporter(report_args("http://collector.invalid/wlcg"), home,
                        env_extra={"http_proxy": proxy.url.rsplit("/", 1)[0]})
    assert proc.returncode == 0, proc.stderr.decode()
    assert [r["path"] for r in proxy.requests] == ["http://collector.invalid/wlcg?protocol=5"]


# ---------------------------------------------------------------- config file

def test_config_file_supplies_options(home, tmp_path, collector, collector_keys, spool):
    server = collector()
    config = tmp_path / "reporter.conf"
    config.write_text("# site settings\nsite = T2_CONF\nurl = %s\ncert = %s\nspool = %s\n"
                      "retries = 0\n" % (server.url, collector_keys[1], spool))
    proc = run_reporter(["--config", str(config)], home)
    assert proc.returncode == 0, proc.stderr.decode()
    headers, _ = parse_report(unwrap(server.bodies()[0], *collector_keys)[0].decode())
    assert headers["site"] == "T2_CONF"
    # the command line wins over the file
    proc = run_reporter(["--config", str(config), "--site", "T2_ARGV"], home)
    headers, _ = parse_report(unwrap(server.bodies()[1], *collector_keys)[0].decode())
    assert headers["site"] == "T2_ARGV"


@pytest.mark.parametrize("text,message", [
    ("site = X\ncolour = blue\n", "reporter.conf:2: unknown option 'colour'"),
    ("site X\n", "reporter.conf:1: expected 'option = value'"),
    ("retries = many\n", "retries: invalid value 'many'"),
])
def test_bad_config_file_is_exit_2(home, tmp_path, text, message):
    config = tmp_path / "reporter.conf"
    config.write_text(text)
    proc = run_reporter(["--config", str(config), "--dry-run"], home)
    assert proc.returncode == 2
    assert message in one_line(proc.stderr)


def test_help_lists_exit_codes(home):
    proc = run_reporter(["--help"], home)
    assert proc.returncode == 0
    text = proc.stdout.decode()
    for code in ("0  delivered", "1  not delivered", "2  usage", "3  could not collect"):
        assert code in text


def test_version(home):
    proc = run_reporter(["--version"], home)
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("wlcg-package-reporter ")


def test_a_fifo_or_device_is_refused_as_output_or_input(home, tmp_path, collector_keys):
    """--output or --input naming a FIFO (whose open or read waits for the
    other end, without bound), a device or a directory: refused in one
    line, exit 2, without waiting; '-' is stdout or stdin."""
    import os
    import stat
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    for option, path in (("--output", fifo), ("--output", "/dev/null"),
                         ("--output", tmp_path), ("--input", fifo), ("--input", "/dev/zero")):
        more = ["--url", "http://127.0.0.1:9/"] if option == "--input" else []
        proc = run_reporter(["--site", "T2_TEST", "--cert", collector_keys[1], option,
                             str(path)] + more, home, timeout=60)
        line = proc.stderr.decode()
        assert proc.returncode == 2 and line.count("\n") == 1, (option, path, line)
        assert ("%s %s is not a regular file (a FIFO, a device or a directory)" % (option, path)
                in line), line
    assert stat.S_ISFIFO(os.stat(str(fifo)).st_mode)
    written = run_reporter(["--site", "T2_TEST", "--cert", collector_keys[1], "--output", "-"],
                           home)
    assert written.returncode == 0 and unwrap(written.stdout, *collector_keys)[0].startswith(
        b"#\n")
    sent = run_reporter(["--input", "-", "--url", refused_url(), "--retries", "0"], home,
                        input_bytes=written.stdout)
    assert sent.returncode == 1 and "kept in" in sent.stderr.decode()  # read, and spooled

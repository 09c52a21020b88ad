"""Encryption with real openssl, and delivery to a local HTTP collector that
accepts, fails, rejects, hangs or refuses: exit codes, attempts, spool and
messages."""

import subprocess
import time

import pytest

from helpers import (OPENSSL, decrypt, make_tls_server_files, parse_report, refused_url,
                     run_reporter)

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
    plain = decrypt(der, key, cert).decode()
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
    fake = tmp_path / "openssl"
    fake.write_text("#!/bin/sh\ncase \"$1\" in x509) exit 0;; esac\necho broken >&2\nexit 4\n")
    fake.chmod(0o755)
    proc = run_reporter(["--site", "S", "--cert", collector_keys[1], "--openssl", str(fake),
                         "--output", str(tmp_path / "o")], home)
    assert proc.returncode == 3
    assert one_line(proc.stderr) == PROG + "openssl smime -encrypt failed with exit code 4: broken"


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
    headers, _ = parse_report(decrypt(request["body"], *collector_keys).decode())
    assert headers["host"] == "wn01.example.org"
    assert spooled(spool) == []


def test_5xx_then_200_is_retried(home, collector, report_args, spool):
    server = collector([(503, {"Retry-After": "0"}, b"database down"),
                        (502, {}, b"bad gateway"), (200, {}, b"OK")])
    proc = run_reporter(report_args(server.url, "--retries", "3"), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert len(server.requests) == 3
    assert len(set(server.bodies())) == 1  # the same report each time
    assert spooled(spool) == []


def test_retry_after_is_honoured(home, collector, report_args):
    server = collector([(503, {"Retry-After": "3"}, b""), (200, {}, b"OK")])
    proc = run_reporter(report_args(server.url, "--retries", "1"), home)
    assert proc.returncode == 0
    gap = server.requests[1]["time"] - server.requests[0]["time"]
    assert gap >= 3.0


def test_5xx_every_time_spools(home, collector, report_args, spool):
    server = collector([(500, {}, b"Internal Server Error")])
    proc = run_reporter(report_args(server.url, "--retries", "2"), home)
    assert proc.returncode == 1
    assert len(server.requests) == 3
    line = one_line(proc.stderr)
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


def test_refused_connection_spools(home, report_args, spool):
    proc = run_reporter(report_args(refused_url(), "--retries", "2"), home)
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert "after 3 attempt(s)" in line and "Connection refused" in line
    assert len(spooled(spool)) == 1


def test_quiet_spooling_prints_nothing(home, report_args, spool):
    proc = run_reporter(report_args(refused_url(), "--retries", "0", "-q"), home)
    assert proc.returncode == 1
    assert proc.stderr == b""
    assert len(spooled(spool)) == 1


def test_spool_is_delivered_first_oldest_first(home, collector, report_args, spool):
    for _ in range(2):
        assert run_reporter(report_args(refused_url(), "--retries", "0"), home).returncode == 1
    waiting = [p.read_bytes() for p in spooled(spool)]
    assert len(waiting) == 2
    server = collector()
    proc = run_reporter(report_args(server.url), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    bodies = server.bodies()
    assert len(bodies) == 3
    assert bodies[:2] == waiting
    assert bodies[2] not in waiting
    assert spooled(spool) == []


def test_spool_stops_at_first_failure_and_keeps_everything(home, collector, report_args, spool):
    assert run_reporter(report_args(refused_url(), "--retries", "0"), home).returncode == 1
    server = collector([(503, {}, b"")])
    proc = run_reporter(report_args(server.url, "--retries", "0"), home)
    assert proc.returncode == 1
    assert len(server.requests) == 1  # only the oldest spooled report was tried
    assert len(spooled(spool)) == 2


def test_spool_is_bounded(home, report_args, spool):
    for _ in range(3):
        proc = run_reporter(report_args(refused_url(), "--retries", "0", "--spool-max", "2"), home)
        assert proc.returncode == 1
    assert len(spooled(spool)) == 2
    assert "dropped the oldest" in proc.stderr.decode()


def test_rejected_spooled_report_is_dropped(home, collector, report_args, spool):
    assert run_reporter(report_args(refused_url(), "--retries", "0"), home).returncode == 1
    server = collector([(400, {}, b"cannot decrypt"), (200, {}, b"OK")])
    proc = run_reporter(report_args(server.url), home)
    assert proc.returncode == 0
    assert "rejected spooled report" in one_line(proc.stderr)
    assert len(server.requests) == 2
    assert spooled(spool) == []


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
    headers, _ = parse_report(decrypt(server.bodies()[0], *collector_keys).decode())
    assert headers["site"] == "T2_CONF"
    # the command line wins over the file
    proc = run_reporter(["--config", str(config), "--site", "T2_ARGV"], home)
    headers, _ = parse_report(decrypt(server.bodies()[1], *collector_keys).decode())
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

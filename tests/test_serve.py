"""`wlcg-collector serve` driven for real on loopback: clients that trickle
their requests, more connections than the process has descriptors, a
cookie that is not ASCII. Each test is bounded in time and connections."""

import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from helpers import OPENSSL, ROOT, make_report, run_cli, write_config
from wlcg_collector.access import Access

TICKS = os.sysconf("SC_CLK_TCK")
PACKAGES = [("bash", "0:5.1.8-9.el9", "x86_64"), ("zlib", "0:1.2.11-40.el9", "x86_64")]


class Served(object):
    """A `wlcg-collector serve` process on a loopback port (with a lower
    open-file limit if given), its stderr collected."""

    def __init__(self, config, args=(), nofile=None):
        def lower_limit():  # in the child, before exec
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wlcg_collector", "--config", config, "serve",
             "--port", "0"] + list(args),
            stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=ROOT),
            preexec_fn=lower_limit if nofile else None)
        line = self.proc.stderr.readline().decode()
        assert "serving http://127.0.0.1:" in line, line + self.proc.stderr.read().decode()
        self.port = int(line.split("127.0.0.1:")[1].split("/")[0])
        self.log = []
        # the server logs every request: its stderr is read, or it would block
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self):
        for line in self.proc.stderr:
            self.log.append(line.decode("utf-8", "replace"))

    def cpu_seconds(self):
        """User and system time the server has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def post(self, body, timeout=10):
        request = urllib.request.Request("http://127.0.0.1:%d/?protocol=5" % self.port,
                                         data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def raw(self, request, timeout=10):
        """The status of the answer to a request sent as bytes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(request)
            answer = b""
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        return int(answer.split()[1])

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.reader.join(5)


@pytest.fixture
def config(tmp_path, database_url, collector_keys):
    path = write_config(tmp_path / "collector.conf", database_url, [collector_keys])
    assert run_cli(["--config", path, "init-db"])[0] == 0
    return path


@pytest.fixture
def served(config):
    made = []

    def start(*args, **options):
        made.append(Served(config, args, **options))
        return made[-1]

    yield start
    for server in made:
        server.close()


def encrypted_report(cert, host):
    plaintext = make_report(site="T2_SERVE", host=host, packages=PACKAGES)
    return subprocess.run([OPENSSL, "smime", "-encrypt", "-binary", "-aes256", "-outform", "DER",
                           cert], input=plaintext, stdout=subprocess.PIPE, check=True).stdout


def trickle(port, opening, seconds, outcome):
    """Send opening, then one byte every 0.5 s for at most seconds; put in
    outcome how long the server let it go on, and what it answered."""
    began = time.monotonic()
    answer = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(opening)
            while time.monotonic() - began < seconds:
                if select.select([sock], [], [], 0.5)[0]:
                    answer = sock.recv(4096)
                    break
                sock.sendall(b"x")
    except OSError:
        pass  # reset by the server: closed all the same
    outcome.append((time.monotonic() - began, answer))


def test_clients_that_trickle_hold_no_worker_and_meet_the_deadline(served, collector_keys):
    server = served("--timeout", "3")
    outcome = []
    # twice as many as the 8 workers: half trickle their headers, half a body
    openings = [b"POST /?protocol=5 HTTP/1.0\r\nX-Slow: "] * 8 + \
               [b"POST /?protocol=5 HTTP/1.0\r\nContent-Length: 1000\r\n\r\n"] * 8
    tricklers = [threading.Thread(target=trickle, args=(server.port, o, 20, outcome))
                 for o in openings]
    for thread in tricklers:
        thread.start()
    try:
        time.sleep(1)
        began = time.monotonic()
        assert server.post(encrypted_report(collector_keys[1], "wn01.example.org")) \
            == (200, b"OK")
        assert time.monotonic() - began < 10  # not after the slow ones (20 s)
    finally:
        for thread in tricklers:
            thread.join(30)
    # each is closed by the deadline on its whole request, however steadily it sends
    assert len(outcome) == 16
    assert max(seconds for seconds, _ in outcome) < 3 + 5
    assert all(answer == b"" or answer.startswith(b"HTTP/1.0 408 ") for _, answer in outcome)
    assert sum(answer.startswith(b"HTTP/1.0 408 ") for _, answer in outcome) >= 8


def test_more_idle_connections_than_descriptors(served, collector_keys):
    server = served(nofile=64)
    idle = []
    try:
        for _ in range(100):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(1)
        before = server.cpu_seconds()
        time.sleep(2)
        # holding them costs no CPU: no busy loop on accept
        assert server.cpu_seconds() - before < 0.5
        began = time.monotonic()
        assert server.post(encrypted_report(collector_keys[1], "wn02.example.org")) \
            == (200, b"OK")
        assert time.monotonic() - began < 10
        # the oldest idle connections made room; the newest are still open
        closed = 0
        for sock in idle:
            sock.settimeout(0.01)
            try:
                closed += sock.recv(1) == b""
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed += 1
        assert 100 - 64 <= closed < 100
        assert server.proc.poll() is None
        assert not any("Traceback" in line for line in server.log)
    finally:
        for sock in idle:
            sock.close()


def test_a_cookie_that_is_not_ascii_is_a_wrong_token(served):
    server = served()
    for cookie in (b"wlcg_officer=wrong", b"wlcg_officer=\xff", b"wlcg_officer=\xc3\xa9t\xc3\xa9",
                   b"other=\xff; wlcg_officer=\x80x"):
        assert server.raw(b"GET /officer/ HTTP/1.0\r\nCookie: " + cookie + b"\r\n\r\n") == 403
    assert not any("internal error" in line for line in server.log)


@pytest.mark.parametrize("cookie", ["wlcg_officer=\xff", "wlcg_officer=t\u00f6k",
                                    "wlcg_officer=\udcff"])
def test_a_token_that_is_not_ascii_is_no_identity(cookie):
    assert Access([], "tok").identity({"HTTP_COOKIE": cookie}) is None


def test_a_connection_limit_above_the_descriptor_limit_is_refused(config):
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        pytest.skip("no open-file limit")
    code, _, err = run_cli(["--config", config, "serve", "--port", "0",
                            "--max-connections", str(soft)])
    assert code == 2
    assert "max connections %d: the open-file limit of %d" % (soft, soft) in err
    assert err.count("\n") == 1
    code, _, err = run_cli(["--config", config, "serve", "--port", "0", "--timeout", "0"])
    assert code == 2 and "timeout 0: more than 0 seconds" in err

"""`wlcg-collector serve`'s server: a bounded pool of workers that idle
or slow connections cannot fill, a deadline on each request, a limit on
connections below the open-file limit, a backlog for bursts, escaped log
lines."""

import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from helpers import ROOT
from wlcg_collector import devserver


def hello(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body) + 2))])
    return [b"OK" + body]


@pytest.fixture
def server():
    made = devserver.make_server("127.0.0.1", 0, hello, workers=4, timeout=1.0)
    thread = threading.Thread(target=made.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield made
    made.shutdown()
    made.server_close()


def url(server, path="/"):
    return "http://127.0.0.1:%d%s" % (server.server_port, path)


def test_idle_connections_neither_block_requests_nor_make_threads(server):
    threads = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", server.server_port)) for _ in range(300)]
    try:
        time.sleep(0.3)
        began = time.monotonic()
        assert urllib.request.urlopen(url(server), timeout=10).read() == b"OK"
        assert time.monotonic() - began < 2
        # the pool's 4 workers at most, whatever the connections
        assert threading.active_count() <= threads + 4
        # idle ones are closed after the timeout
        time.sleep(2.5)
        idle[0].settimeout(1)
        assert idle[0].recv(1) == b""
    finally:
        for sock in idle:
            sock.close()


def test_a_burst_of_posts_is_answered(server):
    answers, errors = [], []

    def post(index):
        try:
            request = urllib.request.Request(url(server), data=b"-%d" % index, method="POST")
            answers.append(urllib.request.urlopen(request, timeout=30).read())
        except Exception as exc:  # the test counts them below
            errors.append(exc)
    posters = [threading.Thread(target=post, args=(i,)) for i in range(60)]
    for poster in posters:
        poster.start()
    for poster in posters:
        poster.join(60)
    assert errors == [] and sorted(answers) == sorted(b"OK-%d" % i for i in range(60))


def test_a_stalled_request_is_closed(server):
    sock = socket.create_connection(("127.0.0.1", server.server_port))
    try:
        sock.sendall(b"POST / HTTP/1.0\r\nContent-Length: 100\r\n\r\npartial")
        sock.settimeout(10)
        began = time.monotonic()
        answer = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        assert time.monotonic() - began < 6
        assert answer.startswith(b"HTTP/1.0 408 ")
    finally:
        sock.close()


def test_request_lines_are_logged_escaped(server, capsys):
    sock = socket.create_connection(("127.0.0.1", server.server_port))
    try:
        sock.sendall(b"GET /\x1b[31mred\rX HTTP/1.0\r\n\r\n")
        sock.settimeout(5)
        while sock.recv(4096):
            pass
    finally:
        sock.close()
    time.sleep(0.2)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[31mred" in err


def closed(sock):
    """Whether the server has closed sock (it sent nothing else here)."""
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_at_the_limit_the_oldest_silent_connections_go_first():
    made = devserver.make_server("127.0.0.1", 0, hello, workers=2, timeout=30,
                                 max_connections=10)
    thread = threading.Thread(target=made.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        started = socket.create_connection(("127.0.0.1", made.server_port))
        started.sendall(b"GET / HT")  # on its way: kept while silent ones remain
        time.sleep(0.5)
        silent = []
        for _ in range(15):
            silent.append(socket.create_connection(("127.0.0.1", made.server_port)))
            time.sleep(0.02)
        time.sleep(0.3)
        assert urllib.request.urlopen(url(made), timeout=5).read() == b"OK"
        time.sleep(0.2)
        gone = [closed(sock) for sock in silent]
        # 17 connections for 10 places: the 7 oldest silent ones
        assert gone == [True] * 7 + [False] * 8
        assert not closed(started)
        started.sendall(b"TP/1.0\r\n\r\n")
        started.settimeout(5)
        assert started.recv(4096).startswith(b"HTTP/1.0 200 ")
        for sock in silent + [started]:
            sock.close()
    finally:
        made.shutdown()
        made.server_close()


def test_a_body_over_max_body_is_answered_413_without_the_application():
    called = []

    def app(environ, start_response):
        called.append(environ["PATH_INFO"])
        return hello(environ, start_response)

    made = devserver.make_server("127.0.0.1", 0, app, workers=1, timeout=5, max_body=1024)
    thread = threading.Thread(target=made.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        request = urllib.request.Request(url(made), data=b"x" * 5000, method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=5)
        assert err.value.code == 413 and b"1024" in err.value.read()
        request = urllib.request.Request(url(made), data=b"x" * 1024, method="POST")
        assert urllib.request.urlopen(request, timeout=5).read() == b"OK" + b"x" * 1024
        assert called == ["/"]
    finally:
        made.shutdown()
        made.server_close()


def test_an_answer_the_client_does_not_take_is_cut_at_the_deadline():
    def big(environ, start_response):
        if environ["PATH_INFO"] == "/small":
            return hello(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (b"y" * 65536 for _ in range(4000))

    made = devserver.make_server("127.0.0.1", 0, big, workers=1, timeout=1.0)
    thread = threading.Thread(target=made.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stop = threading.Event()

    def take_slowly():
        # 160 KiB/s through a small window: each of the server's writes
        # finishes within the timeout, the whole answer (250 MiB) never would
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.connect(("127.0.0.1", made.server_port))
            sock.sendall(b"GET /big HTTP/1.0\r\n\r\n")
            sock.settimeout(1)
            while not stop.wait(0.1):
                try:
                    if not sock.recv(16384):
                        return
                except OSError:
                    return

    reader = threading.Thread(target=take_slowly, daemon=True)
    reader.start()
    try:
        time.sleep(2)
        # the one worker is free again for the next request
        began = time.monotonic()
        assert urllib.request.urlopen(url(made, "/small"), timeout=10).read() == b"OK"
        assert time.monotonic() - began < 5  # (held, it would wait for 250 MiB at 160 KiB/s)
    finally:
        stop.set()
        reader.join(5)
        made.shutdown()
        made.server_close()


ACCEPT_CHILD = """
import os
from wlcg_collector import devserver
def app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"OK"]
server = devserver.make_server("127.0.0.1", 0, app, workers=2, timeout=60)
# descriptors taken elsewhere in the process: fewer left than the limit assumed
hog = [os.open(os.devnull, os.O_RDONLY) for _ in range(40)]
print(server.server_port, flush=True)
server.serve_forever(0.05)
"""


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_the_server_backs_off_and_makes_room():
    proc = subprocess.Popen(
        [sys.executable, "-c", ACCEPT_CHILD], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=ROOT),
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
    idle = []
    try:
        port = int(proc.stdout.readline())
        for _ in range(60):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(1)
        before = cpu_seconds(proc.pid)
        time.sleep(2)
        assert cpu_seconds(proc.pid) - before < 0.5  # EMFILE: a pause, not a busy loop
        began = time.monotonic()
        answer = urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10).read()
        assert answer == b"OK" and time.monotonic() - began < 8
    finally:
        for sock in idle:
            sock.close()
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("requested, limit, workers, allowed", [
    (None, 1024, 8, 1024 - 96),
    (None, 64, 8, 32),
    (None, 100000, 8, devserver.MAX_CONNECTIONS),
    (None, resource.RLIM_INFINITY, 8, devserver.MAX_CONNECTIONS),
    (500, 1024, 8, 500),
    (928, 1024, 8, 928),
])
def test_connection_limit(requested, limit, workers, allowed):
    assert devserver.connection_limit(requested, limit, workers) == allowed


@pytest.mark.parametrize("requested, limit, reason", [
    (929, 1024, "the open-file limit of 1024 leaves room for 928"),
    (0, 1024, "at least 1"),
    (None, 63, "the open-file limit of 63 is too low to serve (at least 64)"),
])
def test_connection_limit_refused(requested, limit, reason):
    with pytest.raises(ValueError) as err:
        devserver.connection_limit(requested, limit, 8)
    assert reason in str(err.value)


def test_the_bytes_held_are_bounded_the_oldest_unfinished_request_goes(monkeypatch):
    monkeypatch.setattr(devserver, "BUFFERED", 200000)
    made = devserver.make_server("127.0.0.1", 0, hello, workers=2, timeout=30, max_body=50000)
    thread = threading.Thread(target=made.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    senders = []
    try:
        for _ in range(5):  # 5 x 45,000 bytes held: more than 200,000
            sock = socket.create_connection(("127.0.0.1", made.server_port))
            sock.sendall(b"POST / HTTP/1.0\r\nContent-Length: 50000\r\n\r\n" + b"z" * 45000)
            senders.append(sock)
            time.sleep(0.3)
        assert [closed(sock) for sock in senders] == [True, False, False, False, False]
        senders[1].sendall(b"z" * 5000)
        senders[1].settimeout(5)
        assert senders[1].recv(4096).startswith(b"HTTP/1.0 200 ")
        request = urllib.request.Request(url(made), data=b"-", method="POST")
        assert urllib.request.urlopen(request, timeout=5).read() == b"OK-"
    finally:
        for sock in senders:
            sock.close()
        made.shutdown()
        made.server_close()

"""`wlcg-collector serve`'s server: a bounded pool of workers that idle
connections cannot fill, a backlog for bursts, escaped log lines."""

import socket
import threading
import time
import urllib.request

import pytest

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
        while sock.recv(4096):
            pass
        assert time.monotonic() - began < 6
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

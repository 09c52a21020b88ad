"""The WSGI ingest application in-process under wsgiref.validate, with real
openssl, on SQLite and MariaDB; and the CGI shim."""

import io
import os
import subprocess
import sys
import wsgiref.handlers

import pytest

from helpers import ROOT, bytecode_env, make_key_pair, make_report, wsgi_call as call, write_config
from wlcg_collector import create_app
from wlcg_collector.crypto import encrypt
from wlcg_collector.db import open_store

PACKAGES = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.6.9-1.el9", "x86_64")]


@pytest.fixture
def setup(tmp_path, database_url, collector_keys):
    """(make_app(**options), counts()) for a collector on the database."""
    store = open_store(database_url)
    store.schema.init()
    store.close()

    def make_app(pairs=(collector_keys,), **options):
        path = write_config(tmp_path / "collector.conf", database_url, list(pairs), **options)
        return create_app(path)

    def counts():
        probe = open_store(database_url)
        try:
            return probe.testing.row_counts()
        finally:
            probe.close()

    return make_app, counts


def test_encrypted_report_is_stored(setup, collector_keys):
    make_app, counts = setup
    app = make_app()
    body = encrypt(make_report(packages=PACKAGES, ts=1767225600), collector_keys[1])
    status, headers, out, log = call(app, body)
    assert (status, out) == (200, b"OK")
    assert headers["Content-Type"].startswith("text/plain")
    assert counts() == {"hosts": 1, "packages": 2, "installs": 2, "reports": 1}
    # a retry of the same body changes nothing
    assert call(app, body)[:3:2] == (200, b"OK")
    assert counts() == {"hosts": 1, "packages": 2, "installs": 2, "reports": 1}
    store = open_store(app.config.database)
    host = store.hosts.find("wn01.example.org")
    assert store.hosts.state(host.id) == PACKAGES
    assert store.hosts.reports(host.id)[0].sender == "192.0.2.7"


def test_pakiti_client_report_is_accepted(setup, collector_keys):
    """What pakiti-client 3.x sends: its own headers, dpkg versions without
    revision, -aes-256-cbc, posted as a form content type, no protocol."""
    make_app, counts = setup
    app = make_app()
    with open(os.path.join(ROOT, "tests", "fixtures", "pakiti-client-dpkg.txt"), "rb") as handle:
        plaintext = handle.read()
    proc = subprocess.run(["openssl", "smime", "-encrypt", "-binary", "-aes-256-cbc", "-outform",
                           "DER", collector_keys[1]], input=plaintext, stdout=subprocess.PIPE,
                          check=True)
    status, _, out, log = call(app, proc.stdout, query="")
    assert (status, out) == (200, b"OK"), log
    store = open_store(app.config.database)
    host = store.hosts.find("ubuntu1.example.org", "prague_cesnet_lcg2")
    state = store.hosts.state(host.id)
    assert ("adduser", "3.118ubuntu5", "all") in state
    assert ("bsdutils", "1:2.37.2-4ubuntu3", "all") in state
    assert len(state) == counts()["installs"] == 101
    assert (host.system, host.packager) == ("Ubuntu 22.04.1 LTS", "dpkg")


def test_plaintext_needs_permission(setup):
    make_app, counts = setup
    body = make_report(packages=PACKAGES)
    status, _, out, log = call(make_app(), body)
    assert status == 403
    assert out == b"plaintext reports are not accepted here: encrypt the report to the " \
                  b"collector certificate\n"
    assert counts()["reports"] == 0
    assert call(make_app(allow_plaintext="yes"), body)[0] == 200
    assert counts()["reports"] == 1


BAD_PLAINTEXTS = [
    (b"#\nhost: a\npackager: rpm\n#\nbash\t0:1-1\tx86_64\n#\n", "header site is missing"),
    (b"#\nsite: S\nhost: a\npackager: pkg\n#\nbash\t0:1-1\tx86_64\n#\n", "unknown packager"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\n", "no package section"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\n#\n", "lists no package"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\ngpg-pubkey\t0:1-1\t(none)\n#\n", "lists no package"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\nbash 0:1-1\n#\n", "package line 6 is not"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\nbash\t1.0\tx86_64\n#\n", "not an rpm EPOCH"),
    (b"#\nsite: S\nhost: a\npackager: dpkg\n#\nbash\t1.0-\tamd64\n#\n", "revision number is empty"),
    (b"#\nsite: S\x07\nhost: a\npackager: rpm\n#\nbash\t0:1-1\tx86_64\n#\n", "control character"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\nbash\t0:1-1\tx86_64\n#\n\xff", "not UTF-8"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\nbash\t0:1-1\tx86_64\n#\nextra\n", "after the closing"),
    (b"#\nsite: S\nhost: a\nhost: b\npackager: rpm\n#\nbash\t0:1-1\tx86_64\n#\n", "appears twice"),
    (b"#\nsite: S\nhost: a\npackager: rpm\nts: yesterday\n#\nb\t0:1-1\tx86_64\n#\n", "ts"),
    (b"#\nSite: S\nhost: a\npackager: rpm\n#\nbash\t0:1-1\tx86_64\n#\n", "bad key"),
    (b"#\nsite: S\nhost: <script>\npackager: rpm\n#\nb\t0:1-1\tx86_64\n#\n", "not a host name"),
    (b"#\nsite: S\nhost: a\npackager: rpm\n#\n" + b"x" * 300 + b"\t0:1-1\tx86_64\n#\n",
     "name longer than 200"),
]


@pytest.mark.parametrize("plaintext,reason", BAD_PLAINTEXTS)
def test_bad_reports_are_400_and_not_stored(setup, collector_keys, plaintext, reason):
    make_app, counts = setup
    before = counts()
    status, _, out, log = call(make_app(), encrypt(plaintext, collector_keys[1]))
    assert status == 400
    text = out.decode()
    assert text.startswith("bad report: ") and reason in text and text.count("\n") == 1
    assert counts() == before
    assert "rejected report from 192.0.2.7: 400 bad report" in log


def test_undecryptable_bodies_are_400(setup, collector_keys, tmp_path):
    make_app, counts = setup
    app = make_app()
    other_key, other_cert = make_key_pair(tmp_path)
    good = encrypt(make_report(packages=PACKAGES), collector_keys[1])
    cases = {
        "wrong key": encrypt(make_report(packages=PACKAGES), other_cert),
        "truncated": good[:len(good) // 2],
        "garbage": os.urandom(2000),
        "bit flip in the header": good[:20] + bytes([good[20] ^ 0x40]) + good[21:],
    }
    for name, body in cases.items():
        status, _, out, log = call(app, body)
        assert status == 400, name
        assert out.count(b"\n") == 1 and b"Traceback" not in out, name
    assert counts()["reports"] == 0


def test_http_errors(setup, collector_keys):
    make_app, counts = setup
    app = make_app(max_body=4096)
    status, headers, _, _ = call(app, method="GET")
    assert status == 405 and headers["Allow"] == "POST"
    assert call(app, b"x", path="/elsewhere")[0] == 404
    assert call(app, b"x", path="/officer/")[0] == 403
    assert call(app, b"abc", content_length=False)[0] == 411
    status, _, out, _ = call(app, b"x" * 5000)
    assert status == 413 and out == b"report larger than 4096 bytes\n"
    status, _, out, _ = call(app, b"x", query="protocol=4")
    assert status == 400 and b"protocol 5" in out
    status, _, out, _ = call(app, b"")
    assert status == 400
    assert counts()["reports"] == 0


def test_large_body_is_drained_before_413(setup):
    make_app, _ = setup
    app = make_app(max_body=4096)
    stream = io.BytesIO(b"y" * 100000)
    status = call(app, b"", environ_extra={"wsgi.input": stream, "CONTENT_LENGTH": "100000"})[0]
    assert status == 413
    assert stream.tell() == 100000


def test_internal_error_is_500_without_traceback(setup, collector_keys):
    make_app, _ = setup
    app = make_app()

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    app.store.writer.store_report = broken
    status, _, out, log = call(app, encrypt(make_report(packages=PACKAGES), collector_keys[1]))
    assert (status, out) == (500, b"internal error\n")
    assert "Traceback" in log and "disk on fire" in log


def test_key_rotation(setup, collector_keys, tmp_path):
    make_app, counts = setup
    new_key, new_cert = make_key_pair(tmp_path / "new")
    both = make_app(pairs=[(new_key, new_cert), collector_keys])
    to_old = encrypt(make_report(host="old.example.org", packages=PACKAGES), collector_keys[1])
    to_new = encrypt(make_report(host="new.example.org", packages=PACKAGES), new_cert)
    assert call(both, to_old)[0] == 200
    assert call(both, to_new)[0] == 200
    only_new = make_app(pairs=[(new_key, new_cert)])
    to_old_again = encrypt(make_report(host="old.example.org", packages=PACKAGES, ts=1),
                           collector_keys[1])
    status, _, out, _ = call(only_new, to_old_again)
    assert status == 400 and b"not encrypted to any collector certificate" in out
    assert counts()["hosts"] == 2 and counts()["reports"] == 2


def test_trusted_proxy_forwards_the_client_address(setup, collector_keys):
    make_app, _ = setup
    app = make_app(trusted_proxies="192.0.2.7", allow_plaintext="yes")
    call(app, make_report(packages=PACKAGES, ts=1), environ_extra={
        "HTTP_X_FORWARDED_FOR": "198.51.100.20"})
    untrusted = make_app(allow_plaintext="yes")
    call(untrusted, make_report(packages=PACKAGES, ts=2), environ_extra={
        "HTTP_X_FORWARDED_FOR": "198.51.100.99"})
    # what the client wrote is passed on by the proxy: only an address is one
    for ts, claimed in ((3, "\x1b]0;OWNED\x07\x1b[2J10.0.0.1\r\n"), (4, "not-an-address"),
                        (5, " 2001:DB8::1 ")):
        call(app, make_report(packages=PACKAGES, ts=ts), environ_extra={
            "HTTP_X_FORWARDED_FOR": "198.51.100.1, " + claimed})
    store = open_store(app.config.database)
    senders = [r.sender for r in store.hosts.reports(store.hosts.find("wn01.example.org").id)]
    assert senders == ["198.51.100.20", "192.0.2.7", "192.0.2.7", "192.0.2.7", "2001:db8::1"]


@pytest.mark.parametrize("url", ["mysql://root@127.0.0.1:1/nowhere",
                                 "sqlite:////nonexistent-dir/collector.db"])
def test_database_unavailable_is_503(tmp_path, collector_keys, url):
    config = write_config(tmp_path / "c.conf", url, [collector_keys])
    app = create_app(config)  # starts anyway: the database may come back
    status, headers, out, log = call(app, encrypt(make_report(packages=PACKAGES),
                                                  collector_keys[1]))
    assert status == 503
    assert headers["Retry-After"] == "60"
    assert out == b"database unavailable, try again later\n"
    assert "database unavailable" in log


def test_cgi_handler(setup, collector_keys):
    make_app, counts = setup
    app = make_app()
    body = encrypt(make_report(packages=PACKAGES), collector_keys[1])
    stdout, stderr = io.BytesIO(), io.StringIO()
    environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)), "PATH_INFO": "",
               "QUERY_STRING": "protocol=5", "REMOTE_ADDR": "192.0.2.8",
               "SERVER_NAME": "collector", "SERVER_PORT": "443", "SERVER_PROTOCOL": "HTTP/1.1"}
    handler = wsgiref.handlers.BaseCGIHandler(io.BytesIO(body), stdout, stderr, environ)
    handler.run(app)
    out = stdout.getvalue()
    assert out.startswith(b"Status: 200 OK\r\n") and out.endswith(b"\r\n\r\nOK")
    assert counts()["reports"] == 1


def test_collector_cgi_script(setup, collector_keys, tmp_path):
    """The collector.cgi file itself, run as a CGI program."""
    make_app, counts = setup
    config = make_app().config.path
    body = encrypt(make_report(packages=PACKAGES), collector_keys[1])
    env = {**bytecode_env(), "PATH": "/usr/bin:/bin", "PYTHONPATH": ROOT,
           "WLCG_COLLECTOR_CONFIG": config,
           "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
           "CONTENT_LENGTH": str(len(body)), "QUERY_STRING": "protocol=5",
           "REMOTE_ADDR": "192.0.2.9", "SERVER_NAME": "collector", "SERVER_PORT": "80",
           "SERVER_PROTOCOL": "HTTP/1.1", "SCRIPT_NAME": "/collector.cgi"}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "collector.cgi")], input=body,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.startswith(b"Status: 200 OK\r\n")
    assert proc.stdout.endswith(b"OK")
    assert counts()["reports"] == 1
    env["REQUEST_METHOD"] = "GET"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "collector.cgi")], input=b"",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    assert proc.stdout.startswith(b"Status: 405")


@pytest.mark.parametrize("length,body,reason", [
    ("abc", b"x", b"bad Content-Length"), ("-5", b"x", b"bad Content-Length"),
    ("1e3", b"x", b"bad Content-Length"), (" ", b"x", b"bad Content-Length"),
    ("10", b"short", b"body shorter than its Content-Length"),
    ("0", b"", b"empty body"),
])
def test_bad_content_length_is_400(setup, length, body, reason):
    make_app, counts = setup
    # (wsgiref.validate would stop such a request before the application)
    status, _, out, log = call(make_app(), body, environ_extra={"CONTENT_LENGTH": length},
                               validate=False)
    assert (status, out) == (400, reason + b"\n")
    assert "rejected report" in log and counts()["reports"] == 0


def test_a_body_that_stalls_is_408(setup):
    class Stalling(io.BytesIO):
        def read(self, size=-1):
            raise TimeoutError("timed out")
    make_app, counts = setup
    status, _, out, log = call(make_app(), b"", environ_extra={
        "wsgi.input": Stalling(), "CONTENT_LENGTH": "100"}, validate=False)
    assert (status, out) == (408, b"the body did not arrive in time\n")
    assert "Traceback" not in log and counts()["reports"] == 0

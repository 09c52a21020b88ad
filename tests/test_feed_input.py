"""What the importers make of odd input: an answer of an HTTPS server
that is not HTTP, a site list nested 50,000 deep. Each is one line naming
the source; the other sources are imported."""

import json
import os
import socketserver
import ssl
import threading

import pytest

from helpers import FIXTURES, make_tls_server_files, run_cli

ADVISORIES = os.path.join(FIXTURES, "advisories")


def fixture(path):
    with open(os.path.join(ADVISORIES, path), "rb") as handle:
        return handle.read()


def db_args(database_url):
    return ["--db", database_url]


def stored_advisories(database_url):
    code, out, err = run_cli(db_args(database_url) + ["advisories", "list", "--format", "json"])
    assert code == 0, err
    return sorted(row["advisory"] for row in json.loads(out))


# ---------------------------------------------------------------- HTTPS answers

# what a broken or hostile server answers (the good answer: a real file)
BAD_ANSWERS = {
    "/length": (b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n[]",
                "Content-Length '\u00b2' is not a number"),
    "/chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n",
               "not a valid HTTP answer (IncompleteRead"),
    "/headers": (b"HTTP/1.1 200 OK\r\n" + b"X-Filler: 1\r\n" * 101 + b"\r\n[]",
                 "not a valid HTTP answer (HTTPException: got more than 100 headers)"),
    "/status": (b"HTTP/1.1 two hundred \x1b[2J\r\n\r\n[]",
                "not a valid HTTP answer (BadStatusLine: "),
}


class _Canned(socketserver.StreamRequestHandler):
    """Answers each path with its bytes as they are, then closes."""

    def handle(self):
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 65536:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            request += chunk
        path = request.split(b" ")[1].decode("ascii", "replace")
        if path in BAD_ANSWERS:
            answer = BAD_ANSWERS[path][0]
        else:
            body = fixture(path.lstrip("/"))
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        self.wfile.write(answer)


@pytest.fixture
def odd_server(tmp_path):
    """(base URL, CA file) of a local HTTPS server answering BAD_ANSWERS."""
    key, cert, _ = make_tls_server_files(tmp_path / "tls")
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Canned)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "https://127.0.0.1:%d" % server.server_address[1], str(tmp_path / "tls" / "ca.pem")
    server.shutdown()
    server.server_close()


def config_with_ca(tmp_path, database_url, ca_file):
    path = tmp_path / "c.conf"
    path.write_text("[collector]\ndatabase = %s\n[advisories]\nca_file = %s\n"
                    "[sites]\nca_file = %s\n" % (database_url, ca_file, ca_file))
    return str(path)


def test_an_answer_that_is_not_http_is_one_line_and_later_feeds_are_read(tmp_path,
                                                                          odd_server):
    base, ca_file = odd_server
    config = config_with_ca(tmp_path, "sqlite:///%s" % (tmp_path / "c.db"), ca_file)
    assert run_cli(["--config", config, "init-db"])[0] == 0
    code, out, err = run_cli(["--config", config, "advisories", "import"]
                             + [base + path for path in BAD_ANSWERS]
                             + [base + "/csaf-redhat/rhsa-2025_23414.json"])
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == len(BAD_ANSWERS) and "\x1b" not in err
    for line, (path, (_, message)) in zip(lines, BAD_ANSWERS.items()):
        assert line.startswith("wlcg-collector: %s%s: " % (base, path))
        assert message in line, line
    assert out.startswith("1 file(s) read: 1 new,")
    assert stored_advisories("sqlite:///%s" % (tmp_path / "c.db")) == ["RHSA-2025:23414"]


@pytest.mark.parametrize("path", list(BAD_ANSWERS))
def test_a_site_list_answer_that_is_not_http_is_one_line(tmp_path, odd_server, path):
    base, ca_file = odd_server
    config = config_with_ca(tmp_path, "sqlite:///%s" % (tmp_path / "c.db"), ca_file)
    assert run_cli(["--config", config, "init-db"])[0] == 0
    code, out, err = run_cli(["--config", config, "sites", "import", base + path])
    assert code == 1 and out == ""
    assert err.startswith("wlcg-collector: %s%s: " % (base, path))
    assert BAD_ANSWERS[path][1] in err and err.endswith("; nothing imported\n")
    assert err.count("\n") == 1 and "\x1b" not in err


# ---------------------------------------------------------------- site lists

def test_a_cric_list_nested_50000_deep_is_one_line(tmp_path, database_url):
    assert run_cli(db_args(database_url) + ["init-db"])[0] == 0
    deep = tmp_path / "cric.json"
    deep.write_text('{"T2_DEEP": ' + '{"a": ' * 50000 + "1" + "}" * 50000 + "}")
    code, out, err = run_cli(db_args(database_url) + ["sites", "import", str(deep)])
    assert (code, out) == (1, "")
    assert err == "wlcg-collector: %s is not JSON: nested too deeply; nothing imported\n" % deep
    code, out, err = run_cli(db_args(database_url) + ["sites", "--format", "json"])
    assert json.loads(out) == []

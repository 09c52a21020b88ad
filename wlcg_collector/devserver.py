"""The server of `wlcg-collector serve` (development, demos, small sites):
the WSGI application on a bounded pool of worker threads.

One thread owns every socket (accept, reading, deadlines) and hands a
worker only whole requests, read into memory: a client that trickles its
request costs a socket and its bytes, never a worker. Each client has
`timeout` seconds from its connection to send the whole request (headers
and body), and again `timeout` seconds from the first byte of the answer
to take it; past either it is closed (a stalled request answered 408).
The connections are at most `max_connections`, safely below the open-file
limit; at the limit the oldest connection that has sent nothing goes first,
then the oldest still sending; out of descriptors all the same, accepting
pauses (it never spins). A body over `max_body` is answered 413 here.
Request lines are logged with control characters escaped."""

import collections
import errno
import http
import io
import queue
import re
import resource
import selectors
import socket
import sys
import threading
import time
import wsgiref.simple_server
from concurrent.futures import ThreadPoolExecutor

WORKERS = 8
TIMEOUT = 15.0  # seconds to send a whole request, and to take an answer
MAX_CONNECTIONS = 2000  # at most; fewer when the open-file limit is lower
MAX_BODY = 4 * 1024 * 1024  # `serve` gives the collector's max_body
MAX_HEAD = 32 * 1024  # request line and headers
BUFFERED = 256 * 1024 * 1024  # the bytes of all requests held at once
DRAIN_LIMIT = 64 * 1024 * 1024  # as web.py: past this, a 413's body is not read
BACKLOG = 256
# descriptors reserved, not given to connections: the process's own, and each
# worker's (database connections, openssl's pipes, files it reads)
RESERVED_DESCRIPTORS = 32
DESCRIPTORS_PER_WORKER = 8
MIN_DESCRIPTORS = 64  # an open-file limit below this leaves too few to serve
RECV_SIZE = 64 * 1024
ACCEPTS_A_TURN = 64
ACCEPT_PAUSE = 0.1  # seconds, when out of descriptors
NOTE_EVERY = 60.0  # seconds between two log lines of one kind
OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
HEAD_END = re.compile(rb"\r?\n\r?\n")
CONTENT_LENGTH = re.compile(rb"\ncontent-length:[ \t]*([^\r\n]*?)[ \t]*\r?\n", re.I)


def escape(text):
    """A log line's text with control and non-ASCII characters as escapes."""
    return "".join(c if " " <= c <= "~" else "\\x%02x" % ord(c) if ord(c) < 256
                   else "\\u%04x" % (ord(c) & 0xffff) for c in text)


def descriptor_limit():
    """The soft open-file limit, None when there is none."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def connection_limit(requested, limit, workers):
    """How many connections to hold: requested, or MAX_CONNECTIONS, within
    what the open-file limit leaves once the process and its workers have
    theirs; ValueError for a number it does not leave room for."""
    if requested is not None and requested < 1:
        raise ValueError("max connections %d: at least 1" % requested)
    room = MAX_CONNECTIONS if requested is None else requested
    if limit is not None and limit != resource.RLIM_INFINITY:
        if limit < MIN_DESCRIPTORS:
            raise ValueError("the open-file limit of %d is too low to serve (at least %d)"
                             % (limit, MIN_DESCRIPTORS))
        reserved = min(RESERVED_DESCRIPTORS + DESCRIPTORS_PER_WORKER * workers, limit // 2)
        if requested is not None and requested > limit - reserved:
            raise ValueError("max connections %d: the open-file limit of %d leaves room for "
                             "%d (ulimit -n, LimitNOFILE=)" % (requested, limit, limit - reserved))
        room = min(room, limit - reserved)
    return room


def body_length(head):
    """The Content-Length of a request head, 0 for none or one not in ASCII
    digits (the application answers such a request itself)."""
    found = CONTENT_LENGTH.search(head)
    if not found or not re.match(rb"^[0-9]{1,18}$", found.group(1)):
        return 0
    return int(found.group(1))


def answer(status, text, headers=()):
    """A whole short answer of the server's own, as bytes."""
    body = (text + "\n").encode("utf-8")
    lines = ["HTTP/1.0 %d %s" % (status, http.HTTPStatus(status).phrase),
             "Content-Type: text/plain; charset=utf-8", "Content-Length: %d" % len(body),
             "Connection: close"] + ["%s: %s" % header for header in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


class Connection(object):
    """A client's socket and its request as far as it has arrived."""
    __slots__ = ("sock", "address", "deadline", "data", "head_end", "length", "drain_left")

    def __init__(self, sock, address, deadline):
        self.sock, self.address, self.deadline = sock, address, deadline
        self.data = bytearray()
        self.head_end = None  # where the body begins, once the head is whole
        self.length = 0       # the body's
        self.drain_left = None  # bytes still read and dropped after a 413

    def whole(self):
        return self.head_end is not None and len(self.data) >= self.head_end + self.length


class AnswerWriter(io.BufferedIOBase):
    """The answer's way out: every write within one deadline from the first,
    so that a client taking a byte now and then cannot keep a worker."""

    def __init__(self, sock, seconds, address):
        self._sock, self._seconds, self._address = sock, seconds, address
        self._deadline = None

    def writable(self):
        return True

    def write(self, data):
        if self._deadline is None:
            self._deadline = time.monotonic() + self._seconds
        try:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            self._sock.settimeout(left)
            self._sock.sendall(data)  # (its timeout is for the whole call)
        except socket.timeout:
            sys.stderr.write("%s - answer cut: not taken within %g s\n"
                             % (self._address[0], self._seconds))
            raise ConnectionAbortedError("answer not taken in time")
        with memoryview(data) as view:
            return view.nbytes


class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("%s - %s\n" % (self.address_string(), escape(format % args)))


class BufferedHandler(QuietHandler):
    """wsgiref's handler, reading the request the server has read already."""

    def setup(self):
        conn = self.request
        self.connection = conn.sock
        self.rfile = io.BytesIO(conn.data)
        self.wfile = AnswerWriter(conn.sock, self.server.timeout_seconds, conn.address)


class PooledWSGIServer(wsgiref.simple_server.WSGIServer):
    request_queue_size = BACKLOG  # a burst of connections is queued, not reset

    def __init__(self, address, handler, workers=WORKERS, timeout=TIMEOUT,
                 max_connections=None, max_body=MAX_BODY):
        if not timeout > 0:
            raise ValueError("timeout %g: more than 0 seconds" % timeout)
        self.max_connections = connection_limit(max_connections, descriptor_limit(), workers)
        wsgiref.simple_server.WSGIServer.__init__(self, address, handler)
        self.socket.setblocking(False)
        self.timeout_seconds = timeout
        self.max_body = max_body
        self.buffered_limit = max(BUFFERED, 2 * (max_body + MAX_HEAD))
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="wlcg-worker")
        self._open = collections.OrderedDict()    # socket -> Connection, oldest first
        self._silent = collections.OrderedDict()  # those that have sent nothing yet
        self._busy = 0      # connections with a worker
        self._buffered = 0  # bytes of requests held, read or with a worker
        self._done = queue.SimpleQueue()          # from workers: connections answered
        self._accepting = True
        self._accept_again = None  # when to accept again after running out of descriptors
        self._noted = {}
        self._stop = False
        self._stopped = threading.Event()
        self._stopped.set()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.socket, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_reader, selectors.EVENT_READ, "wake")

    # -- the loop (one thread) ------------------------------------------------

    def serve_forever(self, poll_interval=0.5):
        self._stopped.clear()
        try:
            while not self._stop:
                self._turn(poll_interval)
        finally:
            self._stop = False
            self._stopped.set()

    def shutdown(self):
        self._stop = True
        self._wake()
        self._stopped.wait()

    def _turn(self, poll_interval):
        now = time.monotonic()
        wait = poll_interval
        if self._open:
            wait = min(wait, next(iter(self._open.values())).deadline - now)
        if self._accept_again is not None:
            wait = min(wait, self._accept_again - now)
        for key, _ in self._selector.select(max(wait, 0)):
            if key.data == "listen":
                self._accept()
            elif key.data == "wake":
                self._drain_wakes()
            elif key.data.sock in self._open:  # (not closed earlier in this turn)
                try:
                    self._read(key.data)
                except Exception:  # that connection's end, never the server's
                    self.handle_error(key.data.sock, key.data.address)
                    if key.data.sock in self._open:
                        self._close(key.data)
        self._collect_done()
        now = time.monotonic()
        if self._accept_again is not None and now >= self._accept_again:
            self._accept_again = None
            self._resume_accepting()
        self._expire(now)

    def _accept(self):
        for _ in range(ACCEPTS_A_TURN):
            try:
                sock, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno not in OUT_OF_DESCRIPTORS:
                    continue  # that client's trouble (ECONNABORTED): the next
                # descriptors taken elsewhere (workers, files): make room, wait a little
                self._note("descriptors", "out of descriptors (%s): closing the oldest idle "
                           "connection, accepting again in %g s" % (exc.strerror, ACCEPT_PAUSE))
                self._make_room()
                self._pause_accepting()
                self._accept_again = time.monotonic() + ACCEPT_PAUSE
                return
            if len(self._open) + self._busy >= self.max_connections and not self._make_room():
                # every connection has a worker: refuse this one until one is done
                self._send_quietly(sock, answer(503, "busy, try again later",
                                                [("Retry-After", "10")]))
                sock.close()
                self._pause_accepting()
                return
            sock.setblocking(False)
            conn = Connection(sock, address, time.monotonic() + self.timeout_seconds)
            self._open[sock] = self._silent[sock] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _make_room(self):
        """Close the oldest connection that has sent nothing, else the
        oldest still sending its request; False when there is none."""
        victims = self._silent or self._open
        if not victims:
            return False
        self._note("limit" if victims is self._silent else "limit-sending",
                   "at the limit of %d connections: closing the oldest %s" % (
                       self.max_connections, "idle ones" if victims is self._silent
                       else "ones still sending"))
        self._close(next(iter(victims.values())))
        return True

    def _read(self, conn):
        try:
            chunk = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._close(conn)  # the client went away
            return
        self._silent.pop(conn.sock, None)
        if conn.drain_left is not None:  # after a 413, for the client to read it
            conn.drain_left -= len(chunk)
            if conn.drain_left <= 0:
                self._close(conn)
            return
        if not self._hold(len(chunk), conn):
            self._refuse(conn, 503, "busy, try again later", [("Retry-After", "10")])
            return
        searched = max(len(conn.data) - 3, 0)
        conn.data += chunk
        self._buffered += len(chunk)
        if conn.head_end is None:
            found = HEAD_END.search(conn.data, searched)
            if found is None or found.end() > MAX_HEAD:
                if len(conn.data) > MAX_HEAD:
                    self._refuse(conn, 431, "request headers over %d bytes" % MAX_HEAD)
                return
            conn.head_end = found.end()
            conn.length = body_length(bytes(conn.data[:conn.head_end]))
            if conn.length > self.max_body:
                # (the client reads the answer only once its body is taken)
                self._refuse(conn, 413, "report larger than %d bytes" % self.max_body,
                             close=False)
                conn.drain_left = min(conn.length, DRAIN_LIMIT) - (len(conn.data) - conn.head_end)
                self._release(conn)
                if conn.drain_left <= 0:
                    self._close(conn)
                return
        if conn.whole():
            self._dispatch(conn)

    def _hold(self, size, conn):
        """Room for size more bytes of conn's request: the oldest others'
        unfinished requests go first; False if there is none to close."""
        while self._buffered + size > self.buffered_limit:
            victim = next((c for c in self._open.values() if c is not conn and c.data), None)
            if victim is None:
                return False
            self._note("buffered", "%d bytes of requests held: closing the oldest unfinished"
                       % self._buffered)
            self._close(victim)
        return True

    def _dispatch(self, conn):
        self._selector.unregister(conn.sock)
        del self._open[conn.sock]
        extra = len(conn.data) - conn.head_end - conn.length
        if extra:  # a pipelined request: one a connection here
            del conn.data[-extra:]
            self._buffered -= extra
        conn.sock.setblocking(True)
        self._busy += 1
        self.pool.submit(self._serve, conn)

    def _collect_done(self):
        while True:
            try:
                conn = self._done.get_nowait()
            except queue.Empty:
                return
            self._busy -= 1
            self._release(conn)
            self._resume_accepting()

    def _expire(self, now):
        while self._open:
            conn = next(iter(self._open.values()))
            if conn.deadline > now:
                return
            if conn.sock in self._silent or conn.drain_left is not None:
                self._close(conn)
            else:
                self._refuse(conn, 408, "the request did not arrive within %g s"
                             % self.timeout_seconds)

    def _refuse(self, conn, status, text, headers=(), close=True):
        """Answer conn with the server's own status, and close it."""
        sys.stderr.write("%s - %d %s\n" % (conn.address[0], status, text))
        self._send_quietly(conn.sock, answer(status, text, headers))
        if close:
            self._close(conn)

    def _send_quietly(self, sock, data):
        try:
            sock.send(data)  # short: the socket's buffer takes it, or the client is gone
        except OSError:
            pass

    def _release(self, conn):
        self._buffered -= len(conn.data)
        conn.data = bytearray()

    def _close(self, conn):
        self._selector.unregister(conn.sock)
        del self._open[conn.sock]
        self._silent.pop(conn.sock, None)
        self._release(conn)
        conn.sock.close()

    def _pause_accepting(self):
        if self._accepting:
            self._selector.unregister(self.socket)
            self._accepting = False

    def _resume_accepting(self):
        if not self._accepting and self._accept_again is None:
            self._selector.register(self.socket, selectors.EVENT_READ, "listen")
            self._accepting = True

    def _note(self, kind, message):
        """A line to the log, at most one a minute of each kind."""
        now = time.monotonic()
        if now - self._noted.get(kind, -NOTE_EVERY) >= NOTE_EVERY:
            self._noted[kind] = now
            sys.stderr.write("wlcg-collector serve: %s\n" % message)

    def _wake(self):
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass  # wake-ups already pending, or closing: the loop looks anyway

    def _drain_wakes(self):
        try:
            while self._wake_reader.recv(4096):
                pass
        except OSError:
            pass

    # -- a worker ---------------------------------------------------------

    def _serve(self, conn):
        try:
            self.finish_request(conn, conn.address)
        except Exception:  # one connection's trouble is logged, never the server's end
            self.handle_error(conn.sock, conn.address)
        finally:
            self.shutdown_request(conn.sock)
            self._done.put(conn)
            self._wake()

    def handle_error(self, request, client_address):
        # one line, not socketserver's traceback: a client that goes away
        # is no server error
        sys.stderr.write("%s - request failed: %s\n" % (
            client_address[0], escape(repr(sys.exc_info()[1]))[:300]))

    def server_close(self):
        wsgiref.simple_server.WSGIServer.server_close(self)
        self.pool.shutdown(wait=False)
        for conn in list(self._open.values()):
            self._close(conn)
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()


def make_server(host, port, app, **bounds):
    server = PooledWSGIServer((host, port), BufferedHandler, **bounds)
    server.set_app(app)
    return server

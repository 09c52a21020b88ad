"""The server of `wlcg-collector serve` (development, demos, small sites):
the WSGI application on a bounded pool of worker threads.

A connection is handed to a worker only once it has sent something: a
thousand idle connections cost a thousand sockets in one selector, not a
thousand threads, and cannot keep the workers from the requests that
arrive. A connection idle longer than the timeout, or a request that stalls
that long, is closed; at most max_waiting connections wait (the oldest
goes). Request lines are logged with control characters escaped."""

import collections
import queue
import selectors
import socket
import sys
import threading
import time
import wsgiref.simple_server
from concurrent.futures import ThreadPoolExecutor

WORKERS = 8
TIMEOUT = 15.0
MAX_WAITING = 2000
BACKLOG = 256


def escape(text):
    """A log line's text with control and non-ASCII characters as escapes."""
    return "".join(c if " " <= c <= "~" else "\\x%02x" % ord(c) if ord(c) < 256
                   else "\\u%04x" % (ord(c) & 0xffff) for c in text)


class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("%s - %s\n" % (self.address_string(), escape(format % args)))


class PooledWSGIServer(wsgiref.simple_server.WSGIServer):
    request_queue_size = BACKLOG  # a burst of connections is queued, not reset

    def __init__(self, address, handler, workers=WORKERS, timeout=TIMEOUT,
                 max_waiting=MAX_WAITING):
        wsgiref.simple_server.WSGIServer.__init__(self, address, handler)
        self.timeout_seconds = timeout
        self.max_waiting = max_waiting
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="wlcg-worker")
        self._new = queue.Queue()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._waiting = collections.OrderedDict()  # socket -> (address, since)
        self._closed = False
        self._watcher = threading.Thread(target=self._watch, name="wlcg-watcher", daemon=True)
        self._watcher.start()

    def process_request(self, request, client_address):
        # (the accepting thread only queues it; the watcher waits for data)
        self._new.put((request, client_address))
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass  # closing, or wake-ups already pending: the watcher sees the queue anyway

    def _watch(self):
        while not self._closed:
            for key, _ in self._selector.select(timeout=1.0):
                if key.fileobj is self._wake_reader:
                    try:
                        self._wake_reader.recv(4096)
                    except OSError:
                        pass  # only a wake-up: the queue below is what counts
                    continue
                request = key.fileobj
                self._selector.unregister(request)
                client_address, _ = self._waiting.pop(request)
                self.pool.submit(self._serve, request, client_address)
            while True:
                try:
                    request, client_address = self._new.get_nowait()
                except queue.Empty:
                    break
                if len(self._waiting) >= self.max_waiting:
                    self._drop(next(iter(self._waiting)))
                self._waiting[request] = (client_address, time.monotonic())
                self._selector.register(request, selectors.EVENT_READ)
            cutoff = time.monotonic() - self.timeout_seconds
            for request in [r for r, (_, since) in self._waiting.items() if since < cutoff]:
                self._drop(request)

    def _drop(self, request):
        self._selector.unregister(request)
        del self._waiting[request]
        self.shutdown_request(request)

    def _serve(self, request, client_address):
        try:
            request.settimeout(self.timeout_seconds)  # a stalled request ends too
            self.finish_request(request, client_address)
        except Exception:  # one connection's trouble is logged, never the server's end
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def handle_error(self, request, client_address):
        # one line, not socketserver's traceback: a client that stalls or
        # goes away is no server error
        sys.stderr.write("%s - request failed: %s\n" % (
            client_address[0], escape(repr(sys.exc_info()[1]))[:300]))

    def server_close(self):
        self._closed = True
        wsgiref.simple_server.WSGIServer.server_close(self)
        self.pool.shutdown(wait=False)
        for request in list(self._waiting):
            self._drop(request)
        self._wake_writer.close()


def make_server(host, port, app, **bounds):
    server = PooledWSGIServer((host, port), QuietHandler, **bounds)
    server.set_app(app)
    return server

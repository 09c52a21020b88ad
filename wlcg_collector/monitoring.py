"""The operators' endpoints: GET /healthz for a load balancer (no data, no
authentication) and GET /metrics for Prometheus (read only from the
addresses of [metrics] allow; any other gets the 404 of a path that is not
there). Each answer is (status, text or bytes, headers) for web.py to send.

Neither is a way to make the collector work hard: /healthz costs one
trivial query on a connection of its own, at most once a second a process
however often it is asked, and never waits much longer than a second;
/metrics reads small tables and index ranges (db/metrics_statements.py).
Who may read /metrics is the address that connected (REMOTE_ADDR):
X-Forwarded-For is whatever the client wrote, and is never read here."""

import importlib
import ipaddress
import threading
import time

from . import metrics
from .db import StoreError, StoreUnavailable
from .dates import DAY

# how long the health check waits for the database (each connect, read and
# write), and for how long one answer serves every check of a process
HEALTH_TIMEOUT = 1.0
HEALTH_REUSE = 1.0
READ_METHODS = ("GET", "HEAD")
MISSING_LIBRARY = ("/metrics needs the Python package prometheus_client "
                   "(python3-prometheus_client; pip install prometheus_client)")


def address_allowed(address, networks):
    """Whether the address that connected (REMOTE_ADDR) is in one of the
    networks; anything that is not an address is not (an IPv4 address
    seen through an IPv6 socket, ::ffff:a.b.c.d, is the IPv4 one)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


class HealthCheck(object):
    """Whether the store's database answers (db.Schema.answers), asked at
    most once each `reuse` seconds by a process: while one thread asks,
    the others wait for its answer instead of asking again."""

    def __init__(self, store, timeout=HEALTH_TIMEOUT, reuse=HEALTH_REUSE):
        self.store = store
        self.timeout = timeout
        self.reuse = reuse
        self._lock = threading.Lock()
        self._asked = None  # time.monotonic() of the last answer
        self._healthy = False

    def __call__(self):
        with self._lock:
            if self._asked is None or time.monotonic() - self._asked >= self.reuse:
                self._healthy = self.store.schema.answers(self.timeout)
                self._asked = time.monotonic()
            return self._healthy


class Monitoring(object):
    """/healthz and /metrics of one collector (config: its Config, store:
    the database it writes, which these read)."""

    def __init__(self, config, store):
        self.config = config
        self.store = store
        self.health = HealthCheck(store)

    def healthz(self, environ):
        if environ.get("REQUEST_METHOD") not in READ_METHODS:
            return 405, "GET only", [("Allow", "GET, HEAD")]
        if not self.health():
            return 503, "database unavailable", []
        return 200, "ok", []

    def metrics(self, environ, log):
        """The page, or an error; log(message) writes the server's log."""
        if not address_allowed(environ.get("REMOTE_ADDR"), self.config.metrics_allow):
            return 404, "not found", []
        if environ.get("REQUEST_METHOD") not in READ_METHODS:
            return 405, "GET only", [("Allow", "GET, HEAD")]
        try:  # (said before anything is read)
            importlib.import_module("prometheus_client")
        except ImportError:
            return 503, MISSING_LIBRARY, []
        now = time.time()
        try:
            numbers = self.store.metrics.numbers(int(now - self.config.stale_days * DAY))
        except StoreUnavailable as exc:
            log("/metrics: database unavailable: %s" % exc)
            return 503, "database unavailable", []
        except StoreError as exc:
            log("/metrics: %s" % exc)
            return 500, "internal error", []
        body, content_type = metrics.exposition(numbers, now)
        return 200, body, [("Content-Type", content_type)]

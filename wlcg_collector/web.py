"""The WSGI application: ingest is a POST to the application root.

Status codes: 200 "OK" stored (or already stored, or recorded and not
applied: older, a replay), after one line for the site admin when the
report's site is not on the list of sites or was renamed; 202 kept in the quarantine for the officer, with
one line saying why; 400 malformed, not decryptable, a signature that does
not verify, a signed ts in the future; 403 plaintext (or unsigned) not
allowed; 404 other paths; 405 not a POST; 408 the body stalled (the
server's read timeout); 411 no Content-Length; 413 body
over max_body, or too many packages; 429 + Retry-After a bound of
db/quotas.py reached (new hosts, changes of the day, the quarantine) until
the next UTC day; 500 internal error (details in
the server log only); 503 + Retry-After database unavailable.

GET /healthz and GET /metrics are the operators' (monitoring.py); every
report received is counted for /metrics (CollectorApp.count).
"""

import http
import ipaddress
import sys
import time
import traceback
import urllib.parse

from .crypto import CryptoError
from .dates import DAY
from .db import QuotaExceeded, StoreError, StoreUnavailable
from .ingest import Rejected, ingest, quarantine_answer, site_notice
from .limits import MAX_SENDER
from .monitoring import Monitoring
from .numerals import whole_number
from .statuses import FAILED, QUARANTINED, QUOTA, REJECTED, TIMED_OUT, TOO_LARGE

RETRY_AFTER = "60"
READ_CHUNK = 64 * 1024
# A client that sent a too-large body only reads our 413 if we take its body
# first; past this much we stop reading and let the connection drop.
DRAIN_LIMIT = 64 * 1024 * 1024


class CollectorApp(object):
    def __init__(self, config, store, officer_token=None, read_store=None):
        self.config = config
        self.store = store
        self.read_store = read_store or store  # the officer's pages read here
        self.officer_token = officer_token
        self.monitoring = Monitoring(config, store)
        self._pages = None
        # (sender, UTC day) whose 429 was logged: once a day is enough
        self._quota_logged = set()

    def pages(self):
        """The officer's pages, loaded on first use (ingest never needs Jinja2)."""
        if self._pages is None:
            from .pages import OfficerPages
            self._pages = OfficerPages(self.config, self.read_store, self.officer_token,
                                       keeper=self.store)
        return self._pages

    def __call__(self, environ, start_response):
        try:
            return self._handle(environ, start_response)
        except Exception:
            self.log(environ, "internal error:\n" + traceback.format_exc().rstrip())
            return respond(start_response, 500, "internal error")

    def log(self, environ, message):
        stream = environ.get("wsgi.errors") or sys.stderr
        stream.write("wlcg-collector: %s\n" % message)
        stream.flush()

    def sender(self, environ):
        """The client address; behind a trusted proxy, the one it forwarded
        when that is an IP address (the proxy passes on what the client
        wrote: anything else, say terminal escapes for the officer's
        listings, is not an address, and the proxy's own is kept)."""
        address = environ.get("REMOTE_ADDR", "") or "unknown"
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded and address in self.config.trusted_proxies:
            claimed = forwarded.split(",")[-1].strip()
            try:
                address = str(ipaddress.ip_address(claimed))
            except ValueError:
                pass
        return address[:MAX_SENDER]

    def _handle(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/officer" or path.startswith("/officer/"):
            try:
                pages = self.pages()
            except ImportError:
                return respond(start_response, 503, "the officer's pages need Jinja2")
            return pages(environ, start_response, path[len("/officer"):])
        if path == "/healthz":
            return respond(start_response, *self.monitoring.healthz(environ))
        if path == "/metrics":
            return respond(start_response, *self.monitoring.metrics(
                environ, lambda message: self.log(environ, message)))
        if path not in ("", "/"):
            return respond(start_response, 404, "not found")
        if environ.get("REQUEST_METHOD") != "POST":
            return respond(start_response, 405, "send reports with POST",
                           [("Allow", "POST")])
        return self.receive(environ, start_response)

    def receive(self, environ, start_response):
        """Ingest: store the report a POST carries, count it for /metrics
        (every outcome but a database that is away: it cannot count), and
        answer."""
        sender = self.sender(environ)
        tally = self.store.metrics.tally()
        try:
            body = self.read_body(environ)
            check_protocol(environ.get("QUERY_STRING", ""))
            received = int(time.time())
            tally.start()
            result = ingest(self.store, body, self.config.pairs, sender,
                            allow_plaintext=self.config.allow_plaintext, received=received,
                            clock_skew=self.config.clock_skew, rules=self.config.rules,
                            limits=self.config.limits, max_packages=self.config.max_packages,
                            tally=tally)
        except Rejected as exc:
            self.count(environ, tally, REJECTED, exc.kind)
            self.log(environ, "rejected report from %s: %d %s" % (sender, exc.status, exc.reason))
            return respond(start_response, exc.status, exc.reason)
        except QuotaExceeded as exc:
            self.count(environ, tally, REJECTED, QUOTA)
            day = received // DAY
            if (sender, day) not in self._quota_logged:
                if len(self._quota_logged) > 100000:
                    self._quota_logged.clear()
                self._quota_logged.add((sender, day))
                self.log(environ, "refused reports from %s until tomorrow (UTC): %s "
                         "(logged once a sender and day)" % (sender, exc))
            return respond(start_response, 429, "%s: try again tomorrow (UTC)" % exc,
                           [("Retry-After", str(exc.retry_after))])
        except StoreUnavailable as exc:
            self.log(environ, "database unavailable, report from %s not stored: %s"
                     % (sender, exc))
            return respond(start_response, 503, "database unavailable, try again later",
                           [("Retry-After", RETRY_AFTER)])
        except (StoreError, CryptoError) as exc:
            self.count(environ, tally, FAILED)
            self.log(environ, "report from %s not stored: %s" % (sender, exc))
            return respond(start_response, 500, "internal error")
        except Exception:
            self.count(environ, tally, FAILED)
            raise  # (a bug: logged with its traceback by __call__)
        self.count(environ, tally, result.outcome)
        if result.note:
            self.log(environ, "report from %s: %s" % (sender, result.note))
        if result.outcome == QUARANTINED:
            answer = quarantine_answer(result)
            self.log(environ, "report from %s %s" % (sender, answer))
            return respond(start_response, 202, answer)
        notice = site_notice(result.site)
        if notice:
            # a line for the site admin first; pakiti-client wants the body to end in OK
            return respond(start_response, 200, "%s\nOK" % notice, newline=False)
        return respond(start_response, 200, "OK", newline=False)

    def count(self, environ, tally, outcome, reason=""):
        """Count a report for /metrics (in the database: the count is the
        collector's, not this process's) unless the transaction that
        stored it did (tally: its db.metrics_store.Tally, which times it):
        kept by the process, written at most once a second. A write that
        fails (the database refused it) or a word not counted is logged,
        and changes no answer: the report may be stored already. Then,
        now and then, the rows of collector processes gone are folded."""
        metrics = self.store.metrics
        try:
            if not tally.counted:
                metrics.count_kept(outcome, reason, tally.seconds())
        except ValueError as exc:
            self.log(environ, "report not counted for /metrics: %s" % exc)
        except StoreError as exc:
            self.log(environ, "counts for /metrics kept, not written yet: %s" % exc)
        try:
            metrics.upkeep()
        except StoreError as exc:
            self.log(environ, "counts for /metrics not folded: %s" % exc)

    def read_body(self, environ):
        length = environ.get("CONTENT_LENGTH", "")
        if not length:
            raise Rejected(411, "Content-Length required")
        try:
            length = whole_number(length)
        except ValueError:
            raise Rejected(400, "bad Content-Length")
        stream = environ["wsgi.input"]
        if length > self.config.max_body:
            drain(stream, min(length, DRAIN_LIMIT))
            raise Rejected(413, "report larger than %d bytes" % self.config.max_body,
                           kind=TOO_LARGE)
        chunks, remaining = [], length
        while remaining > 0:
            try:
                chunk = stream.read(min(remaining, READ_CHUNK))
            except OSError:  # the server's read timeout: the client stalled
                raise Rejected(408, "the body did not arrive in time", kind=TIMED_OUT)
            if not chunk:
                raise Rejected(400, "body shorter than its Content-Length")
            chunks.append(chunk)
            remaining -= len(chunk)
        body = b"".join(chunks)
        if not body:
            raise Rejected(400, "empty body")
        return body


def check_protocol(query):
    values = urllib.parse.parse_qs(query).get("protocol")
    if values and values != ["5"]:
        raise Rejected(400, "unsupported protocol %r: this collector speaks protocol 5"
                       % values[0][:20])


def drain(stream, length):
    while length > 0:
        chunk = stream.read(min(length, READ_CHUNK))
        if not chunk:
            return
        length -= len(chunk)


def respond(start_response, status, text, headers=(), newline=True):
    """Send text (a line, or bytes as they are: a Content-Type among the
    headers then says what they are)."""
    if isinstance(text, bytes):
        body = text
    else:
        body = (text + ("\n" if newline else "")).encode("utf-8")
    headers = list(headers)
    if not any(name == "Content-Type" for name, _ in headers):
        headers.insert(0, ("Content-Type", "text/plain; charset=utf-8"))
    start_response("%d %s" % (status, http.HTTPStatus(status).phrase), headers + [
        ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),
    ])
    return [body]

"""Reading what comes from outside: a local file or an https:// URL,
every read bounded (a feed or a site list is data from the network).

A URL is fetched with urllib over HTTPS only, the server's certificate
verified (against the system's CA store, or `ca_file`), redirects only to
https:// URLs, within max_bytes and a deadline. A file must be a regular
file: a FIFO or a device would hang the read.
"""

import http.client
import os
import ssl
import stat
import time
import urllib.error
import urllib.request

from .numerals import is_digits
from .text import escaped

FETCH_TIMEOUT = 60                 # seconds without a byte
FETCH_DEADLINE = 900               # seconds for the whole download
CHUNK = 1024 * 1024


class SourceError(Exception):
    """A source cannot be read at all: the message is the one-line reason."""


def printable(text, limit=300):
    """A name (a file's, a URL, a feed's) as one line that cannot drive a
    terminal (text.escaped), at most `limit` characters of it."""
    return escaped(text, limit)


def read_bounded(handle, limit, what):
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise SourceError("%s is larger than %d bytes" % (what, limit))
    return data


def read_file(path, limit):
    """The bytes of a regular file (no FIFO, no device: a read that never
    ends would hang the import)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise SourceError("%s: %s" % (path, exc.strerror))
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # (before fdopen, which refuses a directory)
        os.close(fd)
        raise SourceError("%s is not a regular file" % path)
    with os.fdopen(fd, "rb") as handle:
        return read_bounded(handle, limit, path)


class _HTTPSOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.lower().startswith("https://"):
            raise SourceError("redirected to %s, which is not https" % printable(newurl, 200))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url, max_bytes, timeout=FETCH_TIMEOUT, deadline=FETCH_DEADLINE,
          ca_file=None, user_agent="wlcg-collector"):
    """The body of an https:// URL, or SourceError naming the URL and
    what failed: whatever the server answers (a status line, headers or
    chunks that are not HTTP, too many headers) is one line, never an
    exception of http.client's."""
    shown = printable(url, 200)
    if not url.lower().startswith("https://"):
        raise SourceError("%s: only https:// URLs are fetched" % shown)
    try:
        return _fetch(url, max_bytes, timeout, deadline, ca_file, user_agent)
    except urllib.error.HTTPError as exc:
        raise SourceError("%s: HTTP %d %s" % (shown, exc.code, printable(exc.reason, 100)))
    except urllib.error.URLError as exc:
        raise SourceError("%s: %s" % (shown, printable(exc.reason)))
    except SourceError as exc:
        raise SourceError("%s: %s" % (shown, exc))
    except http.client.InvalidURL as exc:
        raise SourceError("%s: not a valid URL (%s)" % (shown, printable(exc, 100)))
    except http.client.HTTPException as exc:
        # not an OSError: a status line, a header or a chunk that is not HTTP
        raise SourceError("%s: not a valid HTTP answer (%s%s)"
                          % (shown, type(exc).__name__, ": %s" % printable(exc, 100)
                             if str(exc) else ""))
    except (OSError, ValueError) as exc:
        raise SourceError("%s: %s" % (shown, printable(exc)))


def _fetch(url, max_bytes, timeout, deadline, ca_file, user_agent):
    context = ssl.create_default_context(cafile=ca_file)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         _HTTPSOnly())
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    started = time.monotonic()
    with opener.open(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        if length is not None and not is_digits(length.strip()):
            raise SourceError("Content-Length %r is not a number" % length[:40])
        if length is not None and int(length) > max_bytes:
            raise SourceError("%s bytes, more than the %d bytes allowed" % (length.strip(),
                                                                              max_bytes))
        parts, size = [], 0
        while True:
            # read1: what one receive gives, so that a server sending a
            # byte a minute meets the deadline too
            part = response.read1(CHUNK)
            if not part:
                break
            size += len(part)
            if size > max_bytes:
                raise SourceError("more than the %d bytes allowed" % max_bytes)
            if time.monotonic() - started > deadline:
                raise SourceError("not fetched within %d s" % deadline)
            parts.append(part)
        return b"".join(parts)

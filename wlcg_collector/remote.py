"""Reading what comes from outside: a local file or an https:// URL,
every read bounded (a feed or a site list is data from the network).

A URL is fetched with urllib over HTTPS only, the server's certificate
verified (against the system's CA store, or `ca_file`), redirects only to
https:// URLs, within max_bytes and a deadline. A file must be a regular
file: a FIFO or a device would hang the read.
"""

import os
import ssl
import stat
import time
import urllib.error
import urllib.request

FETCH_TIMEOUT = 60                 # seconds without a byte
FETCH_DEADLINE = 900               # seconds for the whole download
CHUNK = 1024 * 1024


class SourceError(Exception):
    """A source cannot be read at all: the message is the one-line reason."""


def printable(text, limit=300):
    """A name from a feed as one line that cannot drive a terminal."""
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit])


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
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SourceError("%s is not a regular file" % path)
        return read_bounded(handle, limit, path)


class _HTTPSOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.lower().startswith("https://"):
            raise SourceError("%s redirects to %s, which is not https" % (req.full_url,
                                                                           newurl[:200]))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url, max_bytes, timeout=FETCH_TIMEOUT, deadline=FETCH_DEADLINE,
          ca_file=None, user_agent="wlcg-collector"):
    """The body of an https:// URL, or SourceError naming what failed."""
    if not url.lower().startswith("https://"):
        raise SourceError("%s: only https:// URLs are fetched" % url[:200])
    context = ssl.create_default_context(cafile=ca_file)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         _HTTPSOnly())
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise SourceError("%s: %s bytes, more than the %d bytes allowed"
                                  % (url[:200], length, max_bytes))
            parts, size = [], 0
            while True:
                # read1: what one receive gives, so that a server sending a
                # byte a minute meets the deadline too
                part = response.read1(CHUNK)
                if not part:
                    break
                size += len(part)
                if size > max_bytes:
                    raise SourceError("%s: more than the %d bytes allowed" % (url[:200],
                                                                             max_bytes))
                if time.monotonic() - started > deadline:
                    raise SourceError("%s: not fetched within %d s" % (url[:200], deadline))
                parts.append(part)
            return b"".join(parts)
    except urllib.error.HTTPError as exc:
        raise SourceError("%s: HTTP %d %s" % (url[:200], exc.code, exc.reason))
    except urllib.error.URLError as exc:
        raise SourceError("%s: %s" % (url[:200], exc.reason))
    except (OSError, ssl.SSLError) as exc:
        raise SourceError("%s: %s" % (url[:200], exc))

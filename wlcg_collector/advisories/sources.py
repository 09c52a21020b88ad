"""Where advisory files come from: a file, a directory (its *.json files
and DSA lists, recursively), a zip of OSV records (the form the OSV feeds
are published in: one JSON file a record) or an https:// URL of any of
these. Each yields (name, bytes) pairs, every read bounded: a feed is
data from the network.

A URL is fetched with urllib over HTTPS only, the server's certificate
verified (against the system's CA store, or `ca_file`), redirects only to
https:// URLs, within max_bytes and a deadline.
"""

import io
import os
import ssl
import stat
import time
import urllib.error
import urllib.request
import zipfile

from .records import AdvisoryError

MAX_FILE = 256 * 1024 * 1024       # the Debian tracker's JSON is about 80 MB
MAX_ZIP_MEMBERS = 500000
MAX_ZIP_TOTAL = 4 * 1024 * 1024 * 1024
MAX_ZIP_MEMBER = 64 * 1024 * 1024
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


def is_zip(data):
    return data[:4] == b"PK\x03\x04"


def zip_members(data, name):
    """(name:member, bytes) of every .json member of a zip, bounded."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SourceError("%s is not a valid zip: %s" % (name, exc))
    if len(members) > MAX_ZIP_MEMBERS:
        raise SourceError("%s holds more than %d files" % (name, MAX_ZIP_MEMBERS))
    total = 0
    for member in members:
        if not member.filename.endswith(".json"):
            continue
        label = "%s:%s" % (name, printable(member.filename))
        if member.file_size > MAX_ZIP_MEMBER:
            yield label, AdvisoryError("larger than %d bytes" % MAX_ZIP_MEMBER)
            continue
        total += member.file_size
        if total > MAX_ZIP_TOTAL:
            raise SourceError("%s unpacks to more than %d bytes" % (name, MAX_ZIP_TOTAL))
        try:
            with archive.open(member) as handle:
                # the stated size may lie: read no more than it says
                yield label, read_bounded(handle, MAX_ZIP_MEMBER, label)
        except (zipfile.BadZipFile, OSError, SourceError, EOFError) as exc:
            yield label, AdvisoryError("cannot be unpacked: %s" % exc)


def read_file(path, limit=MAX_FILE):
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


def files_of(path):
    """(name, bytes or AdvisoryError) of a file, a zip or a directory."""
    if os.path.isdir(path):
        for root, dirs, names in os.walk(path):
            dirs.sort()
            for name in sorted(names):
                if name.startswith("."):
                    continue
                full = os.path.join(root, name)
                if name.endswith(".zip") or name.endswith(".json") or name.lower() in (
                        "list", "dsa", "dsa.list"):
                    try:
                        for item in files_of(full):
                            yield item
                    except SourceError as exc:
                        yield full, AdvisoryError(str(exc).replace(full + ": ", "").replace(
                            full + " ", ""))
        return
    data = read_file(path)
    if is_zip(data):
        for item in zip_members(data, path):
            yield item
    else:
        yield path, data


class _HTTPSOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.lower().startswith("https://"):
            raise SourceError("%s redirects to %s, which is not https" % (req.full_url,
                                                                           newurl[:200]))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url, max_bytes=MAX_FILE, timeout=FETCH_TIMEOUT, deadline=FETCH_DEADLINE,
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


def items_of(source, **fetch_options):
    """(name, bytes or AdvisoryError) of one SOURCE argument."""
    if source.lower().startswith(("https://", "http://")):
        data = fetch(source, **fetch_options)
        if is_zip(data):
            return list(zip_members(data, source))
        return [(source, data)]
    return files_of(source)

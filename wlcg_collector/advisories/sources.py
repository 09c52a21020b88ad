"""Where advisory files come from: a file, a directory (its *.json files
and DSA lists, recursively), a zip of OSV records (the form the OSV feeds
are published in: one JSON file a record) or an https:// URL of any of
these. Each yields (name, bytes) pairs, every read bounded: a feed is
data from the network (see ..remote: how a file or a URL is read).
"""

import io
import os
import zipfile

from ..remote import SourceError, printable, read_bounded
from ..remote import fetch as fetch_bounded, read_file as read_bounded_file
from .records import AdvisoryError

__all__ = ["SourceError", "printable", "fetch", "items_of", "files_of", "zip_members"]

MAX_FILE = 256 * 1024 * 1024       # the Debian tracker's JSON is about 80 MB
MAX_ZIP_MEMBERS = 500000
MAX_ZIP_TOTAL = 4 * 1024 * 1024 * 1024
MAX_ZIP_MEMBER = 64 * 1024 * 1024


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
    data = read_bounded_file(path, MAX_FILE)
    if is_zip(data):
        for item in zip_members(data, path):
            yield item
    else:
        yield path, data


def fetch(url, max_bytes=MAX_FILE, **options):
    """The body of an https:// feed URL (see remote.fetch)."""
    return fetch_bounded(url, max_bytes, **options)


def items_of(source, **fetch_options):
    """(name, bytes or AdvisoryError) of one SOURCE argument."""
    if source.lower().startswith(("https://", "http://")):
        data = fetch(source, **fetch_options)
        if is_zip(data):
            return list(zip_members(data, source))
        return [(source, data)]
    return files_of(source)

"""Reading a feed file into records.Advisory: which format it is, and the
one entry point for every format. Pure, text in, records out;
AdvisoryError names what is wrong.

Each format has its own reader, with checks.py's checks of each value:

    osv.py      OSV: AlmaLinux, Rocky Linux, Debian and Ubuntu
    csaf.py     Red Hat CSAF 2.0
    debian.py   the Debian security tracker's JSON and its DSA list
"""

import json

from .checks import CVE_RE
from .csaf import csaf_records
from .debian import DSA_HEADER_RE, dsa_list_records, tracker_records
from .osv import osv_records
from .records import AdvisoryError

# the readers of the formats that are JSON: document -> [(record, result)]
JSON_READERS = {"osv": osv_records, "csaf": csaf_records, "debian-tracker": tracker_records}


def detect(data, name=""):
    """'osv', 'csaf', 'debian-tracker' or 'dsa-list' from the content of
    one file (bytes); AdvisoryError when it is none of them."""
    head = data[:4096].lstrip()
    if head.startswith(b"["):
        if DSA_HEADER_RE.match(head.split(b"\n", 1)[0].decode("ascii", "replace").strip()):
            return "dsa-list"
        return "osv"  # a JSON list of OSV records
    if not head.startswith(b"{"):
        raise AdvisoryError("not JSON and not a DSA list")
    document = load_json(data)
    return detect_json(document)


def detect_json(document):
    if isinstance(document, list):
        return "osv"
    if not isinstance(document, dict):
        raise AdvisoryError("not an advisory format (a JSON %s)" % type(document).__name__)
    if isinstance(document.get("document"), dict) and "csaf_version" in document["document"]:
        return "csaf"
    if "id" in document and ("affected" in document or "modified" in document):
        return "osv"
    values = list(document.values())[:20]
    if values and all(isinstance(v, dict) and all(CVE_RE.match(k) or k.startswith("TEMP-")
                                                  for k in list(v)[:5]) for v in values):
        return "debian-tracker"
    raise AdvisoryError("not an advisory format this collector reads (OSV, Red Hat CSAF, "
                        "Debian tracker JSON, DSA list)")


def load_json(data):
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise AdvisoryError("not UTF-8 (byte %d)" % exc.start)
    except ValueError as exc:
        raise AdvisoryError("not valid JSON: %s" % str(exc)[:120])
    except RecursionError:
        raise AdvisoryError("not valid JSON: nested too deeply")


def parse_records(data, fmt=None):
    """[(record, Advisory or AdvisoryError)] of one file's bytes in format
    fmt (detected if None): a record that is not valid is refused alone,
    the file's others are still read. record names it: its id, "record N"
    in a list where it has none, None for a file of one. AdvisoryError for
    a file that cannot be read at all."""
    fmt = fmt or detect(data)
    if fmt == "dsa-list":
        try:
            return dsa_list_records(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise AdvisoryError("not UTF-8 (byte %d)" % exc.start)
    document = load_json(data)
    if fmt not in JSON_READERS:
        raise AdvisoryError("unknown format %r" % fmt)
    return JSON_READERS[fmt](document)


def parse(data, fmt=None):
    """[Advisory] of one file's bytes, in format fmt (detected if None);
    AdvisoryError naming the first record that is not valid."""
    advisories = []
    for record, result in parse_records(data, fmt):
        if isinstance(result, AdvisoryError):
            raise AdvisoryError("%s: %s" % (record, result) if record else str(result))
        advisories.append(result)
    return advisories

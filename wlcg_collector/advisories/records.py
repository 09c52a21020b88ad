"""The one form every feed is read into."""

from collections import namedtuple

# most severe first; "none": a bug fix or enhancement advisory (no
# security impact), "unknown": the feed gives no severity
SEVERITIES = ("critical", "important", "moderate", "low", "none", "unknown")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

FORMATS = ("osv", "csaf", "debian-tracker", "dsa-list")

BINARY, SOURCE = "binary", "source"

# An advisory: ident is the vendor's id (ALSA-2023:5259, RHSA-2024:6163,
# USN-5614-1, DEBIAN-CVE-2022-0456, DSA-5970-1); published and modified are
# Unix seconds (None: the feed does not say); cves a sorted tuple.
Advisory = namedtuple("Advisory", "ident format title severity published modified cves url "
                                  "affected")

# One affected package on one OS stream: name is a binary package name
# (kind BINARY) or a source package name (kind SOURCE, for feeds that name
# no binaries); arch None for any arch; module the EL module stream
# ("mariadb:10.3") the fixed build belongs to, or None; introduced None
# for "every version before"; fixed None for "no fix" (every version from
# introduced, or up to last_affected); pro: the fix needs Ubuntu Pro.
Affected = namedtuple("Affected", "stream name kind arch module introduced fixed last_affected "
                                  "pro")


def worst_severity(names):
    """The most severe of these severity names ("unknown" for none)."""
    ranked = sorted((SEVERITY_RANK[n], n) for n in names if n in SEVERITY_RANK)
    return ranked[0][1] if ranked else "unknown"


class AdvisoryError(ValueError):
    """A feed file is not valid: the message is the one-line reason."""

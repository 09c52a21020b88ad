"""Whether one package build falls inside one affected range, by the
packager's own comparison (versions.compare: rpm's labelCompare, dpkg's
--compare-versions).

- A binary-named range matches packages of that name (and of its arch,
  where the feed gives one); a source-named range matches packages built
  from that source (the reporter's fourth field), and the binary named
  like the source (so that hosts whose reporter sends no source names,
  pakiti-client's, are still judged on that package).
- introduced <= version < fixed, or <= last_affected; no fixed and no
  last_affected: every version from introduced on.
- EL module streams: a range whose fixed build is a module build
  (.module_el8...) matches only module builds of the same stream, and a
  range of a plain build only plain builds. The stream is the module's
  ("mariadb:10.3" -> version 10.3.*) where the feed names it, else the
  first two parts of the fixed version; a stream that is not a version
  ("container-tools:rhel8") matches every module build.
"""

import re

from ..versions import compare, split_rpm_evr
from .checks import MODULE_BUILD_RE
from .records import SOURCE

NUMERIC_STREAM_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")


def _upstream(packager, version):
    """The upstream version (no epoch, no release) of a stored version."""
    if packager == "rpm":
        return split_rpm_evr(version)[1] or ""
    text = version.split(":", 1)[1] if ":" in version else version
    return text.rsplit("-", 1)[0]


def _is_module_build(packager, version):
    if packager != "rpm":
        return False
    release = split_rpm_evr(version)[2]
    return bool(release) and MODULE_BUILD_RE.search("." + release) is not None


def module_prefix(range_module, range_version):
    """The version parts a module build must start with to be on the
    range's stream (None: any module build)."""
    stream = range_module.split(":", 1)[1] if range_module and ":" in range_module else ""
    if stream:
        return stream.split(".") if NUMERIC_STREAM_RE.match(stream) else None
    upstream = _upstream("rpm", range_version or "")
    return upstream.split(".")[:2] if upstream else None


def names_match(affected, name, arch, source):
    if affected.kind == SOURCE:
        return source == affected.name or name == affected.name
    if name != affected.name:
        return False
    return affected.arch is None or affected.arch == arch or arch == "noarch"


def in_range(affected, packager, version):
    """True when this version of the package is inside the affected range
    (names and arch are names_match's)."""
    bound = affected.fixed or affected.last_affected
    if affected.module is not None or bound and _is_module_build(packager, bound):
        if not _is_module_build(packager, version):
            return False
        prefix = module_prefix(affected.module, bound)
        if prefix is not None and _upstream(packager, version).split(".")[:len(prefix)] != prefix:
            return False
    elif _is_module_build(packager, version):
        return False
    try:
        if affected.introduced is not None and compare(packager, version, affected.introduced) < 0:
            return False
        if affected.fixed is not None:
            return compare(packager, version, affected.fixed) < 0
        if affected.last_affected is not None:
            return compare(packager, version, affected.last_affected) <= 0
    except ValueError:
        return False  # a feed version the packager cannot read matches nothing
    return True


def affects(affected, package):
    """True when the package row (packager, name, version, arch, source) is
    inside the affected range."""
    return (names_match(affected, package.name, package.arch, package.source)
            and in_range(affected, package.packager, package.version))

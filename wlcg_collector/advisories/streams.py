"""A host's OS stream, from the `system` header its reports carry.

The table says, for each way a system names itself, which advisory
streams apply, most specific first: the first of them for which any
advisory is loaded is the host's. So a Rocky Linux 8 host uses the Rocky
Linux feed when one is loaded and Red Hat's CSAF (by major release)
otherwise; CentOS, Scientific and Oracle Linux hosts use Red Hat's. The
reporter sends os-release's "NAME VERSION_ID" ("AlmaLinux 9.4", "Ubuntu
22.04"), pakiti-client the release file's line ("CentOS Linux release
7.9.2009 (Core)", "Ubuntu 22.04.4 LTS"): each row takes both.

The config's `[advisories] os_streams` adds rows before these, one a
line: `REGEX => STREAM[, STREAM...]`, where \\1 in a stream is the
regex's first group.
"""

import re

# (pattern, streams), tried in order; the pattern is searched at the start
# of the system header, case-insensitively
OS_STREAMS = (
    (r"AlmaLinux(?: release)? ([0-9]+)", ("AlmaLinux:\\1", "Red Hat:\\1")),
    (r"Rocky Linux(?: release)? ([0-9]+)", ("Rocky Linux:\\1", "Red Hat:\\1")),
    (r"Red Hat Enterprise Linux(?: [A-Za-z]+)*? (?:release )?([0-9]+)", ("Red Hat:\\1",)),
    (r"CentOS(?: Linux| Stream)?(?: release)? ([0-9]+)", ("Red Hat:\\1",)),
    (r"Scientific Linux(?: [A-Za-z]+)?(?: release)? ([0-9]+)", ("Red Hat:\\1",)),
    (r"Oracle Linux(?: Server)?(?: release)? ([0-9]+)", ("Oracle Linux:\\1", "Red Hat:\\1")),
    (r"Debian GNU/Linux ([0-9]+)", ("Debian:\\1",)),
    # the LTS releases are the even years' April releases
    (r"Ubuntu ([0-9]*[02468]\.04)(?:\.[0-9]+)?(?: LTS)?\b", ("Ubuntu:\\1:LTS",)),
    (r"Ubuntu ([0-9]+\.[0-9]+)", ("Ubuntu:\\1",)),
)


class StreamTableError(ValueError):
    """A row of the config's os_streams is not valid."""


def compile_rows(rows):
    return tuple((re.compile(pattern, re.I), tuple(streams)) for pattern, streams in rows)


def parse_config_rows(text):
    """[(pattern, streams)] of the config's os_streams lines."""
    rows = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, sep, streams = line.partition("=>")
        streams = tuple(s.strip() for s in streams.split(",") if s.strip())
        if not sep or not pattern.strip() or not streams:
            raise StreamTableError("os_streams line %r is not 'REGEX => STREAM[, STREAM]'"
                                   % line[:80])
        try:
            compiled = re.compile(pattern.strip(), re.I)
        except re.error as exc:
            raise StreamTableError("os_streams line %r: %s" % (line[:80], exc))
        for stream in streams:
            groups = [int(g) for g in re.findall(r"\\([0-9]+)", stream)]
            if any(g < 1 or g > compiled.groups for g in groups):
                raise StreamTableError("os_streams line %r: the stream %r names a group the "
                                       "regex does not have" % (line[:80], stream))
        rows.append((pattern.strip(), streams))
    return rows


class StreamTable(object):
    """Maps system headers to the advisory stream of the host."""

    def __init__(self, extra_rows=(), loaded=None):
        self.rows = compile_rows(tuple(extra_rows) + OS_STREAMS)
        self.loaded = loaded  # the streams with advisories; None: take the first
        self._cache = {}

    def candidates(self, system):
        """The streams that apply to a system header, most specific first."""
        for pattern, streams in self.rows:
            match = pattern.match((system or "").strip())
            if match:
                return tuple(match.expand(s) for s in streams)
        return ()

    def stream_of(self, system):
        """The host's stream: its first candidate with advisories loaded
        (None: no advisory applies to this system)."""
        if system not in self._cache:
            found = None
            for stream in self.candidates(system):
                if self.loaded is None or stream in self.loaded:
                    found = stream
                    break
            self._cache[system] = found
        return self._cache[system]

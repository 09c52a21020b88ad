#!/usr/bin/env python3
"""Print the path of the oldest Python 3 older than 3.8 on this machine
(pyenv's versions, then the system's), or nothing when there is none: the
reporter runs on EL8's Python 3.6, so its tests also run there."""

import glob
import os
import re
import subprocess
import sys

OLDER_THAN = (3, 8)


def candidates():
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv"), "/root/.pyenv"]
    for root in filter(None, roots):
        yield from sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3")))
    for directory in ("/usr/bin", "/usr/local/bin", "/opt/rh/bin"):
        yield from sorted(glob.glob(os.path.join(directory, "python3.[0-7]")))


def version(path):
    try:
        out = subprocess.run([path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)$", out.stdout.decode().strip())
    return tuple(map(int, match.groups())) if out.returncode == 0 and match else None


def main():
    found = sorted((v, path) for path in set(candidates())
                   for v in [version(path)] if v is not None and v[:2] < OLDER_THAN)
    if found:
        print(found[0][1])
    return 0


if __name__ == "__main__":
    sys.exit(main())

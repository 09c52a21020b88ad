"""The collector's shape: modules small enough to read at once."""

import os

from helpers import ROOT

PACKAGE = os.path.join(ROOT, "wlcg_collector")
# the longest a collector module may be (docs/development.md): a longer one
# holds two concerns, and is split by them
MAX_MODULE_LINES = 500


def collector_modules():
    for directory, _, names in os.walk(PACKAGE):
        for name in sorted(names):
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def test_no_collector_module_is_longer_than_the_limit():
    modules = list(collector_modules())
    assert len(modules) > 50  # (the package was found)
    longer = {}
    for path in modules:
        with open(path, encoding="utf-8") as handle:
            count = sum(1 for _ in handle)
        if count > MAX_MODULE_LINES:
            longer[os.path.relpath(path, ROOT)] = count
    assert longer == {}, "split these by concern: %s" % longer

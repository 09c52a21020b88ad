"""The reporter is one file, standard library only, for Python 3.6 and newer."""

import ast
import os
import re
import subprocess
import sys

from helpers import REPORTER

VERMIN = os.path.join(os.path.dirname(sys.executable), "vermin")


def vermin(path):
    assert os.path.exists(VERMIN), "vermin is a test requirement (requirements-test.txt)"
    return subprocess.run([VERMIN, "--no-tips", "--violations", "-t=3.6-", path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_vermin_finds_nothing_newer_than_3_6():
    proc = vermin(REPORTER)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out
    assert "not met" not in out
    report = subprocess.run([VERMIN, "--no-tips", REPORTER], stdout=subprocess.PIPE).stdout.decode()
    minimum = re.search(r"Minimum required versions: 3\.(\d+)", report)
    assert minimum and int(minimum.group(1)) <= 6, report


def test_vermin_check_would_catch_a_3_7_feature(tmp_path):
    newer = tmp_path / "newer.py"
    newer.write_text("import subprocess\nsubprocess.run(['true'], capture_output=True)\n")
    assert vermin(str(newer)).returncode != 0


def test_imports_only_the_standard_library():
    with open(REPORTER) as handle:
        tree = ast.parse(handle.read())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            modules.add(node.module.split(".")[0])
    assert modules and modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)


def test_is_an_executable_python3_script():
    assert os.access(REPORTER, os.X_OK)
    with open(REPORTER) as handle:
        assert handle.readline() == "#!/usr/bin/python3\n"

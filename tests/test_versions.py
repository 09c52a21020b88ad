"""Version comparison against the real tools: rpm's Python bindings
(`rpm.labelCompare`, Debian's python3-rpm) and `dpkg --compare-versions`, on
hand-picked facts and thousands of generated tricky pairs."""

import json
import os
import random
import re
import shutil
import subprocess

import pytest

from wlcg_collector.versions import (dpkg_compare, rpm_compare, rpm_labelcompare, rpmvercmp,
                                     split_dpkg_version)

SYSTEM_PYTHON = "/usr/bin/python3"
DPKG = shutil.which("dpkg", path="/usr/bin:/bin")


def has_python_rpm():
    return os.path.exists(SYSTEM_PYTHON) and subprocess.run(
        [SYSTEM_PYTHON, "-c", "import rpm"], stderr=subprocess.DEVNULL).returncode == 0


needs_rpm = pytest.mark.skipif(not has_python_rpm() and not os.environ.get("CI"),
                               reason="python3-rpm is not installed")
needs_dpkg = pytest.mark.skipif(DPKG is None and not os.environ.get("CI"),
                                reason="dpkg is not installed")


@pytest.mark.parametrize("a,op,b", [
    ("1.0~rc1", "<", "1.0"), ("1.0~~", "<", "1.0~"), ("1.0^git1", ">", "1.0"),
    ("1.0^git1", "<", "1.01"), ("1.0~rc1^git1", ">", "1.0~rc1"), ("6.0.rc1", ">", "6.0"),
    ("1.0a", ">", "1.0"), ("1.a", "<", "1.0"), ("10.0001", "=", "10.1"), ("2.0", "=", "2_0"),
    ("1.0", "<", "1.0.0"), ("5.14.0", "=", "5.14.0"), ("2.2.51", "<", "2.2.52"),
])
def test_rpmvercmp_facts(a, op, b):
    assert rpmvercmp(a, b) == {"<": -1, "=": 0, ">": 1}[op]
    assert rpmvercmp(b, a) == -{"<": -1, "=": 0, ">": 1}[op]


@pytest.mark.parametrize("a,op,b", [
    ("1:1.0-1", ">", "2.0-1"), ("1.0", "<", "1.0-1"), ("0:1.0-1", "=", "1.0-1"),
    ("1.0-1.el8", "<", "1.0-1.el9"), ("1.0-10", ">", "1.0-10~rc"),
])
def test_rpm_full_version_facts(a, op, b):
    assert rpm_compare(a, b) == {"<": -1, "=": 0, ">": 1}[op]


@pytest.mark.parametrize("a,op,b", [
    ("1.0", "=", "1.0-0"), ("1:0.1", ">", "2.0"), ("2.2~rc-4", "<", "2.2-1"),
    ("1.0-1~bpo1", "<", "1.0-1"), ("1.0-1", "<", "1.0-1+deb12u1"), ("1.0a", "<", "1.0+"),
    ("1.0~", "<", "1.0"), ("1.0", "<", "1.0a"), ("0:1.0", "=", "1.0"),
])
def test_dpkg_facts(a, op, b):
    assert dpkg_compare(a, b) == {"<": -1, "=": 0, ">": 1}[op]


@pytest.mark.parametrize("bad", ["", "a:1.0", ":1.0", "1.0-", "1:", "1 0"])
def test_dpkg_invalid_versions(bad):
    with pytest.raises(ValueError):
        split_dpkg_version(bad)


# ---------------------------------------------------------------- generated pairs

PIECES = ["0", "00", "1", "01", "2", "9", "10", "010", "99999999999999999999", "a", "b", "Z",
          "rc", "alpha", "git", "el", "el9", "pre", "p"]
RPM_SEPS = [".", ".", "_", "+", "~", "^", "", "..", "~~", "^^", "~^", "%"]
DPKG_SEPS = [".", ".", "+", "~", "", "..", "~~", "-"]


def gen_part(rng, seps, first_digit=False, max_pieces=5):
    out = [rng.choice(["0", "1", "2", "10", "01"])] if first_digit else []
    for _ in range(rng.randint(0 if first_digit else 1, max_pieces)):
        out.append(rng.choice(seps))
        out.append(rng.choice(PIECES))
    if rng.random() < 0.15:
        out.append(rng.choice(seps))
    return "".join(out)


def mutate(rng, text, seps):
    """A near neighbour: the tricky pairs differ in one small place."""
    choices = [
        lambda t: t + rng.choice(seps),
        lambda t: t + rng.choice(seps) + rng.choice(PIECES),
        lambda t: t.replace(".", rng.choice(seps), 1),
        lambda t: t.replace("0", "00", 1),
        lambda t: t.replace("1", "01", 1),
        lambda t: t[:-1] if len(t) > 1 else t,
        lambda t: t,
    ]
    return rng.choice(choices)(text)


def rpm_tuples(count, seed=20261121):
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        v1 = gen_part(rng, RPM_SEPS)
        v2 = mutate(rng, v1, RPM_SEPS) if rng.random() < 0.7 else gen_part(rng, RPM_SEPS)
        r1 = rng.choice([None, "1", "1.el9", gen_part(rng, RPM_SEPS, max_pieces=2)])
        r2 = mutate(rng, r1, RPM_SEPS) if r1 and rng.random() < 0.6 else rng.choice(
            [None, r1, "1", gen_part(rng, RPM_SEPS, max_pieces=2)])
        e1 = rng.choice([None, None, "0", "1", "01", "2"])
        e2 = rng.choice([e1, e1, None, "0", "1", "10"])
        pairs.append(((e1, v1, r1), (e2, v2, r2)))
    return pairs


@needs_rpm
def test_rpm_labelcompare_agrees_with_rpm_on_generated_pairs():
    pairs = rpm_tuples(6000)
    script = ("import json, sys, rpm\n"
              "pairs = json.load(sys.stdin)\n"
              "print(json.dumps([rpm.labelCompare(tuple(a), tuple(b)) for a, b in pairs]))\n")
    proc = subprocess.run([SYSTEM_PYTHON, "-c", script], input=json.dumps(pairs).encode(),
                          stdout=subprocess.PIPE, check=True)
    expected = json.loads(proc.stdout)
    wrong = [(a, b, want, rpm_labelcompare(a, b)) for (a, b), want in zip(pairs, expected)
             if rpm_labelcompare(a, b) != want]
    assert not wrong, wrong[:10]
    # the generator must really produce every outcome and the special cases
    assert set(expected) == {-1, 0, 1}
    flat = json.dumps(pairs)
    assert "~" in flat and "^" in flat and "99999999999999999999" in flat


def dpkg_versions(count, seed=1121):
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        def one(base=None):
            upstream = base or gen_part(rng, DPKG_SEPS, first_digit=True, max_pieces=3)
            version = upstream
            if rng.random() < 0.6:
                version += "-" + gen_part(rng, [".", "+", "~", ""], max_pieces=2)
            if rng.random() < 0.3:
                version = rng.choice(["0", "1", "2", "01"]) + ":" + version
            return version
        def valid(version):
            try:
                split_dpkg_version(version)
            except ValueError:
                return False
            return True

        a = one()
        while not valid(a):
            a = one()
        b = mutate(rng, a, [".", "+", "~", ""]) if rng.random() < 0.6 else one()
        while not valid(b):
            b = one()
        pairs.append((a, b))
    return pairs


def dpkg_says(a, b):
    for op, result in (("lt", -1), ("eq", 0)):
        if subprocess.run([DPKG, "--compare-versions", a, op, b],
                          stderr=subprocess.DEVNULL).returncode == 0:
            return result
    return 1


OPERATOR = {-1: "lt", 0: "eq", 1: "gt"}
# dpkg runs once a claim, all from one shell (the versions are only
# letters, digits and .+~:- : nothing a shell reads differently)
CLAIMS_SCRIPT = 'while read -r a op b; do "$0" --compare-versions "$a" "$op" "$b"; echo $?; done'


def dpkg_holds(claims):
    """For each (a, op, b), whether `dpkg --compare-versions a op b` holds."""
    for a, _, b in claims:
        assert re.match(r"^[0-9A-Za-z.+~:-]+$", a + b), (a, b)
    proc = subprocess.run(["/bin/sh", "-c", CLAIMS_SCRIPT, DPKG], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, check=True,
                          input="".join("%s %s %s\n" % claim for claim in claims).encode())
    statuses = proc.stdout.split()
    assert len(statuses) == len(claims)
    return [status == b"0" for status in statuses]


@needs_dpkg
def test_dpkg_compare_agrees_with_dpkg_on_generated_pairs():
    """dpkg is asked whether our answer holds (lt, eq or gt: one run of
    dpkg a pair, which settles its answer when it does) and, where it does
    not, for its own answer."""
    pairs = dpkg_versions(2500)
    ours = [dpkg_compare(a, b) for a, b in pairs]
    held = dpkg_holds([(a, OPERATOR[mine], b) for (a, b), mine in zip(pairs, ours)])
    results = [mine if holds else dpkg_says(a, b)
               for (a, b), mine, holds in zip(pairs, ours, held)]
    wrong = [(a, b, want, mine) for (a, b), want, mine in zip(pairs, results, ours)
             if mine != want]
    assert not wrong, wrong[:10]
    assert set(results) == {-1, 0, 1}

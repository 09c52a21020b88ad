"""The collector's parser of the wire format (docs/site-admins.md, "What is sent")."""

import pytest

from helpers import make_report, run_reporter
from wlcg_collector.report import ReportError, parse_report


def test_parses_the_reporters_own_output(home):
    proc = run_reporter(["--dry-run", "--site", "T2_TEST", "--host", "WN7.Example.org"], home)
    report = parse_report(proc.stdout)
    assert report.site == "T2_TEST" and report.host == "wn7.example.org"
    assert report.packager == "dpkg"
    assert len(report.packages) == len(proc.stdout.decode().splitlines()) - 3 - len(
        report.headers)
    assert report.headers["reporter"].startswith("wlcg-package-reporter ")


def test_normalises_rpm_epochs_and_accepts_spaces():
    text = (b"#\nsite: S\nhost: h\npackager: rpm\n#\n"
            b"bash (none):5.1-1 x86_64\nzsh\t5.8-1\tx86_64\nvim\t2:9.0-1\tx86_64\n"
            b"bash\t0:5.1-1\tx86_64\n#\n")
    assert parse_report(text).packages == [("bash", "0:5.1-1", "x86_64"),
                                           ("vim", "2:9.0-1", "x86_64"),
                                           ("zsh", "0:5.8-1", "x86_64")]


def test_keeps_unknown_headers_and_pakiti_ones():
    report = parse_report(make_report(packages=[("a", "0:1-1", "noarch")], cpu="Xeon E5",
                                      tag="batch", ip="192.0.2.4", colour="blue"))
    assert report.headers["cpu"] == "Xeon E5" and report.headers["colour"] == "blue"
    assert report.ts is None


def test_same_packages_same_set_hash_whatever_the_order():
    a = parse_report(make_report(packages=[("a", "0:1-1", "noarch"), ("b", "0:1-1", "noarch")],
                                 ts=1))
    b = parse_report(make_report(packages=[("b", "0:1-1", "noarch"), ("a", "0:1-1", "noarch")],
                                 ts=2))
    assert a.set_hash == b.set_hash and a.digest != b.digest


@pytest.mark.parametrize("text,reason", [
    (b"site: S\n#\n", "does not start"),
    (b"#\r\nsite: S\r\n#\r\n", "does not start"),
    (b"#\nsite: S\r\nhost: h\npackager: rpm\n#\na\t0:1-1\tx86_64\n#\n", "control character"),
    (b"#\nsite: S\nhost: h\npackager: rpm\n#\na\t0:1-1\tx86_64\n", "no package section"),
    (b"#\nsite: S\nhost: h\npackager: rpm\n#\na\t0:1-1\tx\x00\n#\n", "NUL"),
    (b"#\nsite: S\nhost: h\npackager: rpm\n" + b"k: v\n" * 2 + b"#\na\t0:1-1\tx\n#\n", "twice"),
    (b"#\nsite: S\nhost: h\npackager: rpm\n#\na\t0:1-1\tx86 64\n#\n", "bad arch"),
    (b"#\nsite: S\nhost: h\npackager: rpm\nx: " + b"v" * 300 + b"\n#\na\t0:1-1\tx\n#\n",
     "longer than 255"),
    (b"#\nsite: S\nhost: h\npackager: dpkg\n#\na\tx:1.0\tall\n#\n", "epoch"),
    (b"#\nsite: S\nhost: h\npackager: rpm\n#\na\t0:1-1\tx\n\n#\n", "line 7 is not"),
    (b"#\nsite: S\nhost: h\npackager: rpm\n#\n\na\t0:1-1\tx\n#\n", "line 6 is not"),
    (b"#\nsite: S\nhost: h\npackager: rpm\n#\ngpg-pubkey\t0:fd431d51-4ae0493b\t(none)\n#\n",
     "no package"),
])
def test_rejects(text, reason):
    with pytest.raises(ReportError) as err:
        parse_report(text)
    assert reason in str(err.value)


@pytest.mark.parametrize("packager,lines", [
    ("rpm", ["bash\t0:5.1-1\tx86_64", "bash\t(none):5.1-1\tx86_64", "k\t007:1.0-1\tnoarch",
             "x\t0:1.0^git1-1.el9\tx86_64", "y\t99999999999:1-1\tx86_64", "z 0:1-1 noarch", "w\t10:1-1\tnoarch",
             "v\t0:%s-1\tnoarch" % ("1" * 196), "u\t00:%s-1\tnoarch" % ("1" * 195)]),
    ("dpkg", ["bash\t5.2.15-2+b2\tamd64", "a\t1:2.37.2-4ubuntu3\tall", "b\t1.0-beta-3\tall",
              "c\t2.2~rc\tall", "d\t0:1.0+dfsg\tamd64", "e 1.0 all"]),
])
def test_fast_and_detailed_line_parsing_agree(packager, lines):
    """The one-regex path for common lines gives what the detailed checks give."""
    from wlcg_collector import package_lines as module
    normalise = (module.normalise_rpm_version if packager == "rpm"
                 else module.normalise_dpkg_version)
    for number, line in enumerate(lines, 6):
        text = ("#\nsite: S\nhost: h\npackager: %s\n#\n%s\n#\n" % (packager, line)).encode()
        assert parse_report(text).packages == [module._parse_line(line, number, normalise)]
    with pytest.raises(ReportError):
        parse_report(b"#\nsite: S\nhost: h\npackager: dpkg\n#\nx\t99999999999:1.0\tall\n#\n")


@pytest.mark.parametrize("epoch", ["0:", "1:", ""])
def test_rpm_version_length_limit_on_every_path(epoch):
    """200 characters of stored version pass, 201 do not, whichever
    pattern takes the line (without an epoch, the one written out counts)."""
    def text(length):
        body = "1" * (length - len("0:") - len("-1"))
        return ("#\nsite: S\nhost: h\npackager: rpm\n#\na\t0:1-1\tx\nv\t%s%s-1\tnoarch\n#\n"
                % (epoch, body)).encode()
    stored = parse_report(text(200)).packages[1][1]
    assert len(stored) == 200
    with pytest.raises(ReportError) as err:
        parse_report(text(201))
    assert "longer than 200" in str(err.value)


@pytest.mark.parametrize("lines", [
    ["b\t0:1-1\tx86_64", "a\t0:1-1\tnoarch", "b\t0:1-1\tx86_64"],   # unsorted, a duplicate
    ["a\t0:1-1\tnoarch", "b\t0:1-1\tx86_64", "b\t0:1-1\tx86_64"],   # sorted, a duplicate
    ["a\t0:1-1\tnoarch", "b\t0:1-1\tx86_64"],                      # as the reporter sends them
])
def test_stored_form_lines_come_out_sorted_and_unique(lines):
    report = parse_report(("#\nsite: S\nhost: h\npackager: rpm\n#\n%s\n#\n"
                           % "\n".join(lines)).encode())
    assert report.packages == [("a", "0:1-1", "noarch"), ("b", "0:1-1", "x86_64")]
    assert report.set_hash == parse_report(
        b"#\nsite: S\nhost: h\npackager: rpm\n#\na\t0:1-1\tnoarch\nb 0:1-1 x86_64\n#\n").set_hash


def _random_line(rng, packager):
    """A package line near the rules' edges: odd characters, separators,
    epochs, every length limit and one either side."""
    alphabet = ["a", "Z", "0", "9", ".", "+", "~", "^", "_", ":", "-", "(", ")", "'", " ", "\t",
                "\x01", "\x7f", "\x0b", "\u00e9", "\u0663", "\u00a0", "\u2028", "%", "?"]

    def word(low, high):
        size = rng.choice([low, high - 1, high, high + 1, rng.randint(low, high)])
        base = rng.choice(["x", "1", "a.b", "1.0"])
        text = (base * size)[:max(size, 0)]
        for _ in range(rng.choice([0, 0, 1, 2])):
            if text:
                at = rng.randrange(len(text))
                text = text[:at] + rng.choice(alphabet) + text[at + 1:]
        return text

    name = rng.choice(["bash", "gpg-pubkey", word(1, 200)])
    arch = rng.choice(["x86_64", "noarch", "all", word(1, 32)])
    epoch = rng.choice(["", "0:", "1:", "00:", "007:", "(none):", "123456789:",
                        "1234567890:", ":", "a:", "\u0661:"])
    if packager == "rpm":
        budget = rng.choice([196, 197, 198, 199, 200, 201, 202, rng.randint(1, 20)])
        version = word(1, max(1, budget - len(epoch) - 2))
        release = rng.choice(["1", "1.el9", word(1, 4), "1-1", ""])
        evr = epoch + version + ("-" + release if release or rng.random() < 0.5 else "")
    else:
        evr = epoch + word(1, rng.choice([20, 199, 200, 201])) + rng.choice(
            ["", "-1", "-1+deb12u1", "-", "-a-b", "~rc1"])
    separator = rng.choice(["\t"] * 8 + [" ", "  ", "\t\t"])
    return separator.join([name, evr, arch])


@pytest.mark.parametrize("packager", ["rpm", "dpkg"])
def test_fast_and_strict_paths_give_identical_verdicts(packager):
    """Random blocks, mostly valid lines with one odd one: the parser with
    its fast paths and the strict per-line rule alone accept the same
    blocks, with the same packages and set hash, and reject the same ones
    with the same reason."""
    import random
    from wlcg_collector import package_lines as module
    rng = random.Random(1123 if packager == "rpm" else 1124)
    good = (["bash\t0:5.1.8-9.el9\tx86_64", "kernel\t0:5.14.0-427.el9\tx86_64",
             "xrootd\t1:5.7.1-1.el9\tx86_64"] if packager == "rpm" else
            ["bash\t5.2.15-2+b2\tamd64", "libc6\t2.36-9+deb12u4\tamd64", "tzdata\t2024a-0\tall"])
    outcomes = {"accepted": 0, "rejected": 0, "stored form": 0, "one pattern": 0}
    fast_lines = module._fast_rpm_lines if packager == "rpm" else module._fast_dpkg_lines
    for _ in range(4000):
        lines = rng.sample(good, rng.randint(0, 3))
        lines += [_random_line(rng, packager) for _ in range(rng.choice([1, 1, 2]))]
        rng.shuffle(lines)
        lines = [line for line in lines if "\n" not in line]
        if not lines:
            continue
        try:
            strict = module.strict_packages(lines, packager, 6)
        except ReportError as exc:
            strict = str(exc)
        try:
            fast, joined = module._parse_packages(lines, packager, 6)
        except ReportError as exc:
            fast, joined = str(exc), None
        assert fast == strict, lines
        if isinstance(strict, str):
            outcomes["rejected"] += 1
            continue
        outcomes["accepted"] += 1
        block = "\n".join(lines)
        if packager == "rpm" and module.STORED_RPM_BLOCK.fullmatch(block):
            outcomes["stored form"] += 1
        elif fast_lines(block, len(lines)) is not None:
            outcomes["one pattern"] += 1
        assert module.package_set_hash(packager, fast, joined) == \
            module.package_set_hash(packager, strict)
    # both verdicts, and each fast path, were exercised
    if packager == "dpkg":
        del outcomes["stored form"]
    assert min(outcomes.values()) > 50, outcomes


def test_a_control_character_in_a_version_is_rejected_on_every_path():
    """The same line with and without its epoch written out."""
    for line in ("v\t0:1.\x01-1\tnoarch", "v\t1.\x01-1\tnoarch", "v\t007:1.\x01-1\tnoarch"):
        with pytest.raises(ReportError) as err:
            parse_report(("#\nsite: S\nhost: h\npackager: rpm\n#\n%s\n#\n" % line).encode())
        assert "bad version" in str(err.value)


def test_format_2_lines_may_name_their_source_package():
    report = parse_report(make_report(version="2", packages=[
        ("libc6", "2.36-9+deb12u4", "amd64", "glibc"), ("bash", "5.2.15-2+b2", "amd64"),
        ("gpg-pubkey", "0:fd431d51-4ae0493b", "(none)", "x")], packager="dpkg"))
    assert report.packages == [("bash", "5.2.15-2+b2", "amd64"),
                               ("libc6", "2.36-9+deb12u4", "amd64")]
    assert report.sources == {"libc6": "glibc", "gpg-pubkey": "x"}
    # the set is the same whatever the sources: a host's set changes with packages only
    plain = parse_report(make_report(packages=[("libc6", "2.36-9+deb12u4", "amd64"),
                                               ("bash", "5.2.15-2+b2", "amd64")], packager="dpkg"))
    assert plain.set_hash == report.set_hash and plain.sources == {}
    spaced = parse_report(b"#\nsite: S\nhost: h\npackager: rpm\nversion: 2\n#\n"
                          b"python3-libs 3.9.18-3.el9 x86_64 python3.9\n#\n")
    assert spaced.sources == {"python3-libs": "python3.9"}


@pytest.mark.parametrize("text,reason", [
    # pakiti-client's format 1 has three fields: a fourth is an error
    (b"#\nsite: S\nhost: h\npackager: rpm\nversion: 1\n#\na\t0:1-1\tx86_64\tsrc\n#\n",
     "package line 7 is not 'name version arch'"),
    (b"#\nsite: S\nhost: h\npackager: rpm\nversion: 2\n#\na\t0:1-1\tx86_64\ts\xc3\xa9\n#\n",
     "package line 7: bad source package name"),
    (b"#\nsite: S\nhost: h\npackager: rpm\nversion: 2\n#\na\t0:1-1\tx86_64\t\n#\n",
     "package line 7: bad source package name"),
    (b"#\nsite: S\nhost: h\npackager: rpm\nversion: 2\n#\na\t0:1-1\tx86_64\ts\tt\n#\n",
     "package line 7 is not 'name version arch'"),
])
def test_format_2_rejects(text, reason):
    with pytest.raises(ReportError) as err:
        parse_report(text)
    assert reason in str(err.value)


def test_format_2_fast_and_strict_paths_agree():
    """Format-2 rpm blocks, mostly valid lines with a source with one odd
    line: parse_report (with the stored-form path for lines that all name
    a source) and the strict rule (each line's fourth field split off, then
    strict_packages) accept the same blocks, with the same packages,
    sources and set hash, and reject the same ones."""
    import random
    from wlcg_collector import package_lines as module
    rng = random.Random(1125)
    good = ["bash\t0:5.1.8-9.el9\tx86_64\tbash", "kernel\t0:5.14.0-427.el9\tx86_64\tkernel",
            "python3-libs\t0:3.9.18-3.el9\tx86_64\tpython3.9",
            "xrootd\t1:5.7.1-1.el9\tx86_64\txrootd"]
    odd = ["gpg-pubkey\t0:fd431d51-4ae0493b\t(none)\tx", "bash\t0:5.1.8-9.el9\tx86_64",
           "bash\t0:5.1.8-9.el9\tx86_64\tother", "bash\t5.1.8-9.el9\tx86_64\tbash",
           "bash\t0:5.1.8-9.el9\tx86_64\tb\u00e4sh", "bash\t0:5.1.8-9.el9\tx86_64\t",
           "bash\t0:5.1.8-9.el9\tx86_64\tbash\tmore", "bash 0:5.1.8-9.el9 x86_64 bash",
           "zsh\t0:5.8-1.el9\tx86_64\t" + "s" * 201, "zsh\t(none):5.8-1.el9\tx86_64\tzsh"]
    outcomes = {"accepted": 0, "rejected": 0, "stored form": 0}
    for _ in range(3000):
        lines = rng.sample(good, rng.randint(1, 4))
        if rng.random() < 0.6:
            lines.append(rng.choice(odd))
        rng.shuffle(lines)
        text = "#\nhost: h\npackager: rpm\nsite: S\nversion: 2\n#\n%s\n#\n" % "\n".join(lines)
        try:
            report = parse_report(text.encode())
            fast = (report.packages, report.set_hash, report.sources)
        except ReportError as exc:
            fast = str(exc)
        try:
            kept, sources = [], {}
            for number, line in enumerate(lines, 7):
                kept_line, source = module._split_sources([line], number)
                kept += kept_line
                sources.update(source)
            packages = module.strict_packages(kept, "rpm", 7)
            strict = (packages, module.package_set_hash("rpm", packages), sources)
        except ReportError as exc:
            strict = str(exc)
        if isinstance(strict, str) or isinstance(fast, str):
            assert isinstance(strict, str) and isinstance(fast, str), lines
            outcomes["rejected"] += 1
            continue
        assert fast[:2] == strict[:2], lines
        # the sources of the packages kept (a build named twice with two
        # sources: either may be kept)
        names = {name for name, _, _ in fast[0]}
        assert set(fast[2]) & names == set(strict[2]) & names, lines
        outcomes["accepted"] += 1
        if module.STORED_RPM_BLOCK_SOURCES.fullmatch("\n".join(lines)):
            outcomes["stored form"] += 1
    assert min(outcomes.values()) > 200, outcomes

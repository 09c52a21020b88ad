"""The collector's parser of the wire format (DESIGN.md section 3)."""

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
    from wlcg_collector import report as module
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

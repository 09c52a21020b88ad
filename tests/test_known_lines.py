"""A changed report is checked line by line only where it is new: the
lines of package rows the process knows (lines of reports it read and
validated before) are taken as they are. Reading a block with such lines
must give exactly what reading it without them gives: the same stored
lines, set hash, packages and sources, or the same ReportError."""

import random

import pytest

from helpers import make_report
from wlcg_collector.db.records import PendingReport
from wlcg_collector import package_lines
from wlcg_collector.ingest import ingest
from wlcg_collector.report import ReportError, parse_report

ARCHES = ("x86_64", "noarch", "i686", "amd64", "all")


def rpm_line(rng):
    name = rng.choice(("bash", "glibc", "kernel", "openssl-libs", "python3.11", "zsh"))
    name += rng.choice(("", "-devel", "-%d" % rng.randint(0, 50)))
    version = "%d.%d-%d.el9" % (rng.randint(0, 9), rng.randint(0, 30), rng.randint(1, 9))
    epoch = rng.choice(("0:", "1:", "", "(none):", "007:", "12:"))
    return "%s\t%s%s\t%s" % (name, epoch, version, rng.choice(ARCHES[:3]))


def dpkg_line(rng):
    name = rng.choice(("libc6", "bash", "openssl", "libssl3", "zlib1g")) + rng.choice(
        ("", "-dev", "%d" % rng.randint(0, 50)))
    version = rng.choice(("", "1:", "2:")) + "%d.%d" % (rng.randint(0, 9), rng.randint(0, 30))
    version += rng.choice(("", "-1", "-1+deb12u1", "~rc1-2", "-0ubuntu1.4"))
    return "%s\t%s\t%s" % (name, version, rng.choice(ARCHES[2:]))


# lines no valid block holds as they are: some refused, some read into
# another (normalised) stored form
ODD_LINES = {
    "rpm": ["a b c", "bash 0:5.1-1 x86_64", "gpg-pubkey\t0:fd431d51-4ae0493b\t(none)",
            "bash\t0:5.1-1\tx86 64", "bash\t0:5.1\tx86_64", "bash\t:5.1-1\tx86_64",
            "bash\t0:" + "9" * 300 + "-1\tx86_64", "bash\t0:5.1-1", "", "bash\t0:5.1-1-2\tx86_64",
            "b\u00e9sh\t0:1-1\tx86_64", "bash\t0:5.1-1\tx86_64\textra"],
    "dpkg": ["libc6 2.36-9 amd64", "libc6\tx:2.36\tamd64", "libc6\t2.36\tamd 64",
             "libc6\t" + "1" * 300 + "\tamd64", "libc6\t2.36", "", "libc6\t2.36_1\tamd64",
             "libc6\t2.36-9\tamd64\tglibc", "libc6\tABC\tamd64"],
}


def read(text, valid):
    """What reading the block gives, or the error it raises."""
    try:
        report = parse_report(text, lazy=True)
        report.read_packages(valid)
    except ReportError as exc:
        return ("error", str(exc))
    return ("read", report.lines, report.set_hash, report.packages, report.sources)


def block_text(packager, lines, version=None):
    headers = ["site: T2_KNOWN", "host: wn.example.org", "packager: " + packager]
    if version:
        headers.append("version: " + version)
    return ("\n".join(["#"] + headers + ["#"] + lines + ["#", ""])).encode("utf-8")


@pytest.fixture
def matched(monkeypatch):
    """The blocks STORED_RPM_BLOCK is asked to match, in order."""
    blocks = []
    real = package_lines.STORED_RPM_BLOCK

    class Spy(object):
        def fullmatch(self, block):
            blocks.append(block)
            return real.fullmatch(block)
    monkeypatch.setattr(package_lines, "STORED_RPM_BLOCK", Spy())
    return blocks


@pytest.mark.parametrize("packager", ["rpm", "dpkg"])
@pytest.mark.parametrize("seed", range(6))
def test_known_lines_read_as_without_them(packager, seed):
    rng = random.Random(seed)
    make = rpm_line if packager == "rpm" else dpkg_line
    # what the process knows: the stored lines of reports it read before
    known = set()
    for _ in range(5):
        earlier = read(block_text(packager, [make(rng) for _ in range(40)]), None)
        if earlier[0] == "read":
            known.update(earlier[1])
    assert len(known) > 50
    for trial in range(60):
        lines = rng.sample(sorted(known), rng.randint(0, 30)) + [
            make(rng) for _ in range(rng.randint(0, 8))]
        if trial % 3 == 0:
            lines.insert(rng.randint(0, len(lines)), rng.choice(ODD_LINES[packager]))
        if trial % 4 == 0 and lines:
            lines.append(rng.choice(lines))  # a line twice
        rng.shuffle(lines)
        version = "2" if trial % 5 == 0 else None
        if version:
            lines = ["%s\t%s" % (line, line.split("\t")[0].split("-")[0]) if trial % 2 else line
                     for line in lines]
        text = block_text(packager, lines, version)
        half = set(rng.sample(sorted(known), len(known) // 2))
        assert read(text, [known]) == read(text, None), lines
        assert read(text, [half, known - half]) == read(text, None), lines


def test_valid_is_containers_of_lines_never_lines():
    """A set of lines passed as `valid` itself would be taken as lines of
    containers, and a line matched by a substring of one: refused."""
    text = block_text("rpm", ["bash\t0:5.1-1\tx86_64"])
    with pytest.raises(TypeError):
        read(text, {"bash\t0:5.1-1\tx86_64\tmore"})


def test_only_the_new_lines_are_matched(matched):
    """The rpm block of a report whose lines are all known but one is
    matched as that one line (it fails on a parser that checks them all)."""
    known = read(make_report(packages=[("p%03d" % i, "0:1.%d-1.el9" % i, "x86_64")
                                       for i in range(200)]), None)[1]
    del matched[:]
    new = "q\t0:1-1.el9\tnoarch"
    text = block_text("rpm", known[:150] + [new])
    assert read(text, [set(known)])[1] == sorted(known[:150] + [new])
    assert matched == [new]
    del matched[:]
    read(text, None)
    assert len(matched) == 1 and matched[0].count("\n") == 150


def test_the_writer_checks_a_changed_report_by_its_new_lines(store, matched):
    """Through the store (both back ends): a host's second report, 3 of
    its 300 packages new, has only those 3 lines matched; its intervals
    are what they would be otherwise."""
    packages = [("p%03d" % i, "0:1.%d-1.el9" % i, "x86_64") for i in range(300)]
    ingest(store, make_report(packages=packages, ts=1767225600), [], "test",
           allow_plaintext=True)
    del matched[:]  # (the first report's lines, all new)
    changed = list(packages)
    for at in (5, 100, 250):
        changed[at] = (changed[at][0], "0:2.0-1.el9", "x86_64")
    result = ingest(store, make_report(packages=changed, ts=1767225700), [], "test",
                    allow_plaintext=True)
    assert result.changes == 6
    assert matched == ["\n".join("\t".join(changed[at]) for at in (5, 100, 250))]
    found = store.hosts.find("wn01.example.org", "T2_TEST")
    assert [tuple(p)[:3] for p in store.hosts.state(found.id)] == sorted(changed)


def test_a_batch_checks_each_report_by_the_lines_before_it_did_not_have(store, matched):
    """A batch of a process that knows no package row yet (a new
    `ingest`'s first): the second host's report, sharing 290 of its 300
    lines with the first's, has its 10 others matched only."""
    shared = [("p%03d" % i, "0:1.%d-1.el9" % i, "x86_64") for i in range(290)]
    own = [[("%s%d" % (who, i), "0:1-1.el9", "noarch") for i in range(10)] for who in "ab"]
    batch = [PendingReport(parse_report(make_report(host="wn%d.example.org" % n,
                                                    packages=shared + own[n], ts=1767225600),
                                        lazy=True), 1767225601, "test")
             for n in range(2)]
    results = store.writer.store_reports(batch)
    assert [r.changes for r in results] == [300, 300]
    assert len(matched) == 2 and matched[0].count("\n") == 299
    assert matched[1] == "\n".join(sorted("\t".join(p) for p in own[1]))

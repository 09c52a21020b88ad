"""Campaigns: a target the sites must meet by a deadline, on a fleet
stored through ingest over five days with the vendors' real advisory
files. Each site's state (done, open, overdue, unknown) and each host's
(fixed, exposed, silent) follow the history at any date; a rename keeps a
host one host, a rollback changes the status; a closed campaign keeps its
final status. Both databases, through the command line."""

import email
import json
import os
from email.policy import default as DEFAULT_POLICY

import pytest

from helpers import ROOT, make_report, run_cli, write_config
from test_exposure import (ALMA9, AVAHI_FIX, AVAHI_OLD, BASH9, DAY, HOUR_OF_REPORTS, T0, at,
                           host_name, import_fixtures)
from wlcg_collector.db import open_store
from wlcg_collector.report import parse_report

# the campaign starts on day 1, its deadline is day 3 (two days later)
START = T0 + DAY
DEADLINE = START + 2 * DAY
ADVISORY = "ALSA-2024:2433"  # avahi on AlmaLinux 9, fixed in 0:0.8-20.el9

FLEET = [
    ("T2_ALMA", "c-before", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD] for d in range(5)}),
    ("T2_ALMA", "c-fixed", ALMA9, "rpm",
     {d: [BASH9, AVAHI_OLD if d < 2 else AVAHI_FIX] for d in range(5)}),
    ("T2_ALMA", "c-removed", ALMA9, "rpm",
     {d: [BASH9] + ([AVAHI_OLD] if d < 3 else []) for d in range(5)}),
    ("T2_ALMA", "c-late", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD] for d in (3, 4)}),
    ("T2_ALMA", "c-silent", ALMA9, "rpm", {0: [BASH9, AVAHI_OLD]}),
    ("T2_ALMA", "c-never", ALMA9, "rpm", {d: [BASH9, AVAHI_FIX] for d in range(5)}),
    ("T2_DONE", "d-fixed", ALMA9, "rpm",
     {d: [BASH9, AVAHI_OLD if d < 2 else AVAHI_FIX] for d in range(5)}),
    ("T2_QUIET", "q-silent", ALMA9, "rpm", {0: [BASH9, AVAHI_OLD]}),
]


def store_fleet(store, fleet, t0=T0):
    """A fleet's reports ((site, host, system, packager, {day: packages})),
    each made as test_exposure's (at(day): an hour into its day, or less
    early in today) and stored 100 s later (or sooner): parsed and
    stored as ingest does once a body is open (the tests of ingest itself
    decrypt theirs; these need only the history)."""
    for day in range(5):
        for site, host, system, packager, days in fleet:
            if day in days:
                ts = t0 + day * DAY + HOUR_OF_REPORTS
                result = store.writer.store_report(parse_report(make_report(
                    site, host_name(host), days[day], ts=ts, packager=packager,
                    system=system)), ts + min(100, HOUR_OF_REPORTS), "192.0.2.1")
                assert result.outcome in ("changed", "unchanged"), (host, day, result)


def build_fleet(url):
    store = open_store(url)
    try:
        store_fleet(store, FLEET)
        import_fixtures(store)
    finally:
        store.close()


@pytest.fixture
def fleet(database_url, built_databases):
    """FLEET and the fixtures' advisories (built once a process, copied)."""
    built_databases.copy(build_fleet, database_url)
    store = open_store(database_url)
    yield store
    store.close()


def cli(store, *args):
    return run_cli(["--db", store.db.dialect.describe()] + list(args))


def iso(seconds):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def add(store, *args):
    code, out, err = cli(store, "campaign", "add", *args)
    assert (code, err) == (0, ""), err
    return out


def status(store, name, *args):
    code, out, err = cli(store, "campaign", "status", name, "--format", "json", *args)
    assert (code, err) == (0, ""), err
    return {site["site"]: site for site in json.loads(out)}


def counts(site):
    return tuple(site[k] for k in ("state", "affected", "fixed", "exposed", "excepted",
                                   "silent"))


def test_each_site_from_the_history(fleet):
    out = add(fleet, "avahi", "--advisory", ADVISORY, "--start", iso(START), "--days", "2")
    assert out == "campaign avahi: advisory %s, from %s, deadline %s\n" % (
        ADVISORY, iso(START), iso(DEADLINE))
    now = status(fleet, "avahi")
    # overdue: two hosts still exposed (one joined exposed), one fixed, one
    # removed the package, one silent since before the start
    assert counts(now["T2_ALMA"]) == ("overdue", 5, 2, 2, 0, 1)
    assert now["T2_ALMA"]["overdue_days"] >= 1 and now["T2_ALMA"]["deadline"] == DEADLINE
    assert [(h["host"], h["package"], h["installed"], h["fixed"], h["advisories"])
            for h in now["T2_ALMA"]["hosts"]] == [
        (host_name(h), "avahi", AVAHI_OLD[1], "0.8-20.el9", [ADVISORY])
        for h in ("c-before", "c-late", "c-silent")]
    assert counts(now["T2_DONE"]) == ("done", 1, 1, 0, 0, 0) and now["T2_DONE"]["hosts"] == []
    assert counts(now["T2_QUIET"]) == ("unknown", 1, 0, 0, 0, 1)
    assert now["T2_QUIET"]["overdue_days"] is None
    assert set(now) == {"T2_ALMA", "T2_DONE", "T2_QUIET"}  # never-exposed hosts: not affected
    # before the deadline, as it stood then: open; c-late had not joined
    then = status(fleet, "avahi", "--at", iso(at(2) + 600))
    assert counts(then["T2_ALMA"]) == ("open", 4, 1, 2, 0, 1)
    assert counts(then["T2_DONE"]) == ("done", 1, 1, 0, 0, 0)
    # one site
    assert list(status(fleet, "avahi", "--site", "t2_done")) == ["T2_DONE"]


def test_the_table_lists_overdue_sites_first(fleet):
    add(fleet, "avahi", "--advisory", ADVISORY, "--start", iso(START), "--days", "2")
    code, out, err = cli(fleet, "campaign", "status", "avahi")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("campaign avahi: advisory %s; deadline %s (passed); status at "
                               % (ADVISORY, iso(DEADLINE)))
    sites = [line.split()[0] for line in lines[3:6]]
    assert sites == ["T2_ALMA", "T2_QUIET", "T2_DONE"]
    assert "hosts still exposed:" in lines
    assert sum(1 for line in lines if "c-before.example.org" in line) == 1


def test_a_requirement_and_a_cve(fleet):
    add(fleet, "avahi-req", "--requirement", "avahi >= 0:0.8-20.el9", "--start", iso(START),
        "--deadline", iso(DEADLINE), "--system", "el9")
    assert counts(status(fleet, "avahi-req")["T2_ALMA"]) == ("overdue", 5, 2, 2, 0, 1)
    add(fleet, "avahi-cve", "--cve", "cve-2023-38469", "--start", iso(START), "--days", "2")
    assert counts(status(fleet, "avahi-cve")["T2_ALMA"]) == ("overdue", 5, 2, 2, 0, 1)
    # a system pattern no host has: nobody is affected
    add(fleet, "none", "--advisory", ADVISORY, "--start", iso(START), "--days", "2",
        "--system", "Debian*")
    assert status(fleet, "none") == {}


def test_a_tag_and_exceptions(fleet):
    """A tag's advisories (one named through its CVE); an exception in
    force excepts a host (never counted as exposed nor fixed, shown with its
    reason), and a past date sees the exceptions as they stood."""
    assert cli(fleet, "tags", "add", "EGI-Critical")[0] == 0
    assert cli(fleet, "tags", "apply", "EGI-Critical", "CVE-2023-38469")[0] == 0
    add(fleet, "critical", "--tag", "EGI-Critical", "--start", iso(START), "--days", "2")
    assert counts(status(fleet, "critical")["T2_ALMA"]) == ("overdue", 5, 2, 2, 0, 1)
    # c-before's avahi is mitigated; the silent q-silent's site too
    code, out, err = cli(fleet, "exceptions", "add", "--advisory", ADVISORY, "--reason",
                         "avahi-daemon masked", "--host", host_name("c-before"))
    assert code == 0, err
    exception_id = int(out.split()[2].rstrip(":"))
    assert cli(fleet, "exceptions", "add", "--cve", "CVE-2023-38469", "--reason",
               "retiring", "--site", "T2_QUIET", "--by", "jdoe")[0] == 0
    # (one CVE of the advisory's several: not enough to except it)
    now = status(fleet, "critical")
    assert counts(now["T2_ALMA"]) == ("overdue", 5, 2, 1, 1, 1)
    assert [(e["host"], e["package"], e["exception"], e["reason"])
            for e in now["T2_ALMA"]["excepted_hosts"]] == [
        (host_name("c-before"), "avahi", exception_id, "avahi-daemon masked")]
    assert host_name("c-before") not in [h["host"] for h in now["T2_ALMA"]["hosts"]]
    assert counts(now["T2_QUIET"]) == ("unknown", 1, 0, 0, 0, 1)
    # before the exception was added, c-before was exposed
    then = status(fleet, "critical", "--at", iso(at(2) + 600))
    assert counts(then["T2_ALMA"])[3:5] == (2, 0)
    # every exposed host excepted or fixed: done
    assert cli(fleet, "exceptions", "add", "--advisory", ADVISORY, "--reason", "retired",
               "--site", "T2_ALMA")[0] == 0
    # (the silent host too: what it held is excepted, whatever it holds now)
    assert counts(status(fleet, "critical")["T2_ALMA"]) == ("done", 5, 2, 0, 3, 0)
    code, out, err = cli(fleet, "campaign", "add", "x", "--tag", "nope", "--days", "7")
    assert (code, out) == (1, "") and err.count("\n") == 1 and "nope" in err


def test_a_rename_keeps_a_host_one_host_and_a_rollback_counts(fleet):
    add(fleet, "avahi", "--advisory", ADVISORY, "--start", iso(START), "--days", "2")
    fleet.sites.move("T2_DONE", "T2_DONE_NEW", "rename", T0 + 5 * DAY, "officer")
    now = status(fleet, "avahi")
    assert "T2_DONE" not in now and counts(now["T2_DONE_NEW"]) == ("done", 1, 1, 0, 0, 0)
    host = fleet.hosts.find(host_name("d-fixed"))
    fleet.review.rollback(host, at(1) + 600)  # back to before its fix
    assert counts(status(fleet, "avahi")["T2_DONE_NEW"])[:4] == ("overdue", 1, 0, 1)


def test_the_burndown(fleet, tmp_path):
    add(fleet, "avahi", "--advisory", ADVISORY, "--start", iso(START), "--days", "2")
    code, out, err = cli(fleet, "campaign", "status", "avahi", "--burndown", "--format", "json")
    assert code == 0 and err == ""
    days = [(d["hosts"], d["sites"]) for d in json.loads(out)]
    # day 1: before, fixed, removed, silent (T2_ALMA), d-fixed, q-silent; day 2: fixes;
    # day 3: c-removed gone, c-late joins; day 4 as day 3
    assert days == [(6, 3), (4, 2), (4, 2), (4, 2)]
    picture = tmp_path / "burndown.svg"
    code, out, err = cli(fleet, "campaign", "status", "avahi", "--plot", str(picture),
                         "--burndown")
    assert code == 0 and picture.read_bytes().startswith(b"<?xml")


def test_a_closed_campaign_keeps_its_final_status(fleet):
    add(fleet, "avahi", "--advisory", ADVISORY, "--start", iso(START), "--days", "2")
    before = status(fleet, "avahi")
    code, out, err = cli(fleet, "campaign", "close", "avahi", "--by", "officer")
    assert (code, err) == (0, "")
    assert out == "closed campaign avahi: 1 site(s) done, 0 open, 1 overdue, 1 unknown\n"
    # the last exposed hosts are fixed afterwards: the final status stays
    later = [(site, host, system, packager, {4: [BASH9, AVAHI_FIX]})
             for site, host, system, packager, _ in FLEET if host in ("c-before", "c-late")]
    store_fleet(fleet, later, T0 + 3600)
    assert status(fleet, "avahi") == before
    assert status(fleet, "avahi", "--at", iso(T0 + 6 * DAY))["T2_ALMA"]["exposed"] == 0
    code, out, err = cli(fleet, "campaign", "close", "avahi")
    assert code == 1 and err.startswith("wlcg-collector: campaign avahi was closed on ")
    code, out, err = cli(fleet, "campaign", "list", "--format", "json")
    [listed] = json.loads(out)
    assert (listed["campaign"], listed["done"], listed["overdue"], listed["unknown"]) == (
        "avahi", 1, 1, 1) and listed["closed"] is not None


@pytest.mark.parametrize("args, code, message", [
    (["x", "--advisory", "ALSA-1999:0001", "--days", "7"], 1, "no advisory ALSA-1999:0001"),
    (["x", "--cve", "CVE-1999-0001", "--days", "7"], 1, "no stored advisory names CVE-1999-0001"),
    (["x", "--advisory", ADVISORY, "--start", "2026-01-10", "--deadline", "2026-01-09"], 2,
     "the deadline must come after the start"),
    (["x", "--advisory", ADVISORY, "--days", "0"], 2, "the deadline must come after the start"),
    (["x", "--requirement", "avahi", "--days", "7"], 2, "requirement 'avahi': expected"),
    (["../x", "--advisory", ADVISORY, "--days", "7"], 2, "campaign name '../x'"),
    (["x", "--advisory", ADVISORY], 2, "one of the arguments --deadline --days is required"),
    (["x", "--advisory", ADVISORY, "--days", "7", "--system", "el9\x1b[2J"], 2,
     "--system 'el9\\x1b[2J': a pattern of 255 visible characters or fewer"),
    (["x", "--advisory", ADVISORY, "--days", "7", "--by", "x" * 65], 2,
     "who is longer than 64 characters"),
    (["x" * 101, "--advisory", ADVISORY, "--days", "7"], 2, "campaign name"),
    # a deadline no date can print, and a date a time prints in fewer digits
    (["x", "--advisory", ADVISORY, "--days", "100000000000000"], 2,
     "the deadline must come within 3660 days of the start"),
    (["x", "--advisory", ADVISORY, "--start", "0001-01-01", "--days", "7"], 2,
     "is not a date from 1970 to 9999"),
    (["x", "--cve", "NOTACVE", "--days", "7"], 2, "'NOTACVE' is not a CVE id"),
])
def test_bad_campaigns_are_one_line(fleet, args, code, message):
    got, out, err = cli(fleet, "campaign", "add", *args)
    # (argparse's own errors come after its usage lines)
    assert (got, out) == (code, "") and message in err.splitlines()[-1]
    assert err.count("\n") == 1 or err.startswith("usage: ")
    assert fleet.campaigns.listed() == []


def test_unknown_campaigns_and_a_second_of_one_name(fleet):
    for action in ("status", "show", "close"):
        code, out, err = cli(fleet, "campaign", action, "nope")
        assert (code, out, err) == (1, "", "wlcg-collector: unknown campaign 'nope'\n")
    add(fleet, "avahi", "--advisory", ADVISORY, "--days", "7")
    code, out, err = cli(fleet, "campaign", "add", "avahi", "--advisory", ADVISORY, "--days", "7")
    assert (code, err) == (1, "wlcg-collector: campaign 'avahi' exists already\n")
    code, out, err = cli(fleet, "campaign", "status", "avahi", "--at", iso(T0))
    assert code == 2 and "before the campaign started" in err
    # names that differ in case only are one campaign
    code, out, err = cli(fleet, "campaign", "add", "AVAHI", "--advisory", ADVISORY, "--days", "7")
    assert (code, err) == (1, "wlcg-collector: campaign 'avahi' exists already\n")
    # one that has not started yet has nothing to tell
    add(fleet, "later", "--advisory", ADVISORY, "--start", iso(T0 + 30 * DAY), "--days", "7")
    code, out, err = cli(fleet, "campaign", "status", "later")
    assert (code, err) == (0, "") and out.endswith("nothing to tell yet\n")


def test_the_store_keeps_campaigns_across_connections(store):
    store.campaigns.add("c1", "advisory", ADVISORY, None, START, DEADLINE, START, "officer")
    other = open_store(store.db.dialect.describe())
    try:
        assert [c.name for c in other.campaigns.listed()] == ["c1"]
    finally:
        other.close()


# -- notices: each site told what to do, through a real SMTP server

CONTACTS_FILE = os.path.join(ROOT, "tests", "fixtures", "sites", "gocdb-get_site_contacts.xml")
NOTICE_FLEET = [
    ("T2_XX_Alpha", "x-old", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD] for d in range(5)}),
    ("T2_XX_Alpha", "x-fixed", ALMA9, "rpm",
     {d: [BASH9, AVAHI_OLD if d < 2 else AVAHI_FIX] for d in range(5)}),
    ("T2_YY_Beta", "y-old", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD] for d in range(5)}),
    ("T2_ZZ_Nobody", "z-old", ALMA9, "rpm", {d: [BASH9, AVAHI_OLD] for d in range(5)}),
    ("T2_WW_Done", "w-fixed", ALMA9, "rpm",
     {d: [BASH9, AVAHI_OLD if d < 2 else AVAHI_FIX] for d in range(5)}),
]


@pytest.fixture
def noticed(store, tmp_path):
    """The notice fleet, GOCDB's contacts of two of its sites (the third
    has none), a campaign overdue, and run(args, port) -> (code, out, err)
    with a config whose [mail] relay is 127.0.0.1:port."""
    store_fleet(store, NOTICE_FLEET)
    import_fixtures(store)
    url = store.db.dialect.describe()
    assert run_cli(["--db", url, "sites", "contacts", "import", CONTACTS_FILE])[0] == 0
    add(store, "avahi", "--advisory", ADVISORY, "--start", iso(START), "--days", "2")

    def run(args, port=1):
        path = write_config(tmp_path / "collector.conf", url, [])
        with open(path, "a") as handle:
            handle.write("[mail]\nsmtp_host = 127.0.0.1\nsmtp_port = %d\nstarttls = no\n"
                         "from = wlcg-security@example.org\n" % port)
        return run_cli(["--config", path, "campaign"] + list(args))
    return store, run


def read_messages(directory):
    found = {}
    for name in sorted(os.listdir(str(directory))):
        with open(os.path.join(str(directory), name), "rb") as handle:
            found[name] = email.message_from_bytes(handle.read(), policy=DEFAULT_POLICY)
    return found


def test_notices_are_written_one_a_site_to_whom_it_names(noticed, tmp_path):
    store, run = noticed
    out_dir = tmp_path / "notices"
    code, out, err = run(["notices", "avahi", "--out", str(out_dir)])
    # a site with no contact is said, never skipped silently
    assert code == 1 and out == "wrote 2 notice(s) (notice) into %s\n" % out_dir
    assert err == ("wlcg-collector: site T2_ZZ_Nobody has no contact (no CSIRT, security "
                   "officer or administrator imported: sites contacts import): no notice\n"
                   "wlcg-collector: 1 site(s) not notified (above)\n")
    messages = read_messages(out_dir)
    assert sorted(messages) == ["T2_XX_Alpha.eml", "T2_YY_Beta.eml"]
    alpha, beta = messages["T2_XX_Alpha.eml"], messages["T2_YY_Beta.eml"]
    # the security officer (no CSIRT imported), else the administrators
    assert (alpha["To"], beta["To"]) == ("sam.security@alpha.example.org", "bo@beta.example.net")
    assert alpha["From"] == "wlcg-security@example.org"
    assert alpha["Subject"] == "[WLCG] campaign avahi at T2_XX_Alpha: deadline %s" % (
        iso(DEADLINE)[:10])
    body = alpha.get_content()
    assert host_name("x-old") in body and AVAHI_OLD[1] in body and "0.8-20.el9" in body
    # nothing of another site, nor a host already fixed
    assert host_name("y-old") not in body and host_name("x-fixed") not in body
    assert host_name("y-old") in beta.get_content()
    assert oct(os.stat(str(out_dir)).st_mode & 0o777) == "0o700"
    assert store.campaigns.notices(store.campaigns.get("avahi")) == []  # written, not sent


def test_notices_are_sent_once_a_stage(noticed, tmp_path):
    from test_mail import Inbox, free_port
    from aiosmtpd.controller import Controller
    store, run = noticed
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        code, out, err = run(["notices", "avahi", "--out", str(tmp_path / "1"), "--send"],
                             controller.port)
        assert code == 1 and "T2_ZZ_Nobody has no contact" in err
        assert out.endswith("sent 2 notice(s)\n")
        assert sorted(rcpt[0] for _, rcpt, _, _ in inbox.received) == [
            "bo@beta.example.net", "sam.security@alpha.example.org"]
        log = json.loads(run(["log", "avahi", "--format", "json"])[1])
        assert sorted((e["site"], e["stage"], e["recipients"]) for e in log) == [
            ("T2_XX_Alpha", "notice", "sam.security@alpha.example.org"),
            ("T2_YY_Beta", "notice", "bo@beta.example.net")]
        sent = {e["message_id"] for e in log}
        assert sent == {email.message_from_bytes(content, policy=DEFAULT_POLICY)["Message-ID"]
                        for _, _, content, _ in inbox.received}
        # the same stage again: nothing sent, unless --again
        code, out, err = run(["notices", "avahi", "--out", str(tmp_path / "2"), "--send"],
                             controller.port)
        assert "skipped 2 site(s) sent this stage already" in out and len(inbox.received) == 2
        run(["notices", "avahi", "--out", str(tmp_path / "3"), "--send", "--again"],
            controller.port)
        assert len(inbox.received) == 4
        # the overdue stage is a stage of its own, for overdue sites only
        code, out, err = run(["notices", "avahi", "--overdue", "--out", str(tmp_path / "4"),
                              "--send"], controller.port)
        assert len(inbox.received) == 6
        subjects = [email.message_from_bytes(c, policy=DEFAULT_POLICY)["Subject"]
                    for _, _, c, _ in inbox.received[4:]]
        assert all(s.startswith("[WLCG] OVERDUE campaign avahi at ") for s in subjects), subjects
        assert len(json.loads(run(["log", "avahi", "--format", "json"])[1])) == 6
    finally:
        controller.stop()


def test_an_address_that_would_become_others_never_reaches_a_header(noticed, tmp_path):
    """An RFC 2047 encoded word in a contact's address would be decoded
    into other recipients (or a line break) when the header is made: the
    import refuses it, and a site left without an address is said."""
    store, run = noticed
    hostile = tmp_path / "contacts.xml"
    with open(CONTACTS_FILE, encoding="utf-8") as handle:
        text = handle.read()
    hostile.write_text(text.replace(
        "bo@beta.example.net", "=?utf-8?b?ZXZpbEBhdHRhY2tlci5vcmcsIHZpY3RpbQ==?=@beta.example.net"),
        encoding="utf-8")
    code, out, err = run_cli(["--db", store.db.dialect.describe(), "sites", "contacts", "import",
                              str(hostile)])
    assert code == 1 and "=?utf-8?b?" in err  # named, and skipped
    code, out, err = run(["notices", "avahi", "--out", str(tmp_path / "n")])
    assert "site T2_YY_Beta has no contact" in err
    assert sorted(os.listdir(str(tmp_path / "n"))) == ["T2_XX_Alpha.eml"]
    assert b"attacker" not in (tmp_path / "n" / "T2_XX_Alpha.eml").read_bytes()


def test_a_refused_recipient_and_a_relay_away_are_not_recorded(noticed, tmp_path):
    from test_mail import Inbox, free_port
    from aiosmtpd.controller import Controller
    store, run = noticed
    code, out, err = run(["notices", "avahi", "--out", str(tmp_path / "1"), "--send"],
                         free_port())
    assert code == 1 and err.splitlines()[-1].startswith(
        "wlcg-collector: mail relay 127.0.0.1:") and "unreachable" in err
    assert store.campaigns.notices(store.campaigns.get("avahi")) == []
    inbox = Inbox(refuse={"bo@beta.example.net"})
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        code, out, err = run(["notices", "avahi", "--out", str(tmp_path / "2"), "--send"],
                             controller.port)
    finally:
        controller.stop()
    assert code == 1 and ("wlcg-collector: site T2_YY_Beta: the relay refused "
                          "bo@beta.example.net: 550 5.1.1 no such mailbox\n") in err
    assert [n.site for n in store.campaigns.notices(store.campaigns.get("avahi"))] == [
        "T2_XX_Alpha"]


def test_notices_go_only_into_a_directory_of_ones_own(noticed, tmp_path):
    store, run = noticed
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    code, out, err = run(["notices", "avahi", "--out", str(shared)])
    assert code == 2 and "may be written by others" in err and os.listdir(str(shared)) == []
    # a link to a directory of one's own is not taken either: where it leads
    # may change between the check and the writing
    own = tmp_path / "own"
    own.mkdir(mode=0o700)
    os.symlink(str(own), str(tmp_path / "link"))
    code, out, err = run(["notices", "avahi", "--out", str(tmp_path / "link")])
    assert code == 2 and "is not a directory" in err and os.listdir(str(own)) == []
    (tmp_path / "file").write_text("")
    code, out, err = run(["notices", "avahi", "--out", str(tmp_path / "file")])
    assert code == 2 and "is not a directory" in err
    if os.geteuid() == 0:  # (only root can give a directory away)
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o755)
        os.chown(str(theirs), 65534, 65534)
        code, out, err = run(["notices", "avahi", "--out", str(theirs)])
        assert code == 2 and "belongs to another user" in err and os.listdir(str(theirs)) == []

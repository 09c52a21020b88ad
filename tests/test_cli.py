"""The wlcg-collector command: keys, schema, start-up checks, ingest of
files and the read commands, on SQLite and MariaDB."""

import csv
import io
import json
import os
import stat
import time

import pytest

from helpers import collector_command, make_key_pair, make_report, run_cli, write_config
from wlcg_collector import create_app
from wlcg_collector.config import ConfigError
from wlcg_collector.crypto import encrypt

T0 = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86400
OLD = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.6.9-1.el9", "x86_64")]
NEW = [("bash", "0:5.1.8-9.el9", "x86_64"), ("xrootd", "1:5.7.1-1.el9", "x86_64"),
       ("htcondor", "0:24.0.1-1.el9", "x86_64")]


def run(*args):
    return run_cli(args)


@pytest.fixture
def loaded(tmp_path, database_url, collector_keys):
    """A database with two hosts at two sites and a few days of history."""
    assert run("--db", database_url, "init-db")[0] == 0
    files = []
    reports = [
        ("T2_ALPHA", "wn01.alpha.org", OLD, 0),
        ("T2_ALPHA", "wn01.alpha.org", NEW, 2),
        ("T2_BETA", "ce.beta.org", OLD, 1),
    ]
    for index, (site, host, packages, day) in enumerate(reports):
        path = tmp_path / ("r%d.p7m" % index)
        path.write_bytes(encrypt(make_report(site, host, packages, ts=T0 + day * DAY),
                                 collector_keys[1]))
        files.append(str(path))
    code, out, err = run("--db", database_url, "--key", collector_keys[0], "--cert",
                         collector_keys[1], "ingest", *files)
    assert code == 0, err
    assert out == "stored 3 of 3 report(s): 3 changed\n"
    return database_url


def test_keygen(tmp_path):
    code, out, err = run("keygen", str(tmp_path / "keys"))
    assert code == 0, err
    key, cert = tmp_path / "keys" / "collector.key", tmp_path / "keys" / "collector.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    from wlcg_collector.crypto import check_pair, decrypt
    check_pair(str(key), str(cert))
    assert decrypt(encrypt(b"#\nhello\n", str(cert)), [(str(key), str(cert))]) == b"#\nhello\n"
    code, out, err = run("keygen", str(tmp_path / "keys"))
    assert code == 1 and "exists" in err and err.count("\n") == 1


def test_init_db_creates_then_reports_current(fresh_database_url):
    assert run("--db", fresh_database_url, "init-db")[1] == "created schema version 13\n"
    assert run("--db", fresh_database_url, "init-db")[1] == "schema version 13 is current\n"


@pytest.mark.parametrize("url", ["postgres://x/y", "mysql://host-without-db", "sqlite:///"])
def test_bad_database_url_is_one_line_exit_2(url):
    code, out, err = run("--db", url, "init-db")
    assert code == 2 and err.startswith("wlcg-collector: database URL") and err.count("\n") == 1


def test_read_command_before_init_db_says_so(tmp_path):
    code, _, err = run("--db", "sqlite:///%s" % (tmp_path / "x.db"), "sites")
    assert code == 1 and "run wlcg-collector init-db" in err


# ---------------------------------------------------------------- start-up checks

def test_startup_checks(tmp_path, collector_keys, database_url):
    run("--db", database_url, "init-db")
    key, cert = collector_keys
    names = iter(range(100))

    def config(pairs, url=database_url, **options):
        return write_config(tmp_path / ("c%d.conf" % next(names)), url, pairs, **options)

    assert create_app(config([(key, cert)])).config.pairs == [(key, cert)]
    app = create_app(config([(key, cert)], package_cache="2000"))
    assert app.store.writer.package_ids.limit == 2000
    assert app.store.db.read_connections == 2
    assert create_app(config([(key, cert)], read_connections="6")).store.db.read_connections == 6
    loose = tmp_path / "loose.key"
    loose.write_bytes(open(key, "rb").read())
    loose.chmod(0o640)
    other_key, other_cert = make_key_pair(tmp_path / "other")
    cases = [
        (config([]), "no collector key configured"),
        (config([(str(tmp_path / "missing.key"), cert)]), "No such file"),
        (config([(str(loose), cert)]), "readable by group or others (mode 0640)"),
        (config([(other_key, cert)]), "does not belong to certificate"),
        (config([(key, str(tmp_path / "missing.pem"))]), "missing or unreadable"),
        (config([(key, cert)], max_body="lots"), "max_body = 'lots': not a whole number"),
        (config([(key, cert)], max_body="\u0661\u0660\u0662\u0664"), "not a whole number"),
        (config([(key, cert)], package_cache="-1"), "package_cache -1 is negative"),
        (config([(key, cert)], read_connections="0"), "read_connections = 0: at least 1"),
        (config([(key, cert)], read_connections="33"), "read_connections = 33: at most 32"),
        (config([(key, cert)], read_connections="two"), "read_connections = 'two': not a whole"),
        (config([(key, cert)], url="ftp://x"), "unsupported database"),
        (config([(key, cert)], url="sqlite:///%s" % (tmp_path / "empty.db")),
         "database has no schema: run wlcg-collector init-db"),
    ]
    for path, reason in cases:
        with pytest.raises(ConfigError) as err:
            create_app(path)
        assert reason in str(err.value)
        assert "\n" not in str(err.value)
    # the same through the command line: one line, exit 2
    proc = collector_command(["--config", config([(str(loose), cert)]), "serve"])
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1


def test_config_from_environment(tmp_path, collector_keys, database_url):
    run("--db", database_url, "init-db")
    path = write_config(tmp_path / "env.conf", database_url, [collector_keys])
    os.environ["WLCG_COLLECTOR_CONFIG"] = path
    try:
        assert create_app().config.path == path
    finally:
        del os.environ["WLCG_COLLECTOR_CONFIG"]


# ---------------------------------------------------------------- ingest files

def test_ingest_reports_bad_files_and_goes_on(tmp_path, database_url, collector_keys):
    run("--db", database_url, "init-db")
    good = tmp_path / "good.txt"
    good.write_bytes(make_report(packages=OLD, ts=T0))
    bad = tmp_path / "bad.p7m"
    bad.write_bytes(b"\x30\x82garbage")
    code, out, err = run("--db", database_url, "--key", collector_keys[0], "--cert",
                         collector_keys[1], "ingest", str(good), str(bad))
    assert code == 1
    assert out == "stored 1 of 2 report(s): 1 changed\n"
    assert err == "wlcg-collector: %s: body is not DER PKCS#7 enveloped data\n" % bad


# ---------------------------------------------------------------- read commands

def test_sites(loaded):
    code, out, _ = run("--db", loaded, "sites", "--format", "json")
    assert json.loads(out) == [
        {"site": "T2_ALPHA", "hosts": 1, "last_report": "2026-01-03T00:00:00Z"},
        {"site": "T2_BETA", "hosts": 1, "last_report": "2026-01-02T00:00:00Z"}]
    code, out, _ = run("--db", loaded, "sites")
    assert out.splitlines()[0].split() == ["SITE", "HOSTS", "LAST_REPORT"]


def test_hosts(loaded):
    code, out, _ = run("--db", loaded, "hosts", "--format", "json")
    assert json.loads(out) == [
        {"site": "T2_ALPHA", "host": "wn01.alpha.org", "system": "AlmaLinux 9.4",
         "packager": "rpm", "last_report": "2026-01-03T00:00:00Z", "packages": 3,
         "trust": "unsigned"},
        {"site": "T2_BETA", "host": "ce.beta.org", "system": "AlmaLinux 9.4",
         "packager": "rpm", "last_report": "2026-01-02T00:00:00Z", "packages": 2,
         "trust": "unsigned"}]
    code, out, _ = run("--db", loaded, "hosts", "--site", "T2_BETA", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["host"] for r in rows] == ["ce.beta.org"]
    # every host is silent for years by now; none for the last 100 years
    stale = (time.time() - T0) / DAY - 10
    code, out, _ = run("--db", loaded, "hosts", "--stale", str(stale), "--format", "json")
    assert len(json.loads(out)) == 2
    code, out, _ = run("--db", loaded, "hosts", "--stale", "36500", "--format", "json")
    assert json.loads(out) == []
    code, _, err = run("--db", loaded, "hosts", "--site", "T2_NOWHERE")
    assert code == 1 and err == "wlcg-collector: unknown site 'T2_NOWHERE'\n"


def test_the_parser_is_built_once_and_each_command_parses_afresh(loaded):
    """main() reuses one parser a process; what one command was given
    (its --site, its --format) is not what the next one gets."""
    from wlcg_collector import cli
    assert cli.command_line() is cli.command_line()
    code, out, _ = run("--db", loaded, "hosts", "--site", "T2_BETA", "--format", "json")
    assert [h["host"] for h in json.loads(out)] == ["ce.beta.org"]
    code, out, _ = run("--db", loaded, "hosts")
    assert code == 0 and out.startswith("SITE") and "wn01.alpha.org" in out


def test_state_now_and_at(loaded):
    code, out, _ = run("--db", loaded, "state", "wn01.alpha.org", "--format", "json")
    assert json.loads(out) == [{"name": n, "version": v, "arch": a} for n, v, a in
                               sorted(NEW, key=lambda p: (p[0], p[2], p[1]))]
    code, out, _ = run("--db", loaded, "state", "wn01.alpha.org", "--at", "2026-01-02",
                       "--format", "json")
    assert json.loads(out) == [{"name": n, "version": v, "arch": a} for n, v, a in OLD]
    code, out, _ = run("--db", loaded, "state", "wn01.alpha.org", "--at",
                       "2026-01-01T00:00:00Z", "--format", "json")
    assert json.loads(out) == [{"name": n, "version": v, "arch": a} for n, v, a in OLD]
    # before its first report: nothing is known, which an empty table did not say
    code, out, err = run("--db", loaded, "state", "wn01.alpha.org", "--at",
                         "2025-12-31T23:59:59Z", "--format", "json")
    assert (code, out) == (1, "") and err == (
        "wlcg-collector: wn01.alpha.org at T2_ALPHA first reported at 2026-01-01T00:00:00Z: "
        "nothing is known of it at 2025-12-31T23:59:59Z\n")


def test_history(loaded):
    code, out, _ = run("--db", loaded, "history", "wn01.alpha.org", "--format", "json")
    rows = json.loads(out)
    assert rows[-2:] == [
        {"time": "2026-01-03T00:00:00Z", "action": "installed", "name": "htcondor",
         "arch": "x86_64", "old": None, "new": "0:24.0.1-1.el9"},
        {"time": "2026-01-03T00:00:00Z", "action": "upgraded", "name": "xrootd",
         "arch": "x86_64", "old": "1:5.6.9-1.el9", "new": "1:5.7.1-1.el9"}]
    assert [r["action"] for r in rows[:2]] == ["installed", "installed"]
    code, out, _ = run("--db", loaded, "history", "wn01.alpha.org", "--since", "2026-01-02",
                       "--format", "json")
    assert len(json.loads(out)) == 2
    # --until: the changes before a date
    code, out, _ = run("--db", loaded, "history", "wn01.alpha.org", "--until", "2026-01-03",
                       "--format", "json")
    assert [(r["time"], r["action"], r["name"]) for r in json.loads(out)] == [
        ("2026-01-01T00:00:00Z", "installed", "bash"),
        ("2026-01-01T00:00:00Z", "installed", "xrootd")]
    code, out, _ = run("--db", loaded, "history", "wn01.alpha.org", "--since", "2026-01-02",
                       "--until", "2026-01-03T00:00:01Z", "--format", "json")
    assert len(json.loads(out)) == 2
    code, out, err = run("--db", loaded, "history", "wn01.alpha.org", "--since", "2026-01-02",
                         "--until", "2026-01-02")
    assert (code, out) == (2, "") and err == ("wlcg-collector: --until 2026-01-02T00:00:00Z is "
                                              "not after --since 2026-01-02T00:00:00Z\n")


def test_reports(loaded):
    code, out, _ = run("--db", loaded, "reports", "ce.beta.org", "--site", "T2_BETA",
                       "--format", "json")
    [row] = json.loads(out)
    assert row["collected"] == "2026-01-02T00:00:00Z"
    assert row["sender"] == "file:r2.p7m" and row["packages"] == 2 and row["changed"] is True


@pytest.mark.parametrize("args,message", [
    (["state", "nowhere.org"], "unknown host 'nowhere.org'\n"),
    (["history", "ce.beta.org", "--site", "T2_ALPHA"], "unknown host 'ce.beta.org' at site "
                                                       "'T2_ALPHA'\n"),
    (["reports", "ce.beta.org", "--site", "T2_GAMMA"], "unknown site 'T2_GAMMA'\n"),
    # a name close to a known one: what was probably meant
    (["state", "wn01.alpha.orgg"], "unknown host 'wn01.alpha.orgg': did you mean "
                                   "wn01.alpha.org?\n"),
    (["history", "wn1.alpha.org", "--site", "T2_ALPHA"], "unknown host 'wn1.alpha.org' at "
                                                         "site 'T2_ALPHA': did you mean "
                                                         "wn01.alpha.org?\n"),
    (["reports", "ce.beta.org", "--site", "T2_BETTA"], "unknown site 'T2_BETTA': did you "
                                                        "mean T2_BETA?\n"),
    (["hosts", "--site", "t2-alpha"], "unknown site 't2-alpha': did you mean T2_ALPHA?\n"),
    (["changes", "--site", "T2_ALHPA"], "unknown site 'T2_ALHPA': did you mean T2_ALPHA?\n"),
    (["sites", "show", "T2_ALPA"], "unknown site 'T2_ALPA': did you mean T2_ALPHA?\n"),
])
def test_unknown_host_or_site_is_exit_1(loaded, args, message):
    code, out, err = run("--db", loaded, *args)
    assert code == 1 and out == "" and err == "wlcg-collector: " + message


def test_bad_date_is_a_usage_error(loaded):
    code, _, err = run("--db", loaded, "state", "wn01.alpha.org", "--at", "31/01/2026")
    assert code == 2 and "not an ISO 8601 UTC date" in err


@pytest.mark.parametrize("packager,a,b,sign", [
    ("rpm", "1.0~rc1", "1.0", "<"), ("rpm", "1:1.0-1", "2.0-1", ">"), ("rpm", "2.0", "2_0", "="),
    ("dpkg", "1.0-1~bpo1", "1.0-1", "<"), ("dpkg", "1:0.1", "2.0", ">"),
    ("dpkg", "1.0", "1.0-0", "="),
])
def test_vercmp(packager, a, b, sign):
    assert run("vercmp", packager, a, b)[1] == sign + "\n"


def test_ingest_stores_in_batches_and_a_failure_fails_alone(tmp_path, database_url,
                                                            monkeypatch):
    """Files are stored INGEST_BATCH to a transaction; a batch with a report
    that fails (a bad line found late, a duplicate of another in the batch)
    is stored again one report a transaction, so that only that report
    fails. (A report stored by an earlier batch is counted in the batch:
    test_batch_resends.py.)"""
    from wlcg_collector import cli
    from wlcg_collector.db.writer import ReportWriter
    run("--db", database_url, "init-db")
    monkeypatch.setattr(cli, "INGEST_BATCH", 3)
    batches, singles = [], []
    real_batch, real_single = ReportWriter.store_reports, ReportWriter.store_report
    monkeypatch.setattr(ReportWriter, "store_reports", lambda self, items, *a: (
        batches.append(len(items)), real_batch(self, items, *a))[1])
    monkeypatch.setattr(ReportWriter, "store_report", lambda self, *a, **k: (
        singles.append(1), real_single(self, *a, **k))[1])
    files = []
    for index in range(7):
        path = tmp_path / ("r%d.txt" % index)
        path.write_bytes(make_report("T2_BATCH", "wn%d.example.org" % index, OLD, ts=T0))
        files.append(str(path))
    (tmp_path / "r1.txt").write_bytes(make_report(   # a bad line, found when stored
        "T2_BATCH", "wn1.example.org", OLD + [("x", "0:1-1", "a b")], ts=T0))
    (tmp_path / "dup.txt").write_bytes((tmp_path / "r6.txt").read_bytes())  # same batch
    files.append(str(tmp_path / "dup.txt"))
    code, out, err = run("--db", database_url, "ingest", *files)
    assert code == 1
    assert out == "stored 7 of 8 report(s): 6 changed, 1 duplicate\n"
    assert err == "wlcg-collector: %s: bad report: package line 13: bad arch\n" % (
        tmp_path / "r1.txt")
    assert batches == [3, 3, 2]
    # the batches with a failure, again one report a transaction; the other committed
    assert len(singles) == 3 + 2


# ---------------------------------------------------------------- commands declared once

def leaf_parsers():
    """(words, parser) of every command and action: `sites`, `sites merge`, ..."""
    import argparse
    from wlcg_collector import cli

    def leaves(parser, words):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or not subs[0].required:
            yield words, parser
        for sub in subs:
            for name, child in sub.choices.items():
                yield from leaves(child, words + [name])
    return list(leaves(cli.build_parser(), []))[1:]


def test_every_command_and_action_runs_a_function_named_for_it():
    """One scheme: cmd_COMMAND runs a command, COMMAND_ACTION an action; a
    command whose action may be left out runs its list (`sites`, `keys`)."""
    leaves = leaf_parsers()
    assert len(leaves) > 30
    for words, parser in leaves:
        func = parser.get_default("func")
        assert func is not None, words
        name = "_".join(words).replace("-", "_")
        assert func.__name__ in ("cmd_" + name, name, name + "_list"), (words, func.__name__)


@pytest.mark.parametrize("words", [["sites", "import"], ["advisories", "import"]])
def test_a_missing_source_is_a_usage_error_exit_2(tmp_path, words):
    """Nothing named and nothing configured: the same usage error (exit 2)
    in both imports; a source named that is not there is a failed request
    (exit 1) in both."""
    config = write_config(tmp_path / "c.conf", "sqlite:///%s" % (tmp_path / "c.db"), [])
    assert run("--config", config, "init-db")[0] == 0
    code, out, err = run("--config", config, *words)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("wlcg-collector: %s: name a" % " ".join(words))
    code, out, err = run("--config", config, *words, str(tmp_path / "missing"))
    assert code == 1 and str(tmp_path / "missing") in err, err


def test_an_option_before_the_action_counts(loaded, tmp_path):
    """`sites --format json renames` is `sites renames --format json`: the
    action's own default does not undo what was given before it."""
    assert run("--db", loaded, "sites", "merge", "T2_BETA", "T2_ALPHA")[0] == 0
    before = run("--db", loaded, "sites", "--format", "json", "renames")
    after = run("--db", loaded, "sites", "renames", "--format", "json")
    assert before == after and json.loads(after[1])[0]["old"] == "T2_BETA"
    before = run("--db", loaded, "sites", "--format", "csv", "show", "T2_ALPHA")
    assert before == run("--db", loaded, "sites", "show", "T2_ALPHA", "--format", "csv")
    assert before[1].startswith("day,setting,")


def test_a_host_name_at_two_sites_asks_for_site(tmp_path, database_url):
    """Storage says the sites a name is known at; the command line says
    which option chooses."""
    assert run("--db", database_url, "init-db")[0] == 0
    for site in ("T2_B", "T2_A"):
        path = tmp_path / ("%s.txt" % site)
        path.write_bytes(make_report(site, "wn1.example.org", [("bash", "0:5.1-1", "x86_64")],
                                     ts=int(time.time()) - 60))
        assert run("--db", database_url, "ingest", str(path))[0] == 0
    code, out, err = run("--db", database_url, "state", "wn1.example.org")
    assert (code, out) == (1, "")
    assert err == ("wlcg-collector: host 'wn1.example.org' is known at several sites "
                   "(T2_A, T2_B): give --site\n")
    assert run("--db", database_url, "state", "wn1.example.org", "--site", "T2_B")[0] == 0

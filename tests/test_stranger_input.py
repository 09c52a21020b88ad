"""Input a stranger controls: numbers in other scripts' digits, values
longer than their columns, invisible formatting characters, an old ts, and
text that a spreadsheet would run. On SQLite and MariaDB; never a 5xx."""

import csv
import io
import json

import pytest

from helpers import make_report, post_plaintext as post, run_cli, write_config, wsgi_call
from wlcg_collector import create_app
from wlcg_collector.db import open_store
from wlcg_collector.report import ReportError, parse_report
from wlcg_collector.versions import compare

T0 = 1767225600
PACKAGES = [("bash", "0:5.1.8-9.el9", "x86_64")]


@pytest.mark.parametrize("headers,reason", [
    ({"ts": "\u00b2"}, "header ts '\u00b2' is not Unix seconds"),
    ({"ts": "\u0661\u0667\u0666\u0667"}, "is not Unix seconds"),
    ({"arch": "x" * 65}, "header arch is longer than 64 characters"),
    ({"site": "S" * 101}, "header site is longer than 100 characters"),
    (dict(("k%02d" % i, "\u00e9" * 255) for i in range(55)), "headers take more than 65535"),
    ({"system": "AlmaLinux 9.4 \u202egnp.exe"}, "invisible formatting one"),
    ({"system": "Alma\u200bLinux"}, "invisible formatting one"),
    ({"tag": "a\u2028b"}, "invisible formatting one"),
])
def test_headers_a_stranger_controls_are_400_never_500(app_and_store, headers, reason):
    app, store = app_and_store
    status, out = post(app, make_report(packages=PACKAGES, **headers))
    assert status == 400 and reason in out, out
    assert store.testing.row_counts()["hosts"] == 0


def test_the_longest_headers_the_parser_takes_fit_their_columns(app_and_store):
    """What passes the parser is stored, on MariaDB too (no 'Data too long')."""
    app, store = app_and_store
    many = dict(("k%02d" % i, "\u00e9" * 40) for i in range(50))
    plaintext = make_report(site="S" * 100, host=".".join(["h" * 63] * 4), packages=[
        ("n" * 200, "0:" + "1" * 196 + "-1", "a" * 32)], arch="x" * 64, system="s" * 255,
        kernel="k" * 255, **many)
    assert post(app, plaintext) == (200, "OK")
    [host] = store.hosts.listed()
    assert (len(host.site), len(host.name), len(host.arch)) == (100, 255, 64)


def test_parser_limits_match_the_mysql_columns(mysql_url):
    """The parser's limits and the columns' sizes are one fact: checked
    against each other here, so that neither changes alone."""
    from wlcg_collector import package_lines, report
    store = open_store(mysql_url)
    try:
        store.schema.init()
        shape = store.testing.schema_shape()
        columns = {(table[:-len(" columns")], name): kind for table, rows in shape.items()
                   if table.endswith(" columns") for _, name, kind, _ in rows}
    finally:
        store.close()
    assert columns[("hosts", "site")] == "varchar(%d)" % report.HEADER_LIMITS["site"]
    assert columns[("hosts", "arch")] == "varchar(%d)" % report.HEADER_LIMITS["arch"]
    for column in ("name", "system", "kernel"):
        assert columns[("hosts", column)] == "varchar(%d)" % report.MAX_VALUE
    assert columns[("hosts", "facts")] == "text" and report.MAX_FACTS == 65535
    assert columns[("packages", "name")] == "varchar(%d)" % package_lines.MAX_NAME
    assert columns[("packages", "version")] == "varchar(%d)" % package_lines.MAX_VERSION
    assert columns[("packages", "arch")] == "varchar(%d)" % package_lines.MAX_ARCH


def test_epochs_are_ascii_digits():
    for version in ("\u0661:1.0-1", "\u00b2:1.0-1"):
        with pytest.raises(ReportError):
            parse_report(make_report(packages=[("p", version, "noarch")]))
    # rpm and dpkg read no epoch there: not epoch 1
    assert compare("rpm", "\u0661:1.0-1", "1:1.0-1") != 0
    assert compare("rpm", "1:1.0-1", "1:1.0-1") == 0
    with pytest.raises(ValueError):
        compare("dpkg", "\u0661:1.0", "1.0")


def test_an_old_ts_does_not_date_a_host_back(app_and_store):
    app, store = app_and_store
    assert post(app, make_report(packages=PACKAGES, ts=T0))[0] == 200
    assert post(app, make_report(packages=[("zsh", "0:5.8-1", "x86_64")], ts=1))[0] == 200
    host = store.hosts.find("wn01.example.org")
    assert host.first_report == T0
    assert [r.outcome for r in store.hosts.reports(host.id)] == ["applied", "older"]
    assert store.fleet.hosts_at(T0 - 1) == []  # compare --at 1990 counts no such host


def test_a_huge_baseline_revision_is_a_clear_error(tmp_path, app_and_store):
    app, store = app_and_store
    code, _, err = run_cli(["--db", store.db.dialect.describe(), "compare",
                            "x@99999999999999999999999"])
    assert code == 2 and "bad baseline revision" in err


def test_csv_values_a_spreadsheet_would_run_are_neutralised(app_and_store):
    """Host names and versions from a report, in CLI and page CSV: a leading
    ' keeps them text; JSON and the table stay exact."""
    app, store = app_and_store
    assert post(app, make_report(host="wn01.example.org", packages=[
        ("=HYPERLINK(\"x\")", "0:1-1", "x86_64"), ("@SUM(1)", "0:1-1", "x86_64"),
        ("-2+3", "0:1-1", "x86_64"), ("+cmd", "0:1-1", "x86_64"), ("plain", "0:1-1", "x86_64")],
        ts=T0))[0] == 200
    url = store.db.dialect.describe()
    code, out, _ = run_cli(["--db", url, "state", "wn01.example.org", "--format", "csv"])
    names = [row["name"] for row in csv.DictReader(io.StringIO(out))]
    assert sorted(names) == sorted(["'+cmd", "'-2+3", "'=HYPERLINK(\"x\")", "'@SUM(1)", "plain"])
    code, out, _ = run_cli(["--db", url, "state", "wn01.example.org", "--format", "json"])
    assert "=HYPERLINK(\"x\")" in [row["name"] for row in json.loads(out)]


# ---------------------------------------------------------------- the operator's SQLite file

NEIGHBOUR = 54321


def test_init_db_as_root_hands_the_database_to_its_directory_owner(tmp_path):
    import os
    directory = tmp_path / "lib"
    directory.mkdir()
    os.chown(str(directory), NEIGHBOUR, NEIGHBOUR)
    url = "sqlite:///%s" % (directory / "collector.db")
    code, out, _ = run_cli(["--db", url, "init-db"])
    assert code == 0 and out == ("database %s handed to uid %d, the owner of its directory\n"
                                 "created schema version 13\n" % (directory / "collector.db",
                                                                 NEIGHBOUR))
    assert {os.stat(str(p)).st_uid for p in directory.iterdir()} == {NEIGHBOUR}


def test_a_failed_init_db_leaves_no_database(tmp_path, monkeypatch):
    schema = tmp_path / "sql"
    schema.mkdir()
    (schema / "sqlite.sql").write_text("CREATE TABLE schema_version (version INTEGER);\n"
                                       "CREATE TABLE broken (;\n")
    monkeypatch.setenv("WLCG_COLLECTOR_SQL", str(schema))
    database = tmp_path / "collector.db"
    code, _, err = run_cli(["--db", "sqlite:///%s" % database, "init-db"])
    assert code == 1 and err.startswith("wlcg-collector: schema file %s" % (schema / "sqlite.sql"))
    assert err.count("\n") == 1 and list(tmp_path.glob("collector.db*")) == []


def test_a_database_the_collector_may_not_write(tmp_path, collector_keys):
    """At start-up: one line saying what to chown (checked as a user that
    is not root, with the system's Python). At run time: 503, not 500."""
    import os
    import shutil
    import sqlite3
    import subprocess
    import tempfile
    from helpers import ROOT
    directory = tempfile.mkdtemp()
    try:
        os.chmod(directory, 0o755)
        database = os.path.join(directory, "collector.db")
        store = open_store("sqlite:///" + database)
        store.schema.init()
        store.close()
        key, cert = os.path.join(directory, "collector.key"), os.path.join(directory, "c.pem")
        shutil.copy(collector_keys[0], key)
        shutil.copy(collector_keys[1], cert)
        os.chown(key, NEIGHBOUR, NEIGHBOUR)
        os.chmod(cert, 0o644)
        config = write_config(os.path.join(directory, "c.conf"), "sqlite:///" + database,
                              [(key, cert)])
        os.chmod(config, 0o644)
        python = shutil.which("python3", path="/usr/bin")
        assert python, "Debian's python3 runs the collector as another user here"
        proc = subprocess.run(
            [python, "-c", "import sys; from wlcg_collector import create_app\n"
             "try:\n    create_app(sys.argv[1])\nexcept Exception as exc:\n"
             "    print(type(exc).__name__, exc)", config],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/",
            env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"},
            preexec_fn=lambda: (os.setgid(NEIGHBOUR), os.setuid(NEIGHBOUR)))
        out = proc.stdout.decode()
        assert out == ("ConfigError database %s is not writable by this user (uid %d): chown it "
                       "to the collector's user (was init-db run as root?)\n"
                       % (database, NEIGHBOUR)), (out, proc.stderr.decode())
        # at run time (a read-only connection, as another user would have): 503
        app = create_app(config)
        app.store.db.dialect.connect = lambda: sqlite3.connect(
            "file:%s?mode=ro" % database, uri=True, isolation_level=None)
        from wlcg_collector.crypto import encrypt
        status, headers, out, log = wsgi_call(app, encrypt(make_report(packages=PACKAGES, ts=T0),
                                                           collector_keys[1]))
        assert status == 503 and headers["Retry-After"] == "60" and "readonly" in log
    finally:
        shutil.rmtree(directory)


@pytest.mark.parametrize("host,stored", [
    ("WN1.Example.ORG.", "wn1.example.org"), ("wn1.example.org", "wn1.example.org"),
    ("wn_1.example-site.org", "wn_1.example-site.org"),
])
def test_host_names_are_dns_names(host, stored):
    assert parse_report(make_report(host=host, packages=PACKAGES)).host == stored


@pytest.mark.parametrize("headers,reason", [
    ({"host": "wn1.example.org:8443"}, "is not a host name (DNS labels, no port)"),
    ({"host": "wn1..example.org"}, "is not a host name"),
    ({"host": ".example.org"}, "is not a host name"),
    ({"host": "wn1.exa mple.org"}, "is not a host name"),
    ({"site": "T2_A/../T2_B"}, "is not a site name"),
    ({"site": "T2%2FX"}, "is not a site name"),
    ({"site": "T2?x"}, "is not a site name"),
    ({"site": "T2#x"}, "is not a site name"),
])
def test_host_and_site_names_a_stranger_invents(headers, reason):
    fields = {"packages": PACKAGES}
    fields.update(headers)
    with pytest.raises(ReportError) as err:
        parse_report(make_report(**fields))
    assert reason in str(err.value)


def test_site_names_are_compared_without_regard_to_case(app_and_store):
    """One site, however a report spells it: the first spelling stays."""
    app, store = app_and_store
    assert post(app, make_report(site="T2_Case", host="wn1.case.org.", packages=PACKAGES,
                                 ts=T0))[0] == 200
    assert post(app, make_report(site="t2_CASE", host="WN1.case.org", packages=PACKAGES,
                                 ts=T0 + 60))[0] == 200
    [host] = store.hosts.listed()
    assert (host.site, host.name) == ("T2_Case", "wn1.case.org")
    assert store.sites.exists("T2_CASE") and store.hosts.listed("t2_case") == [host]
    assert [r.outcome for r in store.hosts.reports(host.id)] == ["applied", "applied"]


def test_numbers_from_urls_options_and_pages_are_ascii(tmp_path):
    """Other scripts' digits are no number anywhere: not in a database
    URL's port, a reporter option, a Retry-After header, a page parameter
    or a command's argument."""
    from helpers import load_reporter
    from wlcg_collector.db import parse_database_url
    with pytest.raises(ValueError) as err:
        parse_database_url("mysql://u@db.example.org:\u0663\u0663\u0660\u0666/wlcg")
    assert "bad port" in str(err.value)
    reporter = load_reporter()
    for convert in (reporter.positive_float, reporter.nonnegative_int):
        with pytest.raises(ValueError):
            convert("\u0663")
    assert reporter.parse_retry_after("\u00b2") is None
    assert reporter.parse_retry_after("7") == 7.0
    code, _, err = run_cli(["stale", "--days", "\u0663"])
    assert code == 2 and "is not a number" in err

"""The files the collector reads and makes: collector.conf read as UTF-8
under an ASCII locale (mod_wsgi's), refused when others may write it or
when it is no regular file; a new SQLite database private to its user.
And the reporter's config file under an ASCII locale (cron's)."""

import os
import stat
import subprocess
import sys

import pytest

from helpers import ROOT, bytecode_env, collector_command, make_report, run_cli, write_config
from wlcg_collector.config import MAX_CONFIG_BYTES, ConfigError, load_config
from wlcg_collector.crypto import encrypt
from wlcg_collector.db import open_store

PACKAGES = [("bash", "0:5.1.8-9.el9", "x86_64")]
OFFICER = "/DC=ch/DC=cern/OU=Users/CN=J\u00e9r\u00f4me Dupr\u00e9"
# Python makes the C locale UTF-8 unless told not to: these keep it ASCII,
# as Apache's mod_wsgi daemons and cron jobs often have it
ASCII_LOCALE = {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
ASCII_NAMES = ("ANSI_X3.4-1968", "ascii", "US-ASCII")
# runs a script (a path) or a module (a name) after saying which encoding
# the locale gives the files it opens
SAY_ENCODING_AND_RUN = ("import locale, runpy, sys; "
                        "sys.stderr.write(locale.getpreferredencoding(False) + '\\n'); "
                        "sys.argv = sys.argv[1:]; "
                        "runpy.run_path(sys.argv[0], run_name='__main__') if '/' in sys.argv[0] "
                        "else runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")


def config_with_officer(tmp_path, database, pairs=()):
    path = write_config(tmp_path / "collector.conf", database, list(pairs))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("# who may read the pages (J\u00e9r\u00f4me's team)\n[officer]\nallow = %s\n"
                     % OFFICER)
    os.chmod(path, 0o640)
    return path


def run_under_ascii_locale(python, script, args, env, input_bytes=b""):
    """(exit code, stdout, stderr) of a script or module run with an ASCII
    locale, checked to be one."""
    proc = subprocess.run([python, "-c", SAY_ENCODING_AND_RUN, script] + list(args),
                          input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(env, **ASCII_LOCALE), timeout=120)
    encoding, _, errors = proc.stderr.decode("utf-8", "replace").partition("\n")
    assert encoding in ASCII_NAMES, "the child's locale is not ASCII: %s" % encoding
    return proc.returncode, proc.stdout, errors


def test_a_config_naming_jerome_works_under_an_ascii_locale(tmp_path, database_url,
                                                            collector_keys):
    """init-db from the command line, then a report through collector.cgi,
    both with mod_wsgi's ASCII locale: the config's non-ASCII officer is
    read as UTF-8, the report stored."""
    config = config_with_officer(tmp_path, database_url, [collector_keys])
    env = dict(bytecode_env(), PATH="/usr/bin:/bin", PYTHONPATH=ROOT,
               WLCG_COLLECTOR_CONFIG=config)
    code, out, errors = run_under_ascii_locale(
        sys.executable, "wlcg_collector", ["init-db"], env)
    assert code == 0 and errors == "", errors
    body = encrypt(make_report(packages=PACKAGES), collector_keys[1])
    env.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
                "CONTENT_LENGTH": str(len(body)), "QUERY_STRING": "protocol=5",
                "REMOTE_ADDR": "192.0.2.9", "SERVER_NAME": "collector", "SERVER_PORT": "443",
                "SERVER_PROTOCOL": "HTTP/1.1", "SCRIPT_NAME": "/collector.cgi"})
    code, out, errors = run_under_ascii_locale(
        sys.executable, os.path.join(ROOT, "collector.cgi"), [], env, input_bytes=body)
    assert out.startswith(b"Status: 200 OK\r\n") and out.endswith(b"OK"), (out, errors)
    store = open_store(database_url)
    try:
        assert store.testing.row_counts()["reports"] == 1
    finally:
        store.close()
    assert load_config(config).officer_allow == [OFFICER]


def test_a_config_that_is_not_utf8_is_one_line_naming_it(tmp_path):
    path = tmp_path / "collector.conf"
    path.write_bytes(b"[collector]\nmax_body = 65536\n[officer]\nallow = /CN=J\xe9r\xf4me\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert str(caught.value) == "config file %s is not UTF-8 text (line 4)" % path
    code, out, err = run_cli(["--config", path, "sites"])
    assert code != 0 and err.count("\n") == 1 and "is not UTF-8 text (line 4)" in err


def test_a_byte_order_mark_is_no_trouble(tmp_path):
    path = tmp_path / "collector.conf"
    path.write_bytes(b"\xef\xbb\xbf[collector]\nmax_body = 65536\n")
    assert load_config(str(path)).max_body == 65536


def test_a_world_writable_config_is_refused(tmp_path):
    path = tmp_path / "collector.conf"
    path.write_text("[collector]\nmax_body = 65536\n")
    os.chmod(str(path), 0o666)
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert str(caught.value) == ("config file %s is writable by others (mode 0666): chmod o-w %s"
                                 % (path, path))
    # the command and the WSGI application both stop at it, with that line
    code, out, err = run_cli(["--config", path, "sites"])
    assert code != 0 and err.count("\n") == 1 and "is writable by others" in err
    os.chmod(str(path), 0o640)
    assert load_config(str(path)).max_body == 65536
    os.chmod(str(path), 0o664)  # group-writable: the collector's group is trusted
    assert load_config(str(path)).max_body == 65536


def test_a_symlink_is_judged_by_the_file_it_leads_to(tmp_path):
    target = tmp_path / "real.conf"
    target.write_text("[collector]\nmax_body = 65536\n")
    link = tmp_path / "collector.conf"
    link.symlink_to(target)
    os.chmod(str(target), 0o646)
    with pytest.raises(ConfigError) as caught:
        load_config(str(link))
    assert "config file %s is writable by others (mode 0646)" % link in str(caught.value)
    os.chmod(str(target), 0o644)
    assert load_config(str(link)).max_body == 65536


def test_what_is_not_a_regular_file_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "collector.conf"
    os.mkfifo(str(fifo), 0o600)
    # in a child: a config read that blocks on the FIFO fails the test, not the run
    proc = collector_command(["--config", str(fifo), "sites"], timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.decode() == ("wlcg-collector: config file %s is not a regular file\n"
                                    % fifo)
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path))
    assert str(caught.value) == "cannot read config file %s: Is a directory" % tmp_path


def test_a_huge_config_is_refused(tmp_path):
    path = tmp_path / "collector.conf"
    path.write_bytes(b"[collector]\n" + b"#" * MAX_CONFIG_BYTES + b"\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert str(caught.value) == "config file %s is larger than %d bytes" % (path,
                                                                            MAX_CONFIG_BYTES)


# ---------------------------------------------------------------- the SQLite file

def modes(directory):
    return {name: stat.S_IMODE(os.stat(os.path.join(str(directory), name)).st_mode)
            for name in sorted(os.listdir(str(directory)))}


@pytest.mark.parametrize("umask", [0o022, 0o002, 0])
def test_a_new_sqlite_database_and_its_wal_files_are_private(tmp_path, collector_keys, umask):
    from wlcg_collector import trust
    from wlcg_collector.report import parse_report
    directory = tmp_path / "db"
    directory.mkdir()
    url = "sqlite:///%s" % (directory / "collector.db")
    old = os.umask(umask)
    try:
        code, out, err = run_cli(["--db", url, "init-db"])
        assert code == 0, err
        store = open_store(url)
        store.writer.store_report(parse_report(make_report(packages=PACKAGES, ts=1767225600)),
                                  1767225660, "192.0.2.1", rules=trust.Rules())
        # while the store is open, SQLite keeps its -wal and -shm files
        assert modes(directory) == {"collector.db": 0o600, "collector.db-shm": 0o600,
                                    "collector.db-wal": 0o600}
        store.close()
    finally:
        os.umask(old)


def test_an_existing_database_keeps_the_mode_it_has(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "collector.db")
    store = open_store(url)
    store.schema.init()
    store.close()
    os.chmod(str(tmp_path / "collector.db"), 0o640)  # the operator's choice
    store = open_store(url)
    store.schema.init()
    store.close()
    assert stat.S_IMODE(os.stat(str(tmp_path / "collector.db")).st_mode) == 0o640


# ---------------------------------------------------------------- the reporter

def pythons():
    """This Python, and the oldest Python 3 before 3.8 here (the reporter's
    platform: EL8's 3.6), if there is one."""
    found = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "oldest_python.py")],
                           stdout=subprocess.PIPE, timeout=120).stdout.decode().strip()
    return [sys.executable] + ([found] if found else [])


@pytest.mark.parametrize("python", pythons())
def test_the_reporter_reads_a_non_ascii_config_under_cron_s_ascii_locale(tmp_path, home,
                                                                         python):
    config = tmp_path / "reporter.conf"
    config.write_bytes("# T2_X, run by J\u00e9r\u00f4me's team\nsite = T2_X\n".encode("utf-8"))
    os.chmod(str(config), 0o600)
    code, out, errors = run_under_ascii_locale(
        python, os.path.join(ROOT, "wlcg-package-reporter"),
        ["--config", str(config), "--dry-run", "--host", "wn01.example.org"],
        {"PATH": "/usr/bin:/bin", "HOME": str(home)})
    assert code == 0 and errors == "", errors
    assert b"\nsite: T2_X\n" in out


def test_the_shipped_config_reads_and_names_every_section(tmp_path):
    """conf/collector.conf as the RPM installs it reads without error, and
    shows each section an operator sets ([officer] and [metrics] too),
    their settings commented out (the defaults)."""
    shipped = os.path.join(ROOT, "conf", "collector.conf")
    with open(shipped, encoding="utf-8") as handle:
        text = handle.read()
    for section in ("[collector]", "[officer]", "[metrics]", "[sites]", "[advisories]"):
        assert "\n%s\n" % section in "\n" + text, section
    for setting in ("#allow = ", "#stale_days = ", "#site_readers = ", "#site_reader_roles = "):
        assert setting in text, setting
    copy = tmp_path / "collector.conf"
    copy.write_text(text, encoding="utf-8")
    os.chmod(str(copy), 0o600)
    config = load_config(str(copy))
    assert config.officer_allow == [] and config.stale_days == 7

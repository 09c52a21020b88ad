"""Deployment: the collector under a real Apache httpd with mod_wsgi (the
shipped Apache snippet) on MariaDB, and as collector.cgi under mod_cgid,
with the real reporter sending to both; the RPMs built by `make rpm`,
checked with rpmlint and installed into a scratch rpm root; `pip install .`
and the sdist. Everything is built in temporary directories, never in the
checkout, and each server and build is made once for the tests that use
it."""

import contextlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from helpers import (ROOT, ScratchMySQL, collector_command, installed_dpkg_packages,
                     make_report, mysql_available, new_rsa_key, run_reporter,
                     write_config)

APACHE = shutil.which("apache2", path="/usr/sbin:/usr/bin") or shutil.which(
    "httpd", path="/usr/sbin:/usr/bin")
MODULES = "/usr/lib/apache2/modules"
IS_ROOT = os.geteuid() == 0
QUOTED_SITE = "T3_Q&A+B;C=D@E"  # a site name every link must quote


def require(condition, what):
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail("%s: in CI the deployment tests must run" % what)
    pytest.skip(what)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def open_dir():
    """A temporary directory the Apache user can read (pytest's are private)."""
    path = tempfile.mkdtemp(prefix="wlcg-deploy-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def install_app(directory):
    """The collector files as the RPM lays them out: package, .wsgi, .cgi, sql."""
    share = os.path.join(directory, "share")
    os.makedirs(share)
    shutil.copytree(os.path.join(ROOT, "wlcg_collector"), os.path.join(directory, "lib",
                                                                       "wlcg_collector"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(ROOT, "sql"), os.path.join(share, "sql"))
    for name in ("wlcg-collector.wsgi", "collector.cgi"):
        shutil.copy2(os.path.join(ROOT, name), share)
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    return share, os.path.join(directory, "lib")


@contextlib.contextmanager
def serving_apache(open_dir, collector_keys, tls=None, officer_allow=None):
    """(base URL, config path) of a real apache2 serving the collector on
    MariaDB through mod_wsgi at /wlcg-collector and mod_cgid at /cgi;
    over HTTPS with mod_ssl when tls is given as (server key, server cert,
    CA cert): the shipped snippet then requires a client certificate for
    the officer's pages."""
    require(APACHE and os.path.exists(os.path.join(MODULES, "mod_wsgi.so")),
            "apache2 with mod_wsgi is not installed")
    require(mysql_available(), "MariaDB is not reachable on 127.0.0.1:3306")
    scratch = ScratchMySQL()
    share, lib = install_app(open_dir)
    user, group = ("nobody", "nogroup") if IS_ROOT else (None, None)
    keys = os.path.join(open_dir, "keys")
    os.mkdir(keys, 0o755)
    key, cert = shutil.copy(collector_keys[0], keys), shutil.copy(collector_keys[1], keys)
    os.chmod(key, 0o600)
    if IS_ROOT:
        os.chown(key, pwd.getpwnam(user).pw_uid, -1)
    config = write_config(os.path.join(open_dir, "collector.conf"), scratch.url, [(key, cert)])
    if officer_allow:
        with open(config, "a") as handle:
            handle.write("[officer]\nallow = %s\n" % "\n    ".join(officer_allow))
    os.chmod(config, 0o644)
    assert collector_command(["--config", config, "init-db"]).returncode == 0

    with open(os.path.join(ROOT, "conf", "wlcg-collector-httpd.conf")) as handle:
        snippet = handle.read()
    snippet = snippet.replace("/usr/share/wlcg-collector", share)
    snippet = snippet.replace("home=/var/lib/wlcg-collector",
                              "home=%s python-path=%s" % (open_dir, lib))
    if IS_ROOT:
        snippet = snippet.replace("user=wlcg-collector group=wlcg-collector",
                                  "user=%s group=%s" % (user, group))
    else:
        snippet = snippet.replace("user=wlcg-collector group=wlcg-collector", "")
    with open(os.path.join(open_dir, "wlcg-collector.conf"), "w") as handle:
        handle.write(snippet)

    # (authz_host: the snippet's Require ip, loaded by every EL httpd)
    modules = ["mpm_event", "authz_core", "authz_host", "alias", "env", "cgid", "wsgi"]
    if tls:
        require(os.path.exists(os.path.join(MODULES, "mod_ssl.so")), "mod_ssl is not installed")
        modules += ["socache_shmcb", "ssl"]
    lines = ["ServerRoot %s" % open_dir, "ServerName 127.0.0.1",
             "PidFile %s/httpd.pid" % open_dir, "ErrorLog %s/error.log" % open_dir,
             "LogLevel warn", "DocumentRoot %s" % open_dir,
             "ScriptSock %s/cgid.sock" % open_dir, "WSGISocketPrefix %s/wsgi" % open_dir]
    lines += ["LoadModule %s_module %s/mod_%s.so" % (m, MODULES, m) for m in modules]
    if tls:
        server_key, server_cert, ca_cert = (shutil.copy(path, keys) for path in tls)
        lines += ["SSLEngine on", "SSLCertificateFile %s" % server_cert,
                  "SSLCertificateKeyFile %s" % server_key, "SSLCACertificateFile %s" % ca_cert,
                  "SSLSessionCache shmcb:%s/ssl_scache(512000)" % open_dir]
    if IS_ROOT:
        lines += ["User %s" % user, "Group %s" % group]
    lines += ["Include %s/wlcg-collector.conf" % open_dir,
              "ScriptAlias /cgi/collector.cgi %s/collector.cgi" % share,
              "<Location /cgi>", "  SetEnv WLCG_COLLECTOR_CONFIG %s" % config,
              "  SetEnv PYTHONPATH %s" % lib, "  Require all granted", "</Location>"]
    httpd_conf = os.path.join(open_dir, "httpd.conf")
    # mod_wsgi's daemon processes inherit httpd's environment
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "WLCG_COLLECTOR_CONFIG": config, "LANG": "C"}
    for _ in range(5):
        port = free_port()
        with open(httpd_conf, "w") as handle:
            handle.write("\n".join(["Listen 127.0.0.1:%d" % port] + lines) + "\n")
        check = subprocess.run([APACHE, "-f", httpd_conf, "-t"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert check.returncode == 0, check.stdout.decode()
        started = subprocess.run([APACHE, "-f", httpd_conf, "-k", "start"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if started.returncode == 0:
            break
        # another process (another test run) took the port free_port chose
        failure = started.stdout.decode() + apache_log(open_dir)
        assert "Address already in use" in failure, failure
    else:
        raise AssertionError("apache found no free port in five tries")
    base = "%s://127.0.0.1:%d" % ("https" if tls else "http", port)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base, config
    finally:
        subprocess.run([APACHE, "-f", httpd_conf, "-k", "stop"], env=env)
        for _ in range(100):
            if not os.path.exists(os.path.join(open_dir, "httpd.pid")):
                break
            time.sleep(0.1)
        log = apache_log(open_dir)
        scratch.close()
        assert "Traceback" not in log, log


def apache_log(directory):
    path = os.path.join(directory, "error.log")
    if not os.path.exists(path):
        return ""
    with open(path) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def apache(collector_keys):
    """One Apache for the tests that post to it and read back only their
    own hosts."""
    directory = tempfile.mkdtemp(prefix="wlcg-deploy-")
    os.chmod(directory, 0o755)
    try:
        with serving_apache(directory, collector_keys) as served:
            yield served
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def state(config, host):
    proc = collector_command(["--config", config, "state", host, "--format", "json"])
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def test_reporter_to_apache_mod_wsgi(apache, home, tmp_path, collector_keys):
    base, config = apache
    proc = run_reporter(["--site", "T2_TEST", "--host", "wsgi.example.org", "--cert",
                         collector_keys[1], "--url", base + "/wlcg-collector/",
                         "--spool", str(tmp_path / "spool"), "--packager", "dpkg"], home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    rows = state(config, "wsgi.example.org")
    assert {(r["name"], r["version"], r["arch"]) for r in rows} == set(installed_dpkg_packages())
    # the same report again (a retry): accepted, nothing added
    reports = collector_command(["--config", config, "reports", "wsgi.example.org",
                                 "--format", "json"])
    assert len(json.loads(reports.stdout)) == 1
    assert json.loads(reports.stdout)[0]["sender"] == "127.0.0.1"


def test_apache_answers(apache):
    base, _ = apache
    for path, method, status in [("/wlcg-collector/", "GET", 405),
                                 ("/wlcg-collector/officer/", "GET", 403),
                                 ("/wlcg-collector/?protocol=5", "POST", 400)]:
        request = urllib.request.Request(base + path, method=method,
                                         data=b"garbage" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=30)
        assert err.value.code == status, path
    # over LimitRequestBody: Apache itself refuses
    request = urllib.request.Request(base + "/wlcg-collector/?protocol=5",
                                     data=b"x" * (6 * 1024 * 1024), method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 413


def test_reporter_to_collector_cgi(apache, home, tmp_path, collector_keys):
    base, config = apache
    proc = run_reporter(["--site", "T2_TEST", "--host", "cgi.example.org", "--cert",
                         collector_keys[1], "--url", base + "/cgi/collector.cgi",
                         "--spool", str(tmp_path / "spool"), "--packager", "dpkg"], home)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = state(config, "cgi.example.org")
    assert {(r["name"], r["version"], r["arch"]) for r in rows} == set(installed_dpkg_packages())


# ---------------------------------------------------------------- packages

@pytest.fixture(scope="module")
def built_rpms(tmp_path_factory):
    """`make rpm` of this checkout, its tarball, build tree and packages
    in a temporary directory. The spec's %check runs unit tests this suite
    runs itself: here pytest collects them in the build tree (the command
    works, the files are packed) and does not run them a second time."""
    require(shutil.which("rpmbuild"), "rpmbuild is not installed")
    build = tmp_path_factory.mktemp("make-rpm")
    dist = str(build / "dist")
    proc = subprocess.run(["make", "-C", ROOT, "rpm", "PYTHON=%s" % sys.executable,
                           "DIST=" + dist, "RPMTOP=%s" % (build / "rpm")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900,
                          env=dict(os.environ, PYTEST_ADDOPTS="--collect-only"))
    assert proc.returncode == 0, proc.stdout.decode()[-3000:]
    assert re.search(r"^\d+/\d+ tests collected \(\d+ deselected\)", proc.stdout.decode(),
                     re.M), proc.stdout.decode()[-3000:]
    version = re.search(r'^VERSION = "([^"]+)"', open(os.path.join(ROOT,
                        "wlcg-package-reporter")).read(), re.M).group(1)
    return {name: os.path.join(dist, "%s-%s-1.noarch.rpm" % (name, version))
            for name in ("wlcg-package-reporter", "wlcg-package-collector")}


def test_rpmlint_has_no_errors(built_rpms):
    require(shutil.which("rpmlint"), "rpmlint is not installed")
    proc = subprocess.run(["rpmlint", "-r", os.path.join(ROOT, "spec",
                                                         "wlcg-package-reporter.rpmlintrc")]
                          + list(built_rpms.values()), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    out = proc.stdout.decode()
    assert " 0 errors" in out, out


def rpm_files(path):
    """{file: (user, group, mode string, flags)} as the package declares them."""
    out = subprocess.run(["rpm", "-qp", "--qf", "[%{FILENAMES}\t%{FILEUSERNAME}\t"
                          "%{FILEGROUPNAME}\t%{FILEMODES:perms}\t%{FILEFLAGS:fflags}\n]", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout.decode()
    return {f: (u, g, m, flags) for f, u, g, m, flags in
            (line.split("\t") for line in out.splitlines())}


def test_rpms_install_into_a_scratch_root(built_rpms, tmp_path):
    root = tmp_path / "root"
    proc = subprocess.run(["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", "-i",
                           "--nodeps", "--noscripts"] + list(built_rpms.values()),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.returncode == 0, proc.stdout.decode()
    reporter = rpm_files(built_rpms["wlcg-package-reporter"])
    collector = rpm_files(built_rpms["wlcg-package-collector"])
    assert reporter["/usr/bin/wlcg-package-reporter"][2] == "-rwxr-xr-x"
    assert reporter["/etc/wlcg-package-reporter/reporter.conf"][3] == "cn"  # noreplace
    assert reporter["/etc/wlcg-package-reporter/collector.pem"][3] == "cn"
    assert reporter["/var/spool/wlcg-package-reporter"][:3] == (
        "wlcg-reporter", "wlcg-reporter", "drwx------")
    assert "/usr/lib/systemd/system/wlcg-package-reporter.timer" in reporter
    assert any(f.startswith("/usr/share/man/man1/wlcg-package-reporter.1") for f in reporter)
    assert any(f.startswith("/usr/share/licenses/") for f in reporter)
    conf = collector["/etc/wlcg-collector/collector.conf"]
    assert conf == ("root", "wlcg-collector", "-rw-r-----", "cn")
    assert collector["/etc/httpd/conf.d/wlcg-collector.conf"][3] == "cn"
    for path in ("/usr/bin/wlcg-collector", "/usr/share/wlcg-collector/collector.cgi",
                 "/usr/share/wlcg-collector/wlcg-collector.wsgi",
                 "/usr/share/wlcg-collector/sql/mysql.sql",
                 "/usr/share/wlcg-collector/sql/upgrades/sqlite/1-2.sql"):
        assert path in collector, path
    assert any(f.endswith("/wlcg_collector/db/writer.py") for f in collector)
    assert any(f.endswith("/wlcg_collector/advisories/exposure.py") for f in collector)
    assert "/usr/lib/systemd/system/wlcg-collector-advisories.timer" in collector
    assert "/usr/lib/systemd/system/wlcg-collector-sites.timer" in collector
    assert "/usr/lib/systemd/system/wlcg-collector-compare@.timer" in collector
    assert "/usr/lib/systemd/system/wlcg-collector-baselines.timer" in collector
    # the files are really there, with those modes
    assert os.stat(root / "etc/wlcg-collector/collector.conf").st_mode & 0o777 == 0o640
    assert os.stat(root / "var/spool/wlcg-package-reporter").st_mode & 0o777 == 0o700
    assert os.access(root / "usr/bin/wlcg-package-reporter", os.X_OK)
    requires = subprocess.run(["rpm", "-qp", "--requires", built_rpms["wlcg-package-reporter"]],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    assert {"python3", "openssl"} <= set(requires.split())


def source_copy(directory):
    """The files of this checkout that git tracks or would track (those
    `make dist` packs), copied to directory: setuptools builds where it is
    run, and never in the checkout. Outside a git checkout (an unpacked
    sdist), everything but the build products."""
    listed = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    if listed.returncode != 0:
        shutil.copytree(ROOT, directory, ignore=shutil.ignore_patterns(
            ".venv*", ".git", "dist", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
        return directory
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):  # (a file deleted but still in the index is not)
            os.makedirs(os.path.dirname(os.path.join(directory, name)), exist_ok=True)
            shutil.copy2(source, os.path.join(directory, name))
    return directory


def test_pip_install_and_sdist(tmp_path):
    work = source_copy(str(tmp_path / "src"))
    venv = tmp_path / "venv"
    # an empty virtualenv, pip run into it from outside (the same install,
    # without installing pip itself first)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                          "install", "-q", work],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    assert pip.returncode == 0, pip.stdout.decode()[-2000:]
    db = "sqlite:///%s" % (tmp_path / "x.db")
    proc = subprocess.run([str(venv / "bin" / "wlcg-collector"), "--db", db, "init-db"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"created schema version 13\n"
    assert os.access(venv / "bin" / "wlcg-package-reporter", os.X_OK)
    sdist = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path)],
                           cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert sdist.returncode == 0, sdist.stdout.decode()[-2000:]
    [tarball] = [p for p in os.listdir(str(tmp_path)) if p.endswith(".tar.gz")]
    names = subprocess.run(["tar", "tzf", str(tmp_path / tarball)], stdout=subprocess.PIPE,
                           check=True).stdout.decode()
    for needed in ("sql/mysql.sql", "sql/upgrades/sqlite/1-2.sql", "wlcg-package-reporter",
                   "spec/wlcg-package-reporter.spec", "tests/helpers.py", "LICENSE",
                   "conf/wlcg-collector-httpd.conf", "wlcg_collector/web.py"):
        assert "/" + needed in names, needed


# ---------------------------------------------------------------- the officer's pages over TLS

def client_certificate(directory, name, subject, ca_cert, ca_key):
    """A client certificate of the test CA: (cert, key); the subject is
    read as UTF-8, as grid CAs write names with accents."""
    key, csr, cert = (os.path.join(directory, name + suffix) for suffix in (".key", ".csr",
                                                                            ".pem"))
    new_rsa_key(key)
    subprocess.run(["openssl", "req", "-utf8", "-new", "-key", key,
                    "-out", csr, "-subj", subject], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as handle:
        handle.write("extendedKeyUsage=clientAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                    "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def store_officer_data(config):
    """Something on every kind of officer page, in the served database:
    the officer's test fleet (sites, hosts, a host at a site whose name
    needs quoting), a baseline, an advisory with exposed hosts, and a list
    of sites that leaves one site (T2_D) unknown and one listed without
    reports."""
    from test_officer import BASELINE, T0, store_advisory, store_fleet
    from wlcg_collector.config import load_config
    from wlcg_collector.db import open_store
    from wlcg_collector.report import parse_report
    store = open_store(load_config(config).database)
    try:
        store_fleet(store)
        store.writer.store_report(parse_report(make_report(QUOTED_SITE, "q1.example.org", [
            ("bash", "0:5.1.8-9.el9", "x86_64")], ts=T0 + 3600)), T0 + 3700, "192.0.2.1")
        store.baselines.add("osg", BASELINE, T0)
        store_advisory(store)
    finally:
        store.close()
    listed = os.path.join(os.path.dirname(config), "sites.list")
    with open(listed, "w") as handle:
        handle.write("T2_A\nT2_B\nT2_C\nT2_TLS\n%s\nT1_LISTED_SILENT\n" % QUOTED_SITE)
    proc = collector_command(["--config", config, "sites", "import", listed])
    assert proc.returncode == 0, proc.stderr.decode()


def test_officer_pages_behind_apache_with_client_certificates(open_dir, collector_keys,
                                                              tmp_path, home):
    """The shipped snippet under mod_ssl: an allowed DN reads the pages,
    another DN gets 403, no certificate gets no data; hosts still post
    without one. DNs with accents, as mod_ssl hands them over, match the
    allow list written as the officer's guide says. Every page reachable
    from the overview works, under the snippet's /wlcg-collector. /healthz
    answers anyone, /metrics this host's address only."""
    import ssl
    from helpers import make_tls_server_files
    from test_pages import crawl
    server_key, server_cert, capath = make_tls_server_files(tmp_path / "tls")
    ca_cert, ca_key = str(tmp_path / "tls" / "ca.pem"), str(tmp_path / "tls" / "ca.key")
    officer = client_certificate(str(tmp_path), "officer",
                                 "/DC=org/DC=example/OU=Users/CN=Jane Officer", ca_cert, ca_key)
    mallory = client_certificate(str(tmp_path), "mallory",
                                 "/DC=org/DC=example/OU=Users/CN=Mallory", ca_cert, ca_key)
    jerome_dn = "/DC=org/DC=example/OU=Users/CN=J\u00e9r\u00f4me Test"
    zoe_dn = "/DC=org/DC=example/O=\u00c9cole/CN=Zo\u00eb \u0141ukasz"
    # the same letters as J\u00e9r\u00f4me's UTF-8 bytes, in a name of their own
    lookalike_dn = "/DC=org/DC=example/OU=Users/CN=J\u00c3\u00a9r\u00c3\u00b4me Test"
    jerome, zoe, lookalike = (client_certificate(str(tmp_path), name, dn, ca_cert, ca_key)
                              for name, dn in (("jerome", jerome_dn), ("zoe", zoe_dn),
                                               ("lookalike", lookalike_dn)))
    # allow entries as docs/officer.md says: either form, the characters as they are
    allow = ["CN=Jane Officer,OU=Users,DC=example,DC=org",
             "CN=J\u00e9r\u00f4me Test,OU=Users,DC=example,DC=org", zoe_dn]
    with serving_apache(open_dir, collector_keys, tls=(server_key, server_cert, ca_cert),
                        officer_allow=allow) as served:
        base, config = served

        def get(path, client=None):
            status, _, body = fetch(path, client)
            return status, body

        def fetch(path, client=None):
            context = ssl.create_default_context(cafile=ca_cert)
            context.post_handshake_auth = True  # mod_ssl asks per location (TLS 1.3)
            if client:
                context.load_cert_chain(*client)
            try:
                with urllib.request.urlopen(base + path, context=context, timeout=30) as answer:
                    return (answer.status, answer.headers.get("Content-Type", ""),
                            answer.read().decode())
            except urllib.error.HTTPError as exc:
                return exc.code, "", exc.read().decode()
            except (ssl.SSLError, urllib.error.URLError, ConnectionError) as exc:
                return None, "", str(exc)

        status, body = get("/wlcg-collector/officer/", officer)
        assert status == 200 and "<h1>Sites</h1>" in body
        for client in (jerome, zoe):
            status, body = get("/wlcg-collector/officer/", client)
            assert status == 200 and "<h1>Sites</h1>" in body, (client, status, body)
        for client in (mallory, lookalike):
            status, body = get("/wlcg-collector/officer/", client)
            assert status == 403 and "<table" not in body
        status, body = get("/wlcg-collector/officer/")
        # mod_ssl ends the connection (or answers 403) before the application
        assert status in (None, 403), (status, body)
        assert "<table" not in body and "Sites" not in body
        # the hosts' path needs no client certificate
        proc = run_reporter(["--site", "T2_TLS", "--host", "tls.example.org", "--cert",
                             collector_keys[1], "--url", base + "/wlcg-collector/", "--capath",
                             capath, "--spool", str(tmp_path / "spool"), "--packager", "dpkg"],
                            home)
        assert proc.returncode == 0, proc.stderr.decode()
        status, body = get("/wlcg-collector/officer/site/T2_TLS", officer)
        assert status == 200 and "tls.example.org" in body

        store_officer_data(config)
        pages = crawl(lambda url: fetch(url, officer), ["/wlcg-collector/officer/"])
        failed = {url: status for url, (status, _) in pages.items() if status != 200}
        assert not failed, failed
        for url, (_, links) in pages.items():
            for link in links:
                assert link.startswith("/wlcg-collector/officer/"), (url, link)
        kinds = {url.split("?")[0].split("/")[3] for url in pages}
        assert kinds == {"", "site", "host", "baseline", "adoption", "quarantine",
                         "advisories", "advisory", "campaigns", "static", "search"}, kinds
        assert any(QUOTED_SITE in urllib.parse.unquote(url) and "/host/" in url
                   for url in pages)
        status, body = get("/wlcg-collector/officer/", officer)
        assert 'id="unknown"' in body and 'id="without-reports"' in body

        # the operators' paths on the same Apache (started once for both):
        # /healthz needs no client certificate (a balancer has none);
        # /metrics neither, but Apache lets only this host's address
        # through, as the collector's default does (127.0.0.2 is loopback
        # too, and refused)
        import http.client
        from prometheus_client.parser import text_string_to_metric_families
        port = urllib.parse.urlsplit(base).port

        def from_address(path, source):
            context = ssl.create_default_context(cafile=ca_cert)
            context.post_handshake_auth = True
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30,
                                               source_address=(source, 0))
            try:
                conn.request("GET", path)
                answer = conn.getresponse()
                return answer.status, answer.read().decode()
            except (ssl.SSLError, ConnectionError) as exc:
                return None, str(exc)
            finally:
                conn.close()
        assert from_address("/wlcg-collector/healthz", "127.0.0.1") == (200, "ok\n")
        assert from_address("/wlcg-collector/healthz", "127.0.0.2") == (200, "ok\n")
        status, page = from_address("/wlcg-collector/metrics", "127.0.0.1")
        assert status == 200, page
        names = {family.name for family in text_string_to_metric_families(page)}
        assert {"wlcg_collector_reports", "wlcg_collector_hosts"} <= names
        status, page = from_address("/wlcg-collector/metrics", "127.0.0.2")
        assert status == 403 and "wlcg_collector" not in page

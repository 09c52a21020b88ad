"""Shared test helpers: real openssl keys, a real rpm database, and the
one fake the reporter tests need, a local HTTP collector whose answers the
test scripts (accept, fail, reject, hang)."""

import http.server
import os
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import textwrap
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORTER = os.path.join(ROOT, "wlcg-package-reporter")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
OPENSSL = shutil.which("openssl", path="/usr/bin:/bin") or "openssl"


# ---------------------------------------------------------------- processes

def bytecode_env():
    """What a child Python with an environment of its own keeps of this
    one's: where bytecode is cached (make test's scratch directory), or
    that none is written, so that no run writes it into the checkout."""
    return {name: os.environ[name] for name in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")
            if name in os.environ}


def clean_env(home, **extra):
    """The environment of a cron job: no proxies unless a test sets them."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_reporter(args, home, env_extra=None, input_bytes=None, timeout=120, python=None):
    """Run the real reporter script; returns the CompletedProcess (bytes)."""
    env = clean_env(home, **(env_extra or {}))
    return subprocess.run(
        [python or sys.executable, REPORTER, "--config", os.devnull] + list(args),
        input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, timeout=timeout)


# ---------------------------------------------------------------- openssl

# RSA keys made once (tests/keys/README): making a key is openssl's CPU,
# not what a test checks; a process takes each at most once
KEY_POOL = os.path.join(ROOT, "tests", "keys")
_pool_taken = [0]


def new_rsa_key(path):
    """An RSA-2048 private key at `path` (0600): the next of the pool's,
    or made now when the pool is used up or absent (an sdist has none)."""
    index = _pool_taken[0]
    _pool_taken[0] += 1
    pooled = os.path.join(KEY_POOL, "rsa2048-%02d.key" % index)
    if os.path.exists(pooled):
        with open(pooled, "rb") as handle:
            pem = handle.read()
    else:
        pem = subprocess.run([OPENSSL, "genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt",
                              "rsa_keygen_bits:2048"], check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(pem)
    return path


def make_key_pair(directory, cn="wlcg-collector-test"):
    """A throwaway RSA key and self-signed certificate; returns (key, cert)."""
    os.makedirs(str(directory), exist_ok=True)
    key = new_rsa_key(os.path.join(str(directory), "collector.key"))
    cert = os.path.join(str(directory), "collector.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-new", "-key", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=" + cn],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return key, cert


def make_host_key(directory, name, subject, extra=()):
    """An EC P-256 key and self-signed certificate as the reporter makes
    them on its first run (subject: "/CN=..." or a longer one): (cert, key)."""
    key = os.path.join(str(directory), name + ".key")
    cert = os.path.join(str(directory), name + ".pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-subj", subject, "-days", "2"] + list(extra), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def decrypt(der, key, cert):
    """The plaintext of a DER report, with the same command the collector runs."""
    proc = subprocess.run([OPENSSL, "smime", "-decrypt", "-binary", "-inform", "DER",
                           "-recip", cert, "-inkey", key],
                          input=der, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def unwrap(der, key, cert):
    """(plaintext, signer certificate PEM) of a report as the reporter sends
    it, signed then encrypted: decrypted and verified with the commands the
    collector runs."""
    import tempfile
    signed = decrypt(der, key, cert)
    directory = tempfile.mkdtemp()
    try:
        signer = os.path.join(directory, "signer.pem")
        proc = subprocess.run([OPENSSL, "smime", "-verify", "-binary", "-inform", "DER",
                               "-noverify", "-signer", signer], input=signed,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.returncode == 0, proc.stderr.decode()
        with open(signer, "rb") as handle:
            return proc.stdout, handle.read()
    finally:
        shutil.rmtree(directory)


def make_tls_server_files(directory):
    """A CA, a server certificate for 127.0.0.1 signed by it, and a CA
    directory hashed the way /etc/grid-security/certificates is."""
    d = str(directory)
    os.makedirs(d, exist_ok=True)
    ca_key, ca_cert = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    new_rsa_key(ca_key)
    subprocess.run([OPENSSL, "req", "-x509", "-new", "-key", ca_key,
                    "-out", ca_cert, "-days", "2", "-subj", "/CN=Test Grid CA"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    key, csr, cert = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    new_rsa_key(key)
    subprocess.run([OPENSSL, "req", "-new", "-key", key,
                    "-out", csr, "-subj", "/CN=127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as handle:
        handle.write("subjectAltName=IP:127.0.0.1\n")
    subprocess.run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                    "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    capath = os.path.join(d, "certificates")
    os.mkdir(capath)
    digest = subprocess.run([OPENSSL, "x509", "-hash", "-noout", "-in", ca_cert],
                            check=True, stdout=subprocess.PIPE).stdout.decode().strip()
    shutil.copy(ca_cert, os.path.join(capath, "testca.pem"))
    os.symlink("testca.pem", os.path.join(capath, digest + ".0"))
    return key, cert, capath


# ---------------------------------------------------------------- rpm

RPM_PACKAGES = [
    # (name, epoch, version, release, arch)
    ("bash", None, "5.1.8", "9.el9", "x86_64"),
    ("xrootd", 1, "5.6.9", "1.el9", "x86_64"),
    ("python3-scitokens", None, "1.8.1~rc1", "1.el9", "noarch"),
    ("htcondor", None, "24.0.1^20240910git1a2b3c", "1.el9", "x86_64"),
    ("kernel", None, "5.14.0", "427.13.1.el9_4", "x86_64"),
    ("kernel", None, "5.14.0", "503.11.1.el9_5", "x86_64"),
    ("glibc", None, "2.34", "100.el9_4.2", "x86_64"),
    ("glibc", None, "2.34", "100.el9_4.2", "i686"),
    ("perl-Text-Tabs+Wrap", None, "2013.0523", "460.el9", "noarch"),
    ("libstdc++_compat.x", 2, "11.4.1", "3.el9", "x86_64"),
]

# binary packages built from a source package named otherwise (as Fedora's
# python3-scitokens is built from python-scitokens)
RPM_SOURCES = {"python3-scitokens": "python-scitokens"}

SPEC_TEMPLATE = textwrap.dedent("""\
    Name: {source}
    Version: {version}
    Release: {release}
    {epoch_line}
    Summary: test package {name}
    License: MIT
    {arch_line}
    %description
    A package made for the wlcg-package-reporter tests.
    {subpackage}
    %files{files_of}
    """)
SUBPACKAGE_TEMPLATE = textwrap.dedent("""\
    %package -n {name}
    Summary: test package {name}
    %description -n {name}
    A package made for the wlcg-package-reporter tests.
    """)


def rpm_evr(epoch, version, release):
    return "%s:%s-%s" % (epoch or 0, version, release)


def build_rpm_db(directory, packages=RPM_PACKAGES, with_pubkey=True):
    """A real rpm database under directory/db with `packages` installed
    (rpmbuild + rpm --justdb), plus an imported gpg-pubkey. Returns the
    dbpath."""
    top = os.path.join(str(directory), "rpmbuild")
    dbpath = os.path.join(str(directory), "db")
    os.makedirs(dbpath)
    rpms = []
    for index, (name, epoch, version, release, arch) in enumerate(packages):
        spec = os.path.join(str(directory), "p%d.spec" % index)
        with open(spec, "w") as handle:
            source = RPM_SOURCES.get(name, name)
            handle.write(SPEC_TEMPLATE.format(
                name=name, version=version, release=release, source=source,
                subpackage=SUBPACKAGE_TEMPLATE.format(name=name) if source != name else "",
                files_of=" -n " + name if source != name else "",
                epoch_line="Epoch: %d" % epoch if epoch is not None else "",
                arch_line="BuildArch: noarch" if arch == "noarch" else ""))
        argv = ["rpmbuild", "--define", "_topdir " + top, "--define", "_build_id_links none",
                "-bb", spec]
        if arch != "noarch":
            argv[1:1] = ["--target", arch]
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.returncode == 0, proc.stdout.decode()[-2000:]
        built = os.path.join(top, "RPMS", arch, "%s-%s-%s.%s.rpm" % (name, version, release, arch))
        assert os.path.exists(built), built
        rpms.append(built)
    subprocess.run(["rpm", "--dbpath", dbpath, "-i", "--justdb", "--nodeps", "--ignorearch",
                    "--ignoreos"] + rpms, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if with_pubkey:
        gnupghome = os.path.join(str(directory), "gnupg")
        os.mkdir(gnupghome, 0o700)
        env = dict(os.environ, GNUPGHOME=gnupghome)
        subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
                        "Test Signing Key <signing@example.org>", "rsa2048", "sign", "never"],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        keyfile = os.path.join(str(directory), "RPM-GPG-KEY-test")
        with open(keyfile, "wb") as handle:
            handle.write(subprocess.run(["gpg", "--armor", "--export", "signing@example.org"],
                                        check=True, env=env, stdout=subprocess.PIPE).stdout)
        subprocess.run(["rpm", "--dbpath", dbpath, "--import", keyfile], check=True)
    return dbpath


# ---------------------------------------------------------------- HTTP collector

class _ThreadingHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    # http.server.ThreadingHTTPServer, which Python 3.6 lacks (the reporter's
    # tests also run there)
    daemon_threads = True


class ScriptedCollector(object):
    """A local HTTP server answering from a script of (status, headers, body)
    tuples, one per request; the last one repeats. The action "hang" accepts
    the request and never answers. Every request is recorded."""

    def __init__(self, script=None, tls=None):
        self.script = list(script or [(200, {}, b"OK")])
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with collector.lock:
                    collector.requests.append({
                        "path": self.path, "body": body, "headers": dict(self.headers),
                        "time": time.monotonic()})
                    step = collector.script[0]
                    if len(collector.script) > 1:
                        collector.script.pop(0)
                if step == "hang":
                    collector.release.wait(60)
                    return
                status, headers, payload = step
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = _ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls[1], tls[0])
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = "%s://127.0.0.1:%d/report" % (scheme, self.server.server_address[1])
        # a short poll: close() waits for the serving loop to notice
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def bodies(self):
        return [r["body"] for r in self.requests]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


_REFUSING = []


def refused_url():
    """An http URL on a loopback port where nothing listens: a socket of
    this process keeps the port bound without listening, so that no other
    process (another test run on this machine) can take it meanwhile."""
    if not _REFUSING:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        _REFUSING.append(sock)
    return "http://127.0.0.1:%d/report" % _REFUSING[0].getsockname()[1]


class InProcessRun(object):
    """What a run of the reporter's main() in this process did: like a
    CompletedProcess (returncode, stdout and stderr as bytes), with the
    seconds it would have slept."""

    def __init__(self, returncode, stdout, stderr, slept):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.slept = slept


def run_reporter_in_process(module, args):
    """The reporter's main(["--config", os.devnull] + args) in this process,
    its sleeps recorded instead of slept (the backoff and --random-delay
    run on this fake clock). The caller sets the environment."""
    import contextlib
    import io
    slept = []
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    original = module.sleep
    module.sleep = slept.append
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
            code = module.main(["--config", os.devnull] + list(args))
    finally:
        module.sleep = original
    stdout.flush()
    return InProcessRun(code, out.getvalue(), err.getvalue().encode(), slept)


def load_reporter():
    """The reporter script imported as a module, for its pure functions."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("wlcg_package_reporter", REPORTER)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def parse_report(text):
    """(headers, package lines) of a protocol-5 plaintext, checking its frame."""
    lines = text.split("\n")
    assert lines[0] == "#" and lines[-1] == "" and lines[-2] == "#", text[:200]
    second = lines.index("#", 1)
    headers = dict(line.split(": ", 1) for line in lines[1:second])
    packages = [tuple(line.split("\t")) for line in lines[second + 1:-2]]
    return headers, packages


# ---------------------------------------------------------------- collector

MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def make_report(site="T2_TEST", host="wn01.example.org", packages=(), ts=None,
                packager="rpm", **headers):
    """A protocol-5 plaintext as the reporter writes it."""
    fields = {"site": site, "host": host, "packager": packager, "arch": "x86_64",
              "kernel": "5.14.0-427.13.1.el9_4.x86_64", "system": "AlmaLinux 9.4",
              "version": "1"}
    if ts is not None:
        fields["ts"] = str(ts)
    fields.update(headers)
    lines = ["#"] + ["%s: %s" % (k, fields[k]) for k in sorted(fields)] + ["#"]
    lines += ["\t".join(p) for p in packages] + ["#"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def mysql_available():
    try:
        import pymysql
        pymysql.connect(connect_timeout=3, **MYSQL).close()
        return True
    except Exception:
        return False


class ScratchMySQL(object):
    """A database of its own on the MariaDB server, dropped by close()."""

    def __init__(self):
        import pymysql
        import uuid
        self.name = "wlcg_test_%s" % uuid.uuid4().hex[:12]
        conn = pymysql.connect(**MYSQL)
        with conn.cursor() as cursor:
            cursor.execute("CREATE DATABASE %s CHARACTER SET utf8mb4" % self.name)
        conn.close()
        self.url = "mysql://root@127.0.0.1:3306/%s" % self.name

    def close(self):
        import pymysql
        conn = pymysql.connect(**MYSQL)
        with conn.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS %s" % self.name)
        conn.close()


MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or shutil.which(
    "mysqld", path="/usr/sbin:/usr/bin")
INSTALL_DB = shutil.which("mariadb-install-db", path="/usr/bin:/usr/sbin") or shutil.which(
    "mysql_install_db", path="/usr/bin:/usr/sbin")


def free_port():
    """A loopback port nobody listens on now (another process may take it
    before the caller does: servers started on it check they got it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnMariaDB(object):
    """A mariadbd of the test's own, on a scratch data directory and port
    (server_id and log_bin: for a replication primary or replica), with a
    temporary directory of its own: a starting mariadbd deletes every
    #sql file in its tmpdir, and in /tmp those are the temporary tables
    other servers (the shared MariaDB) are using."""

    def __init__(self, directory, server_id=None, log_bin=False):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.server_id = server_id
        self.log_bin = log_bin
        self.datadir = os.path.join(directory, "data")
        self.tmpdir = os.path.join(directory, "tmp")
        os.makedirs(self.tmpdir, exist_ok=True)
        self.choose_ports()
        self.install()
        self.proc = None
        self.started = False

    def choose_ports(self):
        self.port = free_port()

    def user(self):
        """mariadbd's --user option: as root it must be given one."""
        return ["--user=root"] if os.geteuid() == 0 else []

    def install(self):
        proc = subprocess.run([INSTALL_DB, "--no-defaults", "--datadir=" + self.datadir,
                               "--tmpdir=" + self.tmpdir,
                               "--auth-root-authentication-method=normal",
                               "--skip-test-db"] + self.user(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        assert proc.returncode == 0, proc.stdout.decode()[-2000:]

    def options(self):
        return ((["--log-bin=" + os.path.join(self.directory, "binlog")] if self.log_bin
                 else ["--skip-log-bin"])
                + (["--server-id=%d" % self.server_id] if self.server_id else []))

    def start(self):
        """Start the server and wait until it answers. On its first start,
        a port another process took since choose_ports (another test run on
        this machine) is given up for new ones; a restart keeps its port."""
        for _ in range(5):
            log = os.path.join(self.directory, "err.log")
            logged = os.path.getsize(log) if os.path.exists(log) else 0
            if self.start_once():
                self.started = True
                return
            with open(log) as handle:
                handle.seek(logged)
                failure = handle.read()
            if self.started or "Address already in use" not in failure:
                break
            self.choose_ports()
        raise AssertionError("own mariadbd did not start: " +
                             open(os.path.join(self.directory, "err.log")).read()[-2000:])

    def start_once(self):
        """Whether the server started and answers on our port (not another
        run's server that holds it)."""
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", "--datadir=" + self.datadir,
             "--tmpdir=" + self.tmpdir,
             "--port=%d" % self.port, "--bind-address=127.0.0.1",
             "--socket=" + os.path.join(self.directory, "mysql.sock"),
             "--pid-file=" + os.path.join(self.directory, "mysqld.pid"),
             "--innodb-buffer-pool-size=32M"] + self.options() + self.user(),
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.directory, "err.log"), "a"))
        for _ in range(600):
            if self.proc.poll() is not None:
                self.proc = None
                return False
            try:
                datadir = self.execute("SELECT @@datadir")[0][0]
            except Exception:
                time.sleep(0.1)
                continue
            if os.path.realpath(datadir) == os.path.realpath(self.datadir):
                return True
            time.sleep(0.1)  # another server's port: ours fails to bind and exits
        self.stop()
        return False

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.proc = None

    def execute(self, *statements):
        """Run statements as root; the rows of the last."""
        import pymysql
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user="root", autocommit=True)
        try:
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                return cursor.fetchall()
        finally:
            conn.close()

    def create_database(self, name):
        self.execute("CREATE DATABASE %s" % name)
        return self.url(name)

    def url(self, name):
        return "mysql://root@127.0.0.1:%d/%s" % (self.port, name)


GALERA = next((path for path in ("/usr/lib/galera/libgalera_smm.so",
                                 "/usr/lib64/galera-4/libgalera_smm.so",
                                 "/usr/lib64/galera/libgalera_smm.so") if os.path.exists(path)),
              None)


class GaleraNode(OwnMariaDB):
    """A node of a Galera cluster of the test's own on loopback ports. The
    first bootstraps the cluster; another (join=that node) starts empty
    and receives its data by rsync, as a new node of a real cluster does.
    Run as root, the nodes run as user mysql: rsync's daemon must be able
    to write their data directories (`directory` must be one that user can
    reach)."""

    def __init__(self, directory, join=None):
        self.join = join
        OwnMariaDB.__init__(self, directory)

    def choose_ports(self):
        OwnMariaDB.choose_ports(self)
        self.gcomm_port, self.ist_port, self.sst_port = free_port(), free_port(), free_port()

    def user(self):
        return ["--user=mysql"] if os.geteuid() == 0 else []

    def install(self):
        if os.geteuid() == 0:  # (the bootstrap server writes its tmpdir)
            shutil.chown(self.tmpdir, "mysql", "mysql")
        if self.join is None:
            OwnMariaDB.install(self)
        else:
            os.makedirs(self.datadir)
        if os.geteuid() == 0:
            for path in (self.directory, self.datadir):
                shutil.chown(path, "mysql", "mysql")
            subprocess.run(["chown", "-R", "mysql:mysql", self.datadir], check=True)

    def options(self):
        address = "" if self.join is None else "127.0.0.1:%d" % self.join.gcomm_port
        return ["--skip-log-bin", "--binlog-format=ROW", "--innodb-autoinc-lock-mode=2",
                "--wsrep-on=ON", "--wsrep-provider=" + GALERA,
                "--wsrep-cluster-name=wlcg-test", "--wsrep-cluster-address=gcomm://" + address,
                "--wsrep-node-address=127.0.0.1:%d" % self.gcomm_port,
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:%d;"
                "ist.recv_addr=127.0.0.1:%d" % (self.gcomm_port, self.ist_port),
                "--wsrep-sst-method=rsync",
                "--wsrep-sst-receive-address=127.0.0.1:%d" % self.sst_port]

    def start(self):
        OwnMariaDB.start(self)
        for _ in range(600):
            if self.status("wsrep_local_state_comment") == "Synced":
                return
            time.sleep(0.1)
        raise AssertionError("galera node did not sync: " +
                             open(os.path.join(self.directory, "err.log")).read()[-2000:])

    def status(self, name):
        rows = self.execute("SHOW STATUS LIKE '%s'" % name)
        return rows[0][1] if rows else None


def write_config(path, database, pairs, **options):
    """A collector INI file."""
    lines = ["[collector]", "database = %s" % database]
    if pairs:
        lines.append("key = " + "\n    ".join(k for k, _ in pairs))
        lines.append("cert = " + "\n    ".join(c for _, c in pairs))
    lines += ["%s = %s" % item for item in options.items()]
    with open(str(path), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return str(path)


def run_cli(args):
    """`wlcg-collector ARGS` run in this process, as cli.main: (exit code,
    stdout, stderr). (One subprocess test per entry point checks the
    command itself; see collector_command.)"""
    import contextlib
    import io
    from wlcg_collector import cli
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse's usage errors and --help
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def collector_command(args, env_extra=None, timeout=120, input_bytes=None):
    """Run `python -m wlcg_collector ARGS` from this checkout."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("WLCG_COLLECTOR_CONFIG", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "wlcg_collector"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          timeout=timeout, input=input_bytes)


def wsgi_call(app, body=b"", method="POST", path="/", query="protocol=5", content_length=True,
              environ_extra=None, validate=True):
    """One request to a WSGI application, in this process, through
    wsgiref.validate (which checks both sides keep the WSGI rules; give
    validate=False for a request it would refuse to pass on): the test
    client of the collector and of the officer's pages. Returns (status,
    headers, body bytes, what the application logged)."""
    import io
    import wsgiref.util
    import wsgiref.validate
    errors = io.StringIO()
    environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
               "QUERY_STRING": query,
               "wsgi.input": io.BytesIO(body), "wsgi.errors": errors,
               "REMOTE_ADDR": "192.0.2.7",
               "CONTENT_TYPE": "application/x-www-form-urlencoded"}
    if content_length:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(environ_extra or {})
    wsgiref.util.setup_testing_defaults(environ)
    if not content_length:
        environ.pop("CONTENT_LENGTH", None)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)
        return lambda data: None

    result = (wsgiref.validate.validator(app) if validate else app)(environ, start_response)
    try:
        out = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return int(captured["status"].split()[0]), captured["headers"], out, errors.getvalue()


def installed_dpkg_packages(sources=False):
    """What dpkg-query itself says is installed on this machine, sorted
    (with sources: and each one's source package, as dpkg names it)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Status}\t${Package}\t${Version}\t${Architecture}"
         "\t${source:Package}\n"], stdout=subprocess.PIPE, check=True).stdout.decode()
    rows = [line.split("\t") for line in out.splitlines()]
    return sorted(set((name, version, arch, source)[:4 if sources else 3]
                      for status, name, version, arch, source in rows if status == "installed"))


def post_plaintext(app, plaintext):
    """(status, text) of a plaintext report posted to app; never a traceback."""
    status, _, out, log = wsgi_call(app, plaintext)
    assert "Traceback" not in log
    return status, out.decode()

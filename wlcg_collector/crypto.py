"""The openssl operations of the collector, one function each.

Every call is an argv list (never a shell), has a time limit and a CPU
limit and has its exit status checked; none puts a secret on a command
line (the key is a file path, the data go through stdin and stdout).
"""

import errno
import os
import resource
import shutil
import signal
import stat
import subprocess
import tempfile

from . import certs

OPENSSL_TIMEOUT = 60  # seconds of wall time
# Seconds of CPU: a report of max_body bytes takes well under 0.1 s to
# decrypt and verify; what passed certs.check_signed_data and still takes
# this long is refused. RLIMIT_CPU counts whole seconds.
OPENSSL_CPU_SECONDS = 5
KEYGEN_CPU_SECONDS = 120  # an RSA key's primes are a random search
KEY_BITS = 3072
CERT_DAYS = 1825
SUBJECT = "/CN=wlcg-package-collector"
KEY_NAME, CERT_NAME = "collector.key", "collector.pem"

# `openssl smime` exit codes
SMIME_BAD_INPUT = (2, 3)
SMIME_DECRYPT_FAILED = 4


class CryptoError(Exception):
    """An openssl operation failed; the message names which and why."""


class NotDecryptable(CryptoError):
    """No configured key pair decrypts the body (not the collector's fault)."""


class BadSignature(CryptoError):
    """A signed report whose signature does not verify (a modified or
    truncated body): not the collector's fault."""


class TooCostly(CryptoError):
    """openssl used up its CPU limit on a body: the body's fault."""


# the DER of a CMS/PKCS#7 SignedData: a SEQUENCE, then the OID 1.2.840.113549.1.7.2
SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
# and of EnvelopedData, 1.2.840.113549.1.7.3
ENVELOPED_DATA_OID = bytes.fromhex("06092a864886f70d010703")


def openssl_path():
    path = shutil.which("openssl", path="/usr/bin:/bin:/usr/local/bin")
    if path is None:
        raise CryptoError("openssl not found in /usr/bin, /bin or /usr/local/bin")
    return path


def _limit(pid, cpu_seconds):
    """Bound a child's CPU (SIGKILL at cpu_seconds: soft = hard, so no
    SIGXCPU and its core dump) and forbid core files (one of a decrypt
    would hold the collector's key). Set from outside, on the child's pid:
    a preexec_fn is not safe in the threads of mod_wsgi. The child has not
    been given its input yet, so nothing it costs escapes the limit."""
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        cpu_seconds = min(cpu_seconds, hard)
    try:
        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
        resource.prlimit(pid, resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    except ProcessLookupError:
        pass  # it has ended already: nothing left to bound


def _run(argv, what, data=None, cpu_seconds=None):
    """The CompletedProcess of argv, data on its stdin; TooCostly when it
    is stopped by its CPU limit (cpu_seconds, OPENSSL_CPU_SECONDS if None),
    CryptoError when it cannot run or does not end in time."""
    if cpu_seconds is None:
        cpu_seconds = OPENSSL_CPU_SECONDS
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
                                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    except OSError as exc:
        raise CryptoError("cannot run openssl for %s: %s" % (what, exc))
    try:
        _limit(proc.pid, cpu_seconds)
        out, err = proc.communicate(data, timeout=OPENSSL_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise CryptoError("%s did not finish within %d s" % (what, OPENSSL_TIMEOUT))
    except OSError as exc:
        proc.kill()
        proc.communicate()
        raise CryptoError("cannot bound the CPU of openssl for %s: %s" % (what, exc))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode in (-signal.SIGKILL, -signal.SIGXCPU):
        raise TooCostly("%s was stopped at its limit of %d s of CPU" % (what, cpu_seconds))
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _first_line(stderr):
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0][:300] if lines else "no message"


def is_enveloped(data):
    """Whether data opens as PKCS#7 enveloped data does: a SEQUENCE (of
    indefinite length, or of a definite one the data holds) whose first
    element is the EnvelopedData OID. What does not cannot decrypt, and
    is refused without starting openssl (a fork and a key load, about
    4 ms of CPU, for each body of junk anybody may send)."""
    if len(data) < 2 or data[0] != 0x30:
        return False
    if data[1] == 0x80:  # BER's indefinite length
        header = 2
    elif data[1] < 0x80:
        header, length = 2, data[1]
        if length > len(data) - header:
            return False
    else:
        size = data[1] & 0x7f
        if size > 4 or len(data) < 2 + size:
            return False
        header, length = 2 + size, int.from_bytes(data[2:2 + size], "big")
        if length > len(data) - header:
            return False
    return data[header:header + len(ENVELOPED_DATA_OID)] == ENVELOPED_DATA_OID


def decrypt(der, pairs):
    """Plaintext of a DER PKCS#7 enveloped body, trying each (key, cert)
    pair in order. -recip is always given: without it openssl may 'decrypt'
    with a random key and exit 0."""
    if not is_enveloped(der):
        raise NotDecryptable("body is not DER PKCS#7 enveloped data")
    openssl = openssl_path()
    reasons = []
    for key, cert in pairs:
        proc = _run([openssl, "smime", "-decrypt", "-binary", "-inform", "DER",
                     "-recip", cert, "-inkey", key], "openssl smime -decrypt", der)
        if proc.returncode == 0:
            return proc.stdout
        if proc.returncode in SMIME_BAD_INPUT:
            raise NotDecryptable("body is not DER PKCS#7 enveloped data")
        if proc.returncode == SMIME_DECRYPT_FAILED:
            reasons.append(os.path.basename(cert))
            continue
        raise CryptoError("openssl smime -decrypt failed with exit code %d: %s"
                          % (proc.returncode, _first_line(proc.stderr)))
    raise NotDecryptable("report is not encrypted to any collector certificate (%s)"
                         % ", ".join(reasons))


def is_signed(data):
    """Whether decrypted data is CMS signed data (else a plain report)."""
    return data[:1] == b"\x30" and SIGNED_DATA_OID in data[:24]


_NO_CA_STORE = None


def _no_ca_store_flags(openssl):
    """-noverify alone still loads the system CA store, about 30 ms a call;
    OpenSSL 3 can be told not to (about 6 ms then)."""
    global _NO_CA_STORE
    if _NO_CA_STORE is None:
        proc = _run([openssl, "version"], "openssl version")
        version = proc.stdout.decode("ascii", "replace").split()
        major = version[1].split(".")[0] if len(version) > 1 else ""
        _NO_CA_STORE = ["-no-CAfile", "-no-CApath", "-no-CAstore"] if (
            major.isdigit() and int(major) >= 3) else []
    return _NO_CA_STORE


def verify(der):
    """(content, signer certificate PEM) of DER CMS signed data whose
    signature over its content verifies; BadSignature if it does not. The
    signer's certificate is not checked against any CA here (see
    verify_chain)."""
    openssl = openssl_path()
    directory = tempfile.mkdtemp(prefix="wlcg-verify-")  # 0700: only this user
    signer = os.path.join(directory, "signer.pem")
    try:
        proc = _run([openssl, "smime", "-verify", "-binary", "-inform", "DER", "-noverify",
                     "-signer", signer] + _no_ca_store_flags(openssl),
                    "openssl smime -verify", der)
        if proc.returncode != 0:
            raise BadSignature("the report's signature does not verify (%s)"
                               % _first_line(proc.stderr))
        with open(signer, "rb") as handle:
            return proc.stdout, handle.read()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def verify_chain(cert_pem, capath):
    """Whether a certificate verifies against the CA directory `capath`
    (the IGTF CAs in /etc/grid-security/certificates)."""
    directory = tempfile.mkdtemp(prefix="wlcg-chain-")
    path = os.path.join(directory, "cert.pem")
    try:
        with open(path, "wb") as handle:
            handle.write(cert_pem)
        proc = _run([openssl_path(), "verify", "-CApath", capath, path], "openssl verify")
        return proc.returncode == 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def subject_of(cert_pem):
    """The subject of a PEM certificate, RFC 2253 form, for people to read."""
    proc = _run([openssl_path(), "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
                "openssl x509 -subject", cert_pem)
    if proc.returncode != 0:
        raise CryptoError("cannot read the subject: %s" % _first_line(proc.stderr))
    text = proc.stdout.decode("utf-8", "replace").strip()
    return text[len("subject="):].strip() if text.startswith("subject=") else text


def sign(plaintext, cert, key):
    """DER CMS signed data of plaintext, as the reporter makes it."""
    proc = _run([openssl_path(), "smime", "-sign", "-binary", "-nodetach", "-md", "sha256",
                 "-outform", "DER", "-signer", cert, "-inkey", key],
                "openssl smime -sign", plaintext)
    if proc.returncode != 0:
        raise CryptoError("openssl smime -sign failed: %s" % _first_line(proc.stderr))
    return proc.stdout


def encrypt(plaintext, cert):
    """DER PKCS#7 of plaintext for cert, as the reporter makes it."""
    proc = _run([openssl_path(), "smime", "-encrypt", "-binary", "-aes256", "-outform", "DER",
                 cert], "openssl smime -encrypt", plaintext)
    if proc.returncode != 0:
        raise CryptoError("openssl smime -encrypt failed: %s" % _first_line(proc.stderr))
    return proc.stdout


def public_key_of_cert(cert):
    proc = _run([openssl_path(), "x509", "-noout", "-pubkey", "-in", cert], "openssl x509")
    if proc.returncode != 0:
        raise CryptoError("certificate %s is not a PEM X.509 certificate: %s"
                          % (cert, _first_line(proc.stderr)))
    return proc.stdout


def public_key_of_key(key, outform="PEM"):
    proc = _run([openssl_path(), "pkey", "-pubout", "-outform", outform, "-in", key,
                 "-passin", "pass:"], "openssl pkey")
    if proc.returncode != 0:
        raise CryptoError("key %s is not an unencrypted PEM private key: %s"
                          % (key, _first_line(proc.stderr)))
    return proc.stdout


def _public_key_in_cert(cert):
    """The DER SubjectPublicKeyInfo of a PEM certificate file, read in
    Python (certs.py), or None when it cannot be read so."""
    try:
        with open(cert, "rb") as handle:
            return certs.from_pem(handle.read(1 << 20)).public_key
    except (OSError, certs.CertificateError):
        return None


# pairs found to match, by what identifies the two files as they are
# (device, inode, size, change time): an openssl run a pair (two when
# its encodings differ), once a process, not at each application the
# process makes
_MATCHING_PAIRS = set()


def _identity(path):
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def check_pair(key, cert):
    """CryptoError unless key is the private key of cert."""
    identity = (_identity(key), _identity(cert))
    if None not in identity and identity in _MATCHING_PAIRS:
        return
    # The key's public part as openssl writes it, against the certificate's
    # as written there: the same bytes are a match, one openssl run (`openssl
    # x509` alone takes some 40 ms, five reports' decryption, at the start of
    # each `wlcg-collector ingest`). Else both as openssl writes them,
    # which tells a mismatch from another encoding of the same key.
    if public_key_of_key(key, "DER") == _public_key_in_cert(cert):
        pass
    elif public_key_of_key(key) != public_key_of_cert(cert):
        raise CryptoError("key %s does not belong to certificate %s" % (key, cert))
    if None not in identity:
        _MATCHING_PAIRS.add(identity)


def open_key_directory(directory):
    """A descriptor of directory (made 0755 if missing) in which keys may
    be written: owned by root or this user, writable by nobody else (who
    could otherwise swap or plant the files). CryptoError otherwise."""
    try:
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise CryptoError("cannot use %s for keys: %s" % (directory, exc.strerror or exc))
    info = os.fstat(fd)
    problem = None
    if info.st_uid not in (0, os.geteuid()):
        problem = "belongs to uid %d, neither root nor this user" % info.st_uid
    elif info.st_mode & 0o022:
        problem = "is writable by group or others (mode %04o)" % stat.S_IMODE(info.st_mode)
    if problem:
        os.close(fd)
        raise CryptoError("%s %s: another user could swap the key files there; use a directory "
                          "only root or this user can write" % (directory, problem))
    return fd


def write_new_file(directory_fd, name, data, mode, shown):
    """Write data to a new file `name` of the directory, created mode `mode`
    through a descriptor of our own: never over an existing file, never
    through a symlink (not even a dangling one)."""
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     mode, dir_fd=directory_fd)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise CryptoError("%s exists (or is a symlink): move it away first" % shown)
        raise CryptoError("cannot create %s: %s" % (shown, exc.strerror or exc))
    try:
        os.fchmod(fd, mode)  # whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except OSError as exc:
        os.unlink(name, dir_fd=directory_fd)
        raise CryptoError("cannot write %s: %s" % (shown, exc.strerror or exc))
    finally:
        os.close(fd)


def keygen(directory, subject=SUBJECT, days=CERT_DAYS):
    """A new key DIR/collector.key (0600) and self-signed DIR/collector.pem.
    Refuses to overwrite: a lost key makes every spooled report unreadable.
    openssl writes both to a pipe, never to a path: the files are made
    here, in a directory that nobody else may write."""
    fd = open_key_directory(directory)
    try:
        shown = [os.path.join(directory, name) for name in (KEY_NAME, CERT_NAME)]
        for name, path in zip((KEY_NAME, CERT_NAME), shown):
            try:
                os.lstat(name, dir_fd=fd)
            except FileNotFoundError:
                continue
            raise CryptoError("%s exists (or is a symlink): move it away first (keep the old "
                              "pair configured while hosts move to the new certificate)" % path)
        openssl = openssl_path()
        key = _run([openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:%d" % KEY_BITS], "openssl genpkey",
                   cpu_seconds=KEYGEN_CPU_SECONDS)
        if key.returncode != 0 or not key.stdout.startswith(b"-----BEGIN"):
            raise CryptoError("openssl genpkey failed: %s" % _first_line(key.stderr))
        cert = _run([openssl, "req", "-x509", "-new", "-key", "/dev/stdin", "-subj", subject,
                     "-days", str(days), "-sha256"], "openssl req", key.stdout)
        if cert.returncode != 0 or not cert.stdout.startswith(b"-----BEGIN CERTIFICATE"):
            raise CryptoError("openssl req failed: %s" % _first_line(cert.stderr))
        write_new_file(fd, KEY_NAME, key.stdout, 0o600, shown[0])
        try:
            write_new_file(fd, CERT_NAME, cert.stdout, 0o644, shown[1])
        except CryptoError:
            os.unlink(KEY_NAME, dir_fd=fd)
            raise
    finally:
        os.close(fd)
    return shown[0], shown[1]

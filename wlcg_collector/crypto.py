"""The openssl operations of the collector, one function each.

Every call is an argv list (never a shell), has a time limit and has its
exit status checked; none puts a secret on a command line (the key is a
file path, the data go through stdin and stdout).
"""

import os
import shutil
import subprocess

OPENSSL_TIMEOUT = 60
KEY_BITS = 3072
CERT_DAYS = 1825
SUBJECT = "/CN=wlcg-package-collector"

# `openssl smime` exit codes
SMIME_BAD_INPUT = (2, 3)
SMIME_DECRYPT_FAILED = 4


class CryptoError(Exception):
    """An openssl operation failed; the message names which and why."""


class NotDecryptable(CryptoError):
    """No configured key pair decrypts the body (not the collector's fault)."""


def openssl_path():
    path = shutil.which("openssl", path="/usr/bin:/bin:/usr/local/bin")
    if path is None:
        raise CryptoError("openssl not found in /usr/bin, /bin or /usr/local/bin")
    return path


def _run(argv, what, data=None):
    try:
        proc = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=OPENSSL_TIMEOUT, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        raise CryptoError("%s did not finish within %d s" % (what, OPENSSL_TIMEOUT))
    except OSError as exc:
        raise CryptoError("cannot run openssl for %s: %s" % (what, exc))
    return proc


def _first_line(stderr):
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0][:300] if lines else "no message"


def decrypt(der, pairs):
    """Plaintext of a DER PKCS#7 enveloped body, trying each (key, cert)
    pair in order. -recip is always given: without it openssl may 'decrypt'
    with a random key and exit 0."""
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


def public_key_of_key(key):
    proc = _run([openssl_path(), "pkey", "-pubout", "-in", key, "-passin", "pass:"],
                "openssl pkey")
    if proc.returncode != 0:
        raise CryptoError("key %s is not an unencrypted PEM private key: %s"
                          % (key, _first_line(proc.stderr)))
    return proc.stdout


def check_pair(key, cert):
    """CryptoError unless key is the private key of cert."""
    if public_key_of_key(key) != public_key_of_cert(cert):
        raise CryptoError("key %s does not belong to certificate %s" % (key, cert))


def keygen(directory, subject=SUBJECT, days=CERT_DAYS):
    """A new key DIR/collector.key (0600) and self-signed DIR/collector.pem.
    Refuses to overwrite: a lost key makes every spooled report unreadable."""
    key = os.path.join(directory, "collector.key")
    cert = os.path.join(directory, "collector.pem")
    for path in (key, cert):
        if os.path.exists(path):
            raise CryptoError("%s exists: move it away first (keep the old pair configured "
                              "while hosts move to the new certificate)" % path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    # Create the key file 0600 before openssl writes into it.
    os.close(os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    old_umask = os.umask(0o077)
    try:
        proc = _run([openssl_path(), "req", "-x509", "-newkey", "rsa:%d" % KEY_BITS, "-nodes",
                     "-keyout", key, "-out", cert, "-days", str(days), "-subj", subject,
                     "-sha256"], "openssl req")
    finally:
        os.umask(old_umask)
    if proc.returncode != 0:
        for path in (key, cert):
            if os.path.exists(path):
                os.unlink(path)
        raise CryptoError("openssl req failed: %s" % _first_line(proc.stderr))
    os.chmod(key, 0o600)
    os.chmod(cert, 0o644)
    return key, cert

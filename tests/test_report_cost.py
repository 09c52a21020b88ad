"""What one report may cost the collector: signed data that openssl would
take seconds to verify (many signers, a key with a huge public exponent,
keys of other kinds) is refused before openssl runs; a report stored
already is known without verifying it again; and every openssl call is
bounded in CPU. Real openssl keys and bodies, through the WSGI
application, on SQLite and MariaDB."""

import hashlib
import os
import resource
import subprocess
import time

import pytest

from helpers import KEY_POOL, OPENSSL, make_host_key, make_report, write_config, wsgi_call
from wlcg_collector import create_app, crypto, ingest
from wlcg_collector.db import open_store

NOW = int(time.time())
HOST = "wn01.example.org"
# the report: about 4 MB, signed 1,950 times with an RSA-3072 key
# whose public exponent has 3,071 bits (about 10 s of openssl smime -verify)
SIGNERS = 1950
CONTENT_BYTES = 2800 * 1000
HUGE_EXPONENT = (1 << 3070) + 1
RSA_KINDS = {  # openssl genpkey's options for each
    "rsa-huge-exponent": ("-pkeyopt", "rsa_keygen_bits:3072", "-pkeyopt",
                          "rsa_keygen_pubexp:%d" % HUGE_EXPONENT),
    "rsa-exponent-3": ("-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_keygen_pubexp:3"),
    "rsa-1024": ("-pkeyopt", "rsa_keygen_bits:1024"),
    "rsa-4096": ("-pkeyopt", "rsa_keygen_bits:4096"),
}


def openssl(*args, data=None):
    return subprocess.run([OPENSSL] + list(args), input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


def tlv(tag, content):
    """A DER item."""
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    size = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def items(der, start, end):
    """(tag, content start, content end, item start) of each DER item."""
    from wlcg_collector.certs import _items
    return list(_items(der, start, end))


def with_signer_info_repeated(signed, count):
    """The signed data with its one SignerInfo `count` times: each a valid
    signature that openssl verifies in turn."""
    [(_, start, end, _)] = items(signed, 0, len(signed))
    oid, explicit = items(signed, start, end)
    [(_, start, end, _)] = items(signed, explicit[1], explicit[2])
    fields = items(signed, start, end)
    [signer] = items(signed, fields[-1][1], fields[-1][2])
    head = b"".join(signed[f[3]:f[2]] for f in fields[:-1])
    signer_info = signed[signer[3]:signer[2]]
    return tlv(0x30, signed[oid[3]:oid[2]] + tlv(0xa0, tlv(0x30, head + tlv(
        0x31, signer_info * count))))


def big_report(host):
    """A valid report of about CONTENT_BYTES (long package names)."""
    line = 200 + 1 + 11 + 1 + 6 + 1
    packages = [("p%05d-%s" % (i, "x" * 193), "0:1.0-1.el9", "x86_64")
                for i in range(CONTENT_BYTES // line)]
    return make_report("T2_TEST", host, packages, ts=NOW - 60)


@pytest.fixture(scope="module")
def signers(tmp_path_factory):
    """(cert, key) by name: the reporter's kind of key, the costly kinds and
    the other kinds refused, and the kinds accepted beside EC P-256."""
    directory = tmp_path_factory.mktemp("signers")
    made = {"host": make_host_key(directory, "host", "/CN=" + HOST)}

    def from_key(name, key_pem):
        key = directory / (name + ".key")
        key.write_bytes(key_pem)
        cert = directory / (name + ".pem")
        openssl("req", "-x509", "-new", "-key", str(key), "-subj", "/CN=" + HOST, "-days", "2",
                "-out", str(cert))
        made[name] = (str(cert), str(key))

    # the RSA keys made once (tests/keys/README): their making was most of
    # this module's time; the EC ones are made now (a few ms)
    for name, pooled in (("rsa-huge-exponent", "rsa3072-huge-exponent.key"),
                         ("rsa-exponent-3", "rsa2048-exponent-3.key"),
                         ("rsa-1024", "rsa1024.key"), ("rsa-4096", "rsa4096.key")):
        path = os.path.join(KEY_POOL, pooled)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                from_key(name, handle.read())
        else:
            from_key(name, openssl("genpkey", "-algorithm", "RSA", *RSA_KINDS[name]))
    from_key("p-521", openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                              "ec_paramgen_curve:P-521"))
    from_key("p-384", openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                              "ec_paramgen_curve:P-384"))
    # what OpenSSL 1.0 (EL7) makes unless told otherwise: the curve spelled out
    from_key("p-256-explicit", openssl("ecparam", "-name", "prime256v1", "-param_enc",
                                       "explicit", "-genkey", "-noout"))
    from_key("secp256k1-explicit", openssl("ecparam", "-name", "secp256k1", "-param_enc",
                                           "explicit", "-genkey", "-noout"))
    return made


@pytest.fixture
def collector(tmp_path, database_url, collector_keys, monkeypatch):
    """(post(body) -> (status, text, seconds), the store, the openssl
    commands run, as "openssl smime -verify" and so on)."""
    store = open_store(database_url)
    store.schema.init()
    app = create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys]))
    commands = []
    real_run = crypto._run

    def spy(argv, what, *args, **kwargs):
        commands.append(what)
        return real_run(argv, what, *args, **kwargs)
    monkeypatch.setattr(crypto, "_run", spy)

    def post(body):
        started = time.perf_counter()
        status, _, out, _ = wsgi_call(app, body)
        return status, out.decode(), time.perf_counter() - started
    yield post, store, commands
    store.close()


def encrypted(collector_keys, signed):
    return crypto.encrypt(signed, collector_keys[1])


def test_the_crafted_report_costs_no_more_than_a_normal_one(collector, collector_keys,
                                                            signers):
    post, store, commands = collector
    normal = encrypted(collector_keys, crypto.sign(big_report(HOST), *signers["host"]))
    signed = crypto.sign(big_report("wn02.example.org"), *signers["rsa-huge-exponent"])
    crafted = encrypted(collector_keys, with_signer_info_repeated(signed, SIGNERS))
    assert 3500 * 1000 < len(crafted) <= 4194304 and len(normal) > CONTENT_BYTES
    status, out, normal_seconds = post(normal)
    assert status == 200, out
    del commands[:]
    before = store.testing.row_counts()
    status, out, seconds = post(crafted)
    assert status == 400 and out == ("signed report refused before verifying it: signed by "
                                     "more than one signer (one is accepted)\n"), out
    assert "openssl smime -verify" not in commands and store.testing.row_counts() == before
    assert seconds < 5 * normal_seconds, (seconds, normal_seconds)
    # one signer with that key is refused as well
    status, out, _ = post(encrypted(collector_keys, signed))
    assert status == 400 and "an RSA key whose public exponent has 3071 bits" in out, out
    assert "openssl smime -verify" not in commands and store.testing.row_counts() == before


@pytest.mark.parametrize("name, reason", [
    ("rsa-huge-exponent", "an RSA key whose public exponent has 3071 bits"),
    ("rsa-exponent-3", "an RSA key with public exponent 3 "),
    ("rsa-1024", "an RSA key of 1024 bits "),
    ("p-521", "an EC key on curve 1.3.132.0.35 "),
    ("secp256k1-explicit", "an EC key on another curve than P-256 and P-384"),
])
def test_costly_or_unknown_keys_are_refused_before_openssl(collector, collector_keys, signers,
                                                           name, reason):
    post, store, commands = collector
    signed = crypto.sign(make_report("T2_TEST", HOST, [("bash", "0:5.1-1", "x86_64")],
                                     ts=NOW - 60), *signers[name])
    body = encrypted(collector_keys, signed)
    del commands[:]
    status, out, _ = post(body)
    assert status == 400 and out.startswith("signed report refused before verifying it: "
                                            "signer certificate with " + reason), out
    assert out.count("\n") == 1 and "EC P-256 or P-384, or RSA of 2048 to 4096 bits with " \
                                    "exponent 65537 are accepted" in out
    assert commands == ["openssl smime -decrypt"]
    assert store.testing.row_counts()["reports"] == 0


def test_two_signers_are_refused_and_the_accepted_keys_verify(collector, collector_keys,
                                                              signers):
    post, store, commands = collector
    plaintext = make_report("T2_TEST", HOST, [("bash", "0:5.1-1", "x86_64")], ts=NOW - 60)
    (cert, key), (cert2, key2) = signers["host"], signers["p-384"]
    twice = openssl("smime", "-sign", "-binary", "-nodetach", "-md", "sha256", "-outform", "DER",
                    "-signer", cert, "-inkey", key, "-signer", cert2, "-inkey", key2,
                    data=plaintext)
    body = encrypted(collector_keys, twice)
    del commands[:]
    status, out, _ = post(body)
    assert status == 400 and "signed by more than one signer" in out, out
    assert commands == ["openssl smime -decrypt"]
    # EC P-256 with the curve spelled out (an EL7 host's key), P-384, RSA 4096
    for ts, name in enumerate(("p-256-explicit", "p-384", "rsa-4096")):
        signed = crypto.sign(make_report("T2_TEST", "%s.example.org" % name,
                                         [("bash", "0:5.1-1", "x86_64")], ts=NOW - 60 + ts),
                             *signers[name])
        status, out, _ = post(encrypted(collector_keys, signed))
        assert status == 200, (name, out)
    assert store.testing.row_counts()["reports"] == 3


def test_a_stored_report_sent_again_is_not_verified_again(collector, collector_keys, signers,
                                                          monkeypatch):
    """A retry of a stored signed report: 200 OK and counted, as before,
    but without openssl verifying it (verify here fails the test); the
    same signed data encrypted anew, or its content under a broken
    signature, is the same report: nothing else changes."""
    post, store, commands = collector
    plaintext = make_report("T2_TEST", HOST, [("bash", "0:5.1-1", "x86_64")], ts=NOW - 60)
    signed = crypto.sign(plaintext, *signers["host"])
    body = encrypted(collector_keys, signed)
    assert post(body)[:2] == (200, "OK")
    host = store.hosts.find(HOST)
    before = (store.testing.row_counts(), store.hosts.state(host.id), host.trust,
              host.key_fingerprint)

    def verify(signed):
        raise AssertionError("verified again")
    monkeypatch.setattr(crypto, "verify", verify)
    forged = signed[:-3] + bytes([signed[-3] ^ 0x40]) + signed[-2:]
    for again in (body, encrypted(collector_keys, signed), encrypted(collector_keys, forged)):
        assert post(again)[:2] == (200, "OK")
    host = store.hosts.find(HOST)
    assert (store.testing.row_counts(), store.hosts.state(host.id), host.trust,
            host.key_fingerprint) == before
    [row] = store.hosts.reports(host.id)
    assert row.duplicates == 3 and row.outcome == "applied"
    assert hashlib.sha256(plaintext).digest() == ingest.check_signed(signed)


def test_every_openssl_call_is_bounded_in_cpu(collector, collector_keys, signers,
                                              monkeypatch):
    """What the checks before openssl refuse, let through to openssl with a
    CPU limit of 1 s: stopped there, a one-line 400, never a 500."""
    post, store, commands = collector
    signed = crypto.sign(make_report("T2_TEST", HOST, [("bash", "0:5.1-1", "x86_64")],
                                     ts=NOW - 60), *signers["rsa-huge-exponent"])
    crafted = encrypted(collector_keys, with_signer_info_repeated(signed, SIGNERS))
    monkeypatch.setattr(crypto, "OPENSSL_CPU_SECONDS", 1)
    monkeypatch.setattr(ingest, "check_signed", lambda signed: b"\0" * 32)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    status, out, seconds = post(crafted)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert status == 400 and out == ("openssl smime -verify was stopped at its limit of 1 s "
                                     "of CPU\n"), out
    assert after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime < 4
    assert store.testing.row_counts()["reports"] == 0


def test_a_body_that_is_not_enveloped_data_is_refused_before_openssl(collector,
                                                                       collector_keys):
    """Junk that cannot be PKCS#7 enveloped data (random bytes, a
    truncated header, other signed data, a length past the body) is
    refused without starting openssl; what openssl writes, DER and BER of
    indefinite length (-stream), still reaches it and is stored."""
    post, store, commands = collector
    plaintext = make_report("T2_TEST", HOST, [("bash", "0:5.1-1", "x86_64")], ts=NOW - 60)
    der = crypto.encrypt(plaintext, collector_keys[1])
    assert der[:2] == b"\x30\x82"  # a definite length: the header is 4 bytes
    length = int.from_bytes(der[2:4], "big")
    junk = [b"\x30", b"\x00" * 40, b"hello world", der[:3], der[:20],
            der[:2] + (length + 1).to_bytes(2, "big") + der[4:],  # a length past the body
            der[:4] + der[4:14] + b"\x02" + der[15:],  # another content type
            b"\x30\x80" + b"\x06\x09" + bytes(9), b"\x30\x85" + bytes(60)]
    for body in junk:
        del commands[:]
        status, out, _ = post(body)
        assert (status, out) == (400, "body is not DER PKCS#7 enveloped data\n"), body
        assert commands == [], body
    streamed = openssl("smime", "-encrypt", "-binary", "-aes-256-cbc", "-outform", "DER",
                       "-stream", collector_keys[1], data=make_report(
                           "T2_TEST", HOST, [("bash", "0:5.2-1", "x86_64")], ts=NOW - 30))
    assert streamed[:2] == b"\x30\x80"  # BER: indefinite length
    for body in (der, streamed):
        del commands[:]
        status, out, _ = post(body)
        assert (status, commands) == (200, ["openssl smime -decrypt"]), out
    assert store.testing.row_counts()["reports"] == 2

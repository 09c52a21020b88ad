"""What the collector reads of signed reports in Python, before and after
openssl: the shape of CMS signed data (RFC 5652) that openssl is allowed to
verify (one signer, one SHA-2 digest, keys it verifies cheaply), and of a
signer's X.509 certificate the SHA-256 of its public key, the subject, its
common names and DNS names.

Only the few DER structures that lead there are walked, level by level
(no recursion), every length checked against its container and every list
bounded before it is kept; what does not have that shape is a
CertificateError or a SignedDataError."""

import base64
import hashlib
import re
from collections import namedtuple

PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\s+([A-Za-z0-9+/=\s]+?)"
                    rb"-----END CERTIFICATE-----")
OID_COMMON_NAME = bytes.fromhex("550403")         # 2.5.4.3
OID_SUBJECT_ALT_NAME = bytes.fromhex("551d11")    # 2.5.29.17
SEQUENCE, SET, OID, OCTET_STRING = 0x30, 0x31, 0x06, 0x04
STRING_TAGS = {0x0c: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1e: "utf-16-be"}
DNS_NAME = 0x82  # [2] IMPLICIT IA5String in GeneralName
EXTENSIONS = 0xa3  # [3] EXPLICIT in TBSCertificate
VERSION = 0xa0  # [0] EXPLICIT
INTEGER, BIT_STRING, NULL = 0x02, 0x03, 0x05
CONTEXT_0, CONTEXT_1 = 0xa0, 0xa1  # [0], [1] constructed
HIGH_TAG_NUMBER = 0x1f  # a tag whose number follows in more bytes: never used here
TBS_FIELDS = 10  # version .. extensions (RFC 5280)

# CMS signed data (RFC 5652), content bytes of the OIDs
OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2
OID_DATA = bytes.fromhex("2a864886f70d010701")  # 1.2.840.113549.1.7.1
# each digest algorithm listed makes openssl hash the whole content once more
DIGESTS = {bytes.fromhex("608648016503040201"): "SHA-256",
           bytes.fromhex("608648016503040202"): "SHA-384",
           bytes.fromhex("608648016503040203"): "SHA-512"}
# the signer's, and a chain's room (the reporter sends one)
MAX_CERTIFICATES = 4

# Keys openssl verifies in about a millisecond. RSA verification costs
# grow with the exponent (OpenSSL takes any up to the modulus for a key of
# 3072 bits or less): only 65537, as every tool makes them.
OID_RSA = bytes.fromhex("2a864886f70d010101")  # rsaEncryption
OID_EC = bytes.fromhex("2a8648ce3d0201")  # id-ecPublicKey
OID_PRIME_FIELD = bytes.fromhex("2a8648ce3d0101")
RSA_BITS = (2048, 4096)
RSA_EXPONENT = 65537
ACCEPTED_KEYS = "EC P-256 or P-384, or RSA of 2048 to 4096 bits with exponent 65537"
# name, OID of the named curve, and its parameters (FIPS 186-4, D.1.2):
# OpenSSL 1.0 writes EC keys with explicit parameters unless told not to,
# so a certificate made on EL7 has these instead of the OID
Curve = namedtuple("Curve", "name oid p a b gx gy n")
CURVES = (
    Curve("P-256", bytes.fromhex("2a8648ce3d030107"),
          0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff,
          0xffffffff00000001000000000000000000000000fffffffffffffffffffffffc,
          0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
          0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
          0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5,
          0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551),
    Curve("P-384", bytes.fromhex("2b81040022"),
          int("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
              "ffffffff0000000000000000ffffffff", 16),
          int("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
              "ffffffff0000000000000000fffffffc", 16),
          int("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875a"
              "c656398d8a2ed19d2a85c8edd3ec2aef", 16),
          int("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38"
              "5502f25dbf55296c3a545e3872760ab7", 16),
          int("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c0"
              "0a60b1ce1d7e819d7a431d7c90ea0e5f", 16),
          int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
              "581a0db248b0a77aecec196accc52973", 16)),
)
MAX_CURVE_BYTES = 48  # the longest number of an accepted curve


class CertificateError(ValueError):
    """Not an X.509 certificate this module can read."""


class SignedDataError(ValueError):
    """Signed data this collector does not let openssl verify: what it
    carries is outside what is accepted (too many signers, a costly key)."""


class MalformedSignedData(SignedDataError):
    """Not the DER of CMS signed data with its content."""


def _items(data, start, end):
    """(tag, content start, content end, item start) of each DER item in
    data[start:end]."""
    offset = start
    while offset < end:
        if offset + 2 > end:
            raise CertificateError("truncated DER item")
        tag, length = data[offset], data[offset + 1]
        if tag & HIGH_TAG_NUMBER == HIGH_TAG_NUMBER:
            raise CertificateError("DER tag of more than one byte")
        head = offset + 2
        if length & 0x80:
            size = length & 0x7f
            if size == 0 or size > 4 or head + size > end:
                raise CertificateError("bad DER length")
            length = int.from_bytes(data[head:head + size], "big")
            head += size
        if head + length > end:
            raise CertificateError("DER item longer than its container")
        yield tag, head, head + length, offset
        offset = head + length


def _at_most(data, start, end, limit, what):
    """The items of data[start:end], CertificateError if there are more than
    limit (a list of them would take far more memory than the bytes)."""
    items = []
    for item in _items(data, start, end):
        if len(items) == limit:
            raise CertificateError("more than %d items in %s" % (limit, what))
        items.append(item)
    return items


def _first(data, start, end, count):
    """The first count items of data[start:end] (to tell whether there are
    more than count - 1 without keeping them all)."""
    items = []
    for item in _items(data, start, end):
        items.append(item)
        if len(items) == count:
            break
    return items


def _only(data, start, end, tag):
    items = _at_most(data, start, end, 1, "a single DER item")
    if len(items) != 1 or items[0][0] != tag:
        raise CertificateError("unexpected DER structure")
    return items[0]


class Certificate(object):
    """The parts of one DER certificate the trust rules need."""

    def __init__(self, der):
        self.der = der
        _, start, end, _ = _only(der, 0, len(der), SEQUENCE)
        tbs = next(_items(der, start, end), None)
        if tbs is None or tbs[0] != SEQUENCE:
            raise CertificateError("no TBSCertificate")
        fields = _at_most(der, tbs[1], tbs[2], TBS_FIELDS, "the TBSCertificate")
        if fields and fields[0][0] == VERSION:
            fields = fields[1:]
        # serial, signature algorithm, issuer, validity, subject, public key
        if len(fields) < 6 or fields[4][0] != SEQUENCE or fields[5][0] != SEQUENCE:
            raise CertificateError("TBSCertificate lacks a subject or a public key")
        self._subject = fields[4]
        public_key = fields[5]
        self.public_key = der[public_key[3]:public_key[2]]
        self.fingerprint = hashlib.sha256(self.public_key).digest()
        self.subject_der = der[self._subject[3]:self._subject[2]]
        self._extensions = [f for f in fields[6:] if f[0] == EXTENSIONS]

    def common_names(self):
        """The CN values of the subject, as text."""
        names = []
        for rdn_tag, rdn_start, rdn_end, _ in _items(self.der, self._subject[1],
                                                      self._subject[2]):
            if rdn_tag != SET:
                raise CertificateError("bad subject")
            for tag, start, end, _ in _items(self.der, rdn_start, rdn_end):
                parts = _at_most(self.der, start, end, 2, "a name attribute")
                if len(parts) != 2:
                    raise CertificateError("bad subject")
                oid, value = parts
                if self.der[oid[1]:oid[2]] == OID_COMMON_NAME and value[0] in STRING_TAGS:
                    names.append(self.der[value[1]:value[2]].decode(STRING_TAGS[value[0]],
                                                                    "replace"))
        return names

    def dns_names(self):
        """The DNS names of the subjectAltName extension."""
        names = []
        for _, start, end, _ in self._extensions:
            _, seq_start, seq_end, _ = _only(self.der, start, end, SEQUENCE)
            for tag, ext_start, ext_end, _ in _items(self.der, seq_start, seq_end):
                parts = _at_most(self.der, ext_start, ext_end, 3, "an extension")
                if not parts or self.der[parts[0][1]:parts[0][2]] != OID_SUBJECT_ALT_NAME:
                    continue
                value = parts[-1]
                if value[0] != OCTET_STRING:
                    raise CertificateError("bad subjectAltName")
                _, gn_start, gn_end, _ = _only(self.der, value[1], value[2], SEQUENCE)
                for gn_tag, name_start, name_end, _ in _items(self.der, gn_start, gn_end):
                    if gn_tag == DNS_NAME:
                        names.append(self.der[name_start:name_end].decode("ascii", "replace"))
        return names


def from_pem(pem):
    """The Certificate of the first PEM block of `pem` (bytes)."""
    match = PEM_RE.search(pem)
    if not match:
        raise CertificateError("no PEM certificate")
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except ValueError:
        raise CertificateError("PEM certificate is not base64")
    return Certificate(der)


def _dotted(oid):
    """An OID's content bytes as people read it (1.2.840...), for messages."""
    if len(oid) > 32:
        return "a long OID"
    numbers, value = [], 0
    for byte in bytearray(oid):
        value = (value << 7) | (byte & 0x7f)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    if not numbers:
        return "an empty OID"
    first = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in [first, numbers[0] - 40 * first] + numbers[1:])


def _bits(number):
    """The bit length of a DER INTEGER's content (without making it a
    number: a crafted one may be millions of bits)."""
    number = number.lstrip(b"\0")
    return (len(number) - 1) * 8 + number[0].bit_length() if number else 0


def _small_number(data, item, tag, what):
    """The value of a DER INTEGER or OCTET STRING no longer than the
    numbers of an accepted curve."""
    if item[0] != tag or item[2] - item[1] > MAX_CURVE_BYTES + 1:
        raise SignedDataError("an EC key with an unexpected %s" % what)
    return int.from_bytes(data[item[1]:item[2]], "big")


def _explicit_curve(data, start, end):
    """The accepted Curve that explicit EC parameters (RFC 3279
    ECParameters) spell out, number for number; SignedDataError if none."""
    fields = _at_most(data, start, end, 6, "EC parameters")
    if len(fields) < 5 or fields[1][0] != SEQUENCE or fields[2][0] != SEQUENCE:
        raise SignedDataError("an EC key with malformed explicit parameters")
    field = _at_most(data, fields[1][1], fields[1][2], 2, "an EC field")
    curve = _at_most(data, fields[2][1], fields[2][2], 3, "an EC curve")
    if len(field) != 2 or len(curve) < 2 or field[0][0] != OID or \
            data[field[0][1]:field[0][2]] != OID_PRIME_FIELD:
        raise SignedDataError("an EC key on a curve over another field than a prime field")
    cofactor = _small_number(data, fields[5], INTEGER, "cofactor") if len(fields) == 6 else 1
    base = data[fields[3][1]:fields[3][2]]
    numbers = (_small_number(data, field[1], INTEGER, "field prime"),
               _small_number(data, curve[0], OCTET_STRING, "coefficient"),
               _small_number(data, curve[1], OCTET_STRING, "coefficient"),
               _small_number(data, fields[4], INTEGER, "order"))
    for known in CURVES:
        size = (known.p.bit_length() + 7) // 8
        generator = (b"\x04" + known.gx.to_bytes(size, "big") + known.gy.to_bytes(size, "big"),
                     bytes([2 + (known.gy & 1)]) + known.gx.to_bytes(size, "big"))
        if numbers == (known.p, known.a, known.b, known.n) and cofactor == 1 and \
                fields[3][0] == OCTET_STRING and base in generator:
            return known
    raise SignedDataError("an EC key on another curve than P-256 and P-384 (%s are "
                          "accepted)" % ACCEPTED_KEYS)


def check_key(spki):
    """The name of the key (e.g. "EC P-256") in a DER SubjectPublicKeyInfo
    that openssl may verify a signature with: ACCEPTED_KEYS; SignedDataError
    naming what is refused otherwise."""
    _, start, end, _ = _only(spki, 0, len(spki), SEQUENCE)
    parts = _at_most(spki, start, end, 2, "a public key")
    if len(parts) != 2 or parts[0][0] != SEQUENCE or parts[1][0] != BIT_STRING:
        raise CertificateError("bad public key")
    algorithm = _at_most(spki, parts[0][1], parts[0][2], 2, "a key algorithm")
    if not algorithm or algorithm[0][0] != OID:
        raise CertificateError("bad public key algorithm")
    oid = spki[algorithm[0][1]:algorithm[0][2]]
    key = spki[parts[1][1]:parts[1][2]]
    if key[:1] != b"\0":
        raise CertificateError("public key bits not whole bytes")
    key = key[1:]
    if oid == OID_RSA:
        return _check_rsa(key)
    if oid == OID_EC and len(algorithm) == 2:
        tag, params_start, params_end, _ = algorithm[1]
        if tag == OID:
            named = spki[params_start:params_end]
            curve = next((c for c in CURVES if c.oid == named), None)
            if curve is None:
                raise SignedDataError("an EC key on curve %s (%s are accepted)"
                                      % (_dotted(named), ACCEPTED_KEYS))
        elif tag == SEQUENCE:
            curve = _explicit_curve(spki, params_start, params_end)
        else:
            raise SignedDataError("an EC key without a curve (%s are accepted)"
                                  % ACCEPTED_KEYS)
        size = (curve.p.bit_length() + 7) // 8
        if not ((key[:1] == b"\x04" and len(key) == 1 + 2 * size) or
                (key[:1] in (b"\x02", b"\x03") and len(key) == 1 + size)):
            raise SignedDataError("an EC key whose point is not one of %s" % curve.name)
        return "EC " + curve.name
    raise SignedDataError("a key of type %s (%s are accepted)" % (_dotted(oid), ACCEPTED_KEYS))


def _check_rsa(key):
    """(of check_key) An RSAPublicKey: RSA_BITS, RSA_EXPONENT."""
    _, start, end, _ = _only(key, 0, len(key), SEQUENCE)
    numbers = _at_most(key, start, end, 2, "an RSA key")
    if len(numbers) != 2 or numbers[0][0] != INTEGER or numbers[1][0] != INTEGER:
        raise CertificateError("bad RSA key")
    modulus = key[numbers[0][1]:numbers[0][2]]
    exponent = key[numbers[1][1]:numbers[1][2]]
    bits = _bits(modulus)
    if not RSA_BITS[0] <= bits <= RSA_BITS[1]:
        raise SignedDataError("an RSA key of %d bits (%s are accepted)" % (bits, ACCEPTED_KEYS))
    if _bits(exponent) > 32:
        raise SignedDataError("an RSA key whose public exponent has %d bits (%s are accepted)"
                              % (_bits(exponent), ACCEPTED_KEYS))
    if int.from_bytes(exponent, "big") != RSA_EXPONENT:
        raise SignedDataError("an RSA key with public exponent %d (%s are accepted)"
                              % (int.from_bytes(exponent, "big"), ACCEPTED_KEYS))
    return "RSA %d" % bits


def _signed_data_fields(der):
    """The items of the SignedData inside a DER ContentInfo."""
    _, start, end, _ = _only(der, 0, len(der), SEQUENCE)
    parts = _at_most(der, start, end, 2, "the ContentInfo")
    if len(parts) != 2 or parts[0][0] != OID or der[parts[0][1]:parts[0][2]] != OID_SIGNED_DATA \
            or parts[1][0] != CONTEXT_0:
        raise CertificateError("not CMS signed data")
    _, start, end, _ = _only(der, parts[1][1], parts[1][2], SEQUENCE)
    # version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos
    fields = _at_most(der, start, end, 6, "the SignedData")
    if len(fields) < 4 or [f[0] for f in fields[:3]] != [INTEGER, SET, SEQUENCE] or \
            fields[-1][0] != SET:
        raise CertificateError("the SignedData lacks a part")
    return fields


def _content_digest(der, encapsulated):
    """SHA-256 of the content of the EncapsulatedContentInfo item."""
    parts = _at_most(der, encapsulated[1], encapsulated[2], 2, "the content")
    if not parts or parts[0][0] != OID or der[parts[0][1]:parts[0][2]] != OID_DATA:
        raise CertificateError("the signed content is not data")
    if len(parts) != 2 or parts[1][0] != CONTEXT_0:
        raise CertificateError("the signed data carries no content (detached)")
    _, start, end, _ = _only(der, parts[1][1], parts[1][2], OCTET_STRING)
    return hashlib.sha256(memoryview(der)[start:end]).digest()


def _check_digests(der, digests):
    algorithms = _at_most(der, digests[1], digests[2], 1, "the digest algorithms")
    if not algorithms:
        raise CertificateError("the signed data names no digest algorithm")
    algorithm = _at_most(der, algorithms[0][1], algorithms[0][2], 2, "a digest algorithm")
    if not algorithm or algorithm[0][0] != OID:
        raise CertificateError("bad digest algorithm")
    oid = der[algorithm[0][1]:algorithm[0][2]]
    if oid not in DIGESTS:
        raise SignedDataError("digest algorithm %s (%s are accepted)"
                              % (_dotted(oid), ", ".join(sorted(DIGESTS.values()))))


def check_signed_data(der):
    """The SHA-256 of the content of DER CMS signed data (what report.Report's
    digest will be) that openssl may verify: one signer, one digest of
    DIGESTS, at most MAX_CERTIFICATES certificates, each with a key of
    ACCEPTED_KEYS (openssl picks the signer's among them by a comparison
    of names this module does not copy: every one is checked), no CRLs.
    MalformedSignedData for what is not signed data, SignedDataError for
    what is refused. Costs time linear in len(der), no openssl."""
    try:
        fields = _signed_data_fields(der)
        _check_digests(der, fields[1])
        digest = _content_digest(der, fields[2])
        optional = fields[3:-1]
        if any(f[0] == CONTEXT_1 for f in optional):
            raise SignedDataError("the signed data carries certificate revocation lists")
        if [f[0] for f in optional] != [CONTEXT_0]:
            raise CertificateError("the signed data carries no certificate")
        certificates = _first(der, optional[0][1], optional[0][2], MAX_CERTIFICATES + 1)
        signers = _first(der, fields[-1][1], fields[-1][2], 2)
    except CertificateError as exc:
        raise MalformedSignedData("malformed signed data: %s" % exc)
    if len(signers) > 1:
        raise SignedDataError("signed by more than one signer (one is accepted)")
    if not signers:
        raise MalformedSignedData("malformed signed data: no signer")
    if len(certificates) > MAX_CERTIFICATES:
        raise SignedDataError("more than %d certificates in the signed data" % MAX_CERTIFICATES)
    for tag, start, end, begin in certificates:
        if tag != SEQUENCE:
            raise SignedDataError("the signed data carries something other than an X.509 "
                                  "certificate")
        try:
            certificate = Certificate(der[begin:end])
            check_key(certificate.public_key)
        except CertificateError as exc:
            raise MalformedSignedData("malformed signed data: bad certificate: %s" % exc)
        except SignedDataError as exc:
            raise SignedDataError("signer certificate with %s" % exc)
    return digest

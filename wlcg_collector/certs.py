"""What the collector reads from a signer's X.509 certificate, in Python
(no openssl process a report): the SHA-256 of its public key, the subject,
its common names and DNS names.

Only the few DER structures of RFC 5280 that lead there are walked; a
certificate that does not have that shape is a CertificateError."""

import base64
import hashlib
import re

PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\s+([A-Za-z0-9+/=\s]+?)"
                    rb"-----END CERTIFICATE-----")
OID_COMMON_NAME = bytes.fromhex("550403")         # 2.5.4.3
OID_SUBJECT_ALT_NAME = bytes.fromhex("551d11")    # 2.5.29.17
SEQUENCE, SET, OID, OCTET_STRING = 0x30, 0x31, 0x06, 0x04
STRING_TAGS = {0x0c: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1e: "utf-16-be"}
DNS_NAME = 0x82  # [2] IMPLICIT IA5String in GeneralName
EXTENSIONS = 0xa3  # [3] EXPLICIT in TBSCertificate
VERSION = 0xa0  # [0] EXPLICIT


class CertificateError(ValueError):
    """Not an X.509 certificate this module can read."""


def _items(data, start, end):
    """(tag, content start, content end, item start) of each DER item in
    data[start:end]."""
    offset = start
    while offset < end:
        if offset + 2 > end:
            raise CertificateError("truncated DER item")
        tag, length = data[offset], data[offset + 1]
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


def _only(data, start, end, tag):
    items = list(_items(data, start, end))
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
        fields = list(_items(der, tbs[1], tbs[2]))
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
                oid, value = list(_items(self.der, start, end))[:2]
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
                parts = list(_items(self.der, ext_start, ext_end))
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

"""From a received body to a stored report: decrypt, parse, store.

Shared by the WSGI application and `wlcg-collector ingest`; each failure
is a Rejected with the HTTP status and the one-line reason to give.
"""

import time

from . import crypto
from .report import ReportError, parse_report


class Rejected(Exception):
    """The body is refused: status is the HTTP status, the message the reason."""

    def __init__(self, status, reason):
        Exception.__init__(self, reason)
        self.status = status
        self.reason = reason


def is_plaintext(body):
    return body.startswith(b"#\n")


def plaintext_of(body, pairs, allow_plaintext):
    """The report text of a body: decrypted, or as it is when plaintext is allowed."""
    if is_plaintext(body):
        if not allow_plaintext:
            raise Rejected(403, "plaintext reports are not accepted here: encrypt the report "
                                "to the collector certificate")
        return body
    try:
        return crypto.decrypt(body, pairs)
    except crypto.NotDecryptable as exc:
        raise Rejected(400, str(exc))


def ingest(store, body, pairs, sender, allow_plaintext=False, received=None, clock_skew=300):
    """Store one body; returns the storage IngestResult. Raises Rejected
    for a bad body; storage and crypto errors propagate."""
    plaintext = plaintext_of(body, pairs, allow_plaintext)
    try:
        report = parse_report(plaintext)
    except ReportError as exc:
        raise Rejected(400, "bad report: %s" % exc)
    if received is None:
        received = int(time.time())
    return store.store_report(report, received, sender, clock_skew)

"""From a received body to a stored report: decrypt, verify, parse, store.

Shared by the WSGI application and `wlcg-collector ingest`; each failure
is a Rejected with the HTTP status and the one-line reason to give.

What a body may cost is bounded before openssl verifies it: its signed
data is read in Python first (certs.check_signed_data: one signer, keys
that verify cheaply), and a report stored already is known by its
content's digest without verifying it again.
"""

import time

from . import certs, crypto, trust
from .closest import did_you_mean
from .db.records import IngestResult
from .limits import MAX_PACKAGES
from .report import ReportError, TooManyPackages, parse_report
from .statuses import (BAD_REQUEST, BAD_SIGNATURE, DUPLICATE, FUTURE_TS, MALFORMED,
                       NOT_DECRYPTABLE, PLAINTEXT_REFUSED, TOO_LARGE, UNSIGNED_REFUSED)


class AlreadyStored(Exception):
    """A signed body whose content is stored already (a resend): not
    verified again."""


class Rejected(Exception):
    """The body is refused: status is the HTTP status, the message the
    reason; kind is the word /metrics counts it under (one of
    statuses.REJECTION_REASONS: never the reason, which may quote what the
    sender wrote)."""

    def __init__(self, status, reason, headers=(), kind=BAD_REQUEST):
        Exception.__init__(self, reason)
        self.status = status
        self.reason = reason
        self.headers = list(headers)
        self.kind = kind


def is_plaintext(body):
    return body.startswith(b"#\n")


def plaintext_of(body, pairs, allow_plaintext):
    """The report text of a body: decrypted, or as it is when plaintext is allowed."""
    if is_plaintext(body):
        if not allow_plaintext:
            raise Rejected(403, "plaintext reports are not accepted here: encrypt the report "
                                "to the collector certificate", kind=PLAINTEXT_REFUSED)
        return body
    try:
        return crypto.decrypt(body, pairs)
    except (crypto.NotDecryptable, crypto.TooCostly) as exc:
        raise Rejected(400, str(exc), kind=NOT_DECRYPTABLE)


def parse(plaintext, max_packages=MAX_PACKAGES):
    """The report of a plaintext, its package lines parsed only when the
    store needs them (store() turns their ReportError into a 400)."""
    try:
        return parse_report(plaintext, max_packages, lazy=True)
    except TooManyPackages as exc:
        raise Rejected(413, "%s: this collector takes %d at most" % (exc, max_packages),
                       kind=TOO_LARGE)
    except ReportError as exc:
        raise Rejected(400, "bad report: %s" % exc, kind=MALFORMED)


def check_signed(signed):
    """The SHA-256 of the content of signed data that openssl may verify;
    Rejected (400) for any other."""
    try:
        return certs.check_signed_data(signed)
    except certs.MalformedSignedData as exc:
        raise Rejected(400, "the report's signature does not verify (%s)" % exc,
                       kind=BAD_SIGNATURE)
    except certs.SignedDataError as exc:
        raise Rejected(400, "signed report refused before verifying it: %s" % exc,
                       kind=BAD_SIGNATURE)


def open_signed(signed, received, clock_skew, capath, max_packages=MAX_PACKAGES, stored=None):
    """(report, trust.Signer) of CMS signed data whose signature verifies.
    stored(digest): whether a report of that digest is stored already
    (AlreadyStored then, before openssl runs)."""
    digest = check_signed(signed)
    if stored is not None and stored(digest):
        raise AlreadyStored()
    try:
        content, signer_cert = crypto.verify(signed)
    except (crypto.BadSignature, crypto.TooCostly) as exc:
        raise Rejected(400, str(exc), kind=BAD_SIGNATURE)
    del signed  # (one copy of the report in memory at a time)
    report = parse(content, max_packages)
    if report.ts is None:
        raise Rejected(400, "bad report: a signed report must carry ts", kind=MALFORMED)
    if report.ts > received + clock_skew:
        raise Rejected(400, "bad report: ts is %d s in the future (the host's clock is wrong)"
                       % (report.ts - received), kind=FUTURE_TS)
    try:
        return report, trust.identify(signer_cert, report.site, report.host, capath)
    except certs.CertificateError as exc:
        raise Rejected(400, "bad signer certificate: %s" % exc, kind=BAD_SIGNATURE)
    except crypto.TooCostly as exc:
        raise Rejected(400, "signer certificate refused: %s" % exc, kind=BAD_SIGNATURE)


def open_body(body, pairs, received, allow_plaintext=False, clock_skew=300, rules=None,
              max_packages=MAX_PACKAGES, stored=None):
    """(report, trust.Signer or None) of a body, or Rejected.

    A body decrypts to a signed report (this project's reporter) or to a
    plain protocol-5 report (pakiti-client): a signed one is checked (see
    check_signed) and verified, must carry ts and may not be dated more
    than clock_skew seconds ahead; an unsigned one follows rules.unsigned.
    What a signer may write is trust.py's to say, inside the store's
    transaction. stored: see open_signed."""
    rules = rules or trust.Rules()
    plaintext = plaintext_of(body, pairs, allow_plaintext)
    if crypto.is_signed(plaintext):
        return open_signed(plaintext, received, clock_skew, rules.capath, max_packages, stored)
    if rules.unsigned == "reject":
        raise Rejected(403, "unsigned reports are not accepted here: update the reporter "
                            "(it signs its reports)", kind=UNSIGNED_REFUSED)
    return parse(plaintext, max_packages), None


def ingest(store, body, pairs, sender, allow_plaintext=False, received=None, clock_skew=300,
           rules=None, limits=None, max_packages=MAX_PACKAGES, tally=None):
    """Store one body; returns the storage IngestResult. Raises Rejected
    for a bad body (see open_body); storage and crypto errors propagate.
    tally: counts the report in the transaction that stores it (see
    db.ReportWriter.store_report)."""
    rules = rules or trust.Rules()
    if received is None:
        received = int(time.time())
    try:
        report, signer = open_body(body, pairs, received, allow_plaintext, clock_skew, rules,
                                   max_packages,
                                   stored=lambda digest: store.writer.resends.count(digest, tally))
    except AlreadyStored:
        # the same report again (a retry): what store_report would answer,
        # without openssl verifying it a second time; counted, nothing else
        return IngestResult(DUPLICATE)
    kwargs = {"tally": tally}
    if limits is not None:
        kwargs["limits"] = limits
    try:
        return store.writer.store_report(report, received, sender, clock_skew, signer=signer,
                                         rules=rules, **kwargs)
    except ReportError as exc:  # a package line, read only now (nothing was stored)
        raise Rejected(400, "bad report: %s" % exc, kind=MALFORMED)


# -- what the reporter is told (storage says what happened; these word it)

def site_notice(site):
    """The line for the reporter's admin about its site name (a
    SiteResolution: renamed, or not on the list), or None."""
    if site is None:
        return None
    if site.renamed:
        return ("site %s is now %s at the collector (renamed by the officer): change --site "
                "to %s" % (site.sent, site.site, site.site))
    if site.unknown:
        return "site %s is not on the collector's list of sites%s: check --site" % (
            site.site, " (%s)" % did_you_mean(site.suggestions) if site.suggestions else "")
    return None


def quarantine_answer(result):
    """The answer to a quarantined report (its IngestResult): why it is
    held and who decides."""
    held = result.held
    if held.kind == trust.UNKNOWN_SITE:
        return "quarantined: %s; the officer must review it" % site_notice(result.site)
    if held.kind == trust.UNSIGNED_REPORT:
        return ("quarantined: %s; the officer must accept it (the collector keeps it aside)"
                % held.reason)
    return ("quarantined: %s (SHA256 %s): the officer must accept the new key "
            "(wlcg-collector quarantine accept)"
            % (held.reason, trust.short_fingerprint(held.fingerprint)))

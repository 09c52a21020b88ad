"""Who may write a host's rows: the trust rules, in one place.

A report is signed by the host's own key (made by the reporter on its first
run), by its site's key (for hosts reinstalled often), or by a grid host
certificate; or it is unsigned (pakiti-client). The first signed report of a
new host pins its key, as SSH pins a host key; a site key is pinned per site
on first use at a site with no hosts yet. A report signed by another key
than the pinned one, or unsigned for a host whose key is pinned, is
quarantined: kept aside, not applied, until the officer accepts or drops it.
So is the first signed report of a host that was unsigned, and the first
site key of a site that has hosts (anyone can sign, and anyone can name a
key for a site), unless it proves more (see _first_signature). A signed
report whose ts is not newer than the host's latest applied signed one is a
replay: recorded, never applied.

identify() says what signed a report; decide() what to do with it, given
the host's pin. Both are pure but for identify's certificate checks; the
storage writer applies the decision inside the transaction that holds the
host's row.
"""

import hashlib
from collections import namedtuple

from . import certs, crypto
from .dates import DAY
from .site_names import site_key

UNSIGNED, PINNED, SITE, VERIFIED = "unsigned", "pinned", "site", "verified"
TRUST_LEVELS = (UNSIGNED, PINNED, SITE, VERIFIED)
# what signed a report
HOST_KEY, SITE_KEY, HOST_CERTIFICATE = "host", "site", "verified"
# a site key's certificate names its site so (the reporter's --make-site-key)
SITE_CN_PREFIX = "wlcg-site:"
UNSIGNED_POLICIES = ("accept", "quarantine", "reject")
UNKNOWN_SITE_POLICIES = ("accept", "quarantine")
# what decide() says
APPLY, QUARANTINE, REPLAY = "apply", "quarantine", "replay"
# kinds of quarantined reports
KEY_CHANGE, SITE_KEY_CHANGE, UNSIGNED_REPORT = "key change", "site key change", "unsigned"
UNKNOWN_SITE = "unknown site"
# a grid host certificate's subject is stored with the pin (a TEXT column);
# real ones are far shorter
MAX_SUBJECT = 4096
MAX_CERTIFICATE = 64 * 1024

# kind: HOST_KEY, SITE_KEY or HOST_CERTIFICATE; fingerprint: sha256 of the
# public key (of the subject, for a host certificate); subject: the
# certificate's subject, for a host certificate
Signer = namedtuple("Signer", "kind fingerprint subject")
# what the store knows of a host: its pin, its latest applied signed ts and
# when it was last heard of
HostPin = namedtuple("HostPin", "trust fingerprint signed_ts last_received")
# what a host is pinned to: its trust level, the key's fingerprint (None
# for unsigned) and a certificate's subject (for VERIFIED)
Pin = namedtuple("Pin", "trust fingerprint subject")
# action: APPLY, QUARANTINE or REPLAY; kind and reason: why it is
# quarantined (reason: why it is a replay, too); pin: the host's new Pin,
# or None to keep it; pin_site: the site key to pin first; note: a line
# for the log. Only the action is always given.
Decision = namedtuple("Decision", "action kind reason pin pin_site note",
                      defaults=(None, None, None, None, None))


class Rules(object):
    """The [collector] settings the rules follow."""

    def __init__(self, unsigned="accept", rekey_after_silence=None, capath=None,
                 unknown_sites="accept"):
        if unsigned not in UNSIGNED_POLICIES:
            raise ValueError("unsigned = %r: accept, quarantine or reject" % unsigned)
        if unknown_sites not in UNKNOWN_SITE_POLICIES:
            raise ValueError("unknown_sites = %r: accept or quarantine" % unknown_sites)
        self.unsigned = unsigned
        self.unknown_sites = unknown_sites
        self.rekey_after_silence = rekey_after_silence  # seconds, or None: never
        self.capath = capath


def short_fingerprint(fingerprint):
    """A key's SHA-256 as people compare them: hex, the first 16 digits
    (None for none)."""
    return bytes(fingerprint).hex()[:16] if fingerprint is not None else None


# what kind of key a host's trust says it is pinned to
KIND_OF_TRUST = {PINNED: HOST_KEY, SITE: SITE_KEY, VERIFIED: HOST_CERTIFICATE}


def describe_pin(level, fingerprint, *_):
    """A host's pin as the officer reads it: `unsigned`, or `pinned to key
    SHA256 0123456789abcdef` (site, verified)."""
    if level == UNSIGNED:
        return "unsigned"
    return "%s to key SHA256 %s" % (level, short_fingerprint(fingerprint))


def trust_of(signer):
    return {HOST_KEY: PINNED, SITE_KEY: SITE, HOST_CERTIFICATE: VERIFIED}[signer.kind]


def identify(cert_pem, site, host, capath=None):
    """The Signer of a report of (site, host) whose signature verified with
    the certificate cert_pem. certs.CertificateError for a certificate that
    cannot be read."""
    if len(cert_pem) > MAX_CERTIFICATE:
        raise certs.CertificateError("the signer certificate takes more than %d bytes"
                                     % MAX_CERTIFICATE)
    cert = certs.from_pem(cert_pem)
    names = cert.common_names()
    if SITE_CN_PREFIX + site in names:
        return Signer(SITE_KEY, cert.fingerprint, None)
    if capath and host.lower() in {n.lower().rstrip(".") for n in names + cert.dns_names()} \
            and crypto.verify_chain(cert_pem, capath):
        # pinned by subject: a renewed certificate is no key change
        subject = crypto.subject_of(cert_pem)
        if len(subject) > MAX_SUBJECT:
            raise certs.CertificateError("the certificate's subject is longer than %d "
                                         "characters" % MAX_SUBJECT)
        return Signer(HOST_CERTIFICATE, hashlib.sha256(cert.subject_der).digest(), subject)
    return Signer(HOST_KEY, cert.fingerprint, None)


def pin_of(signer):
    """The Pin a report's signer gives its host (unsigned: None signer)."""
    if signer is None:
        return Pin(UNSIGNED, None, None)
    return Pin(trust_of(signer), signer.fingerprint, signer.subject)


def accepted(signer):
    """The officer's decision for a report taken from the quarantine: it is
    applied and its host pinned to what signed it. An accepted unsigned
    report leaves the host unsigned, not pinned to a key that may be a
    stranger's; an accepted site key is pinned for its site too."""
    return Decision(APPLY, pin=pin_of(signer),
                    pin_site=signer.fingerprint if signer is not None
                    and signer.kind == SITE_KEY else None)


def _quarantine(kind, reason):
    return Decision(QUARANTINE, kind=kind, reason=reason)


def decide(host, site_pin, signer, ts, received, rules, unknown_site=False,
           site_has_hosts=False):
    """What to do with a report: host is the HostPin (None: a new host),
    site_pin the fingerprint of the site's pinned key (or None), signer the
    Signer (None: unsigned), ts the report's signed time; unknown_site:
    the report's site is not on the officer's list; site_has_hosts: the
    site has hosts (when a site key signed and none is pinned). A report
    the key rules would apply waits for review when its site is unknown
    and the rules say unknown_sites = quarantine."""
    decision = _decide_key(host, site_pin, signer, ts, received, rules, site_has_hosts)
    if unknown_site and decision.action == APPLY and rules.unknown_sites == "quarantine":
        return _quarantine(UNKNOWN_SITE, "a site not on the list of sites (unknown_sites = "
                                         "quarantine)")
    return decision


def _decide_key(host, site_pin, signer, ts, received, rules, site_has_hosts=False):
    if signer is None:
        if host is not None and host.trust != UNSIGNED:
            return _quarantine(UNSIGNED_REPORT, "an unsigned report for a host whose key is "
                                                "pinned")
        if rules.unsigned == "quarantine":
            return _quarantine(UNSIGNED_REPORT, "an unsigned report (unsigned = quarantine)")
        return Decision(APPLY)
    pin_site = None
    if signer.kind == SITE_KEY:
        if site_pin is not None and site_pin != signer.fingerprint:
            return _quarantine(SITE_KEY_CHANGE, "signed by another site key than the one "
                                                "pinned for the site")
        if site_pin is None and site_has_hosts:
            # anyone can make a key named wlcg-site:SITE: pinned on first use
            # only at a site with no hosts yet, else one invented host would
            # pin it and vouch for the site's unsigned hosts
            return _quarantine(SITE_KEY_CHANGE, "the first site key of a site that has hosts "
                                                "(anyone can make one: the officer decides)")
        if site_pin is None:
            pin_site = signer.fingerprint
    new_pin = pin_of(signer)
    if host is None:
        return Decision(APPLY, pin=new_pin, pin_site=pin_site)
    if host.trust == UNSIGNED:
        return _first_signature(host, site_pin, signer, received, rules, new_pin)
    if _holds_pin(host, signer, site_pin):
        if ts <= host.signed_ts:
            return Decision(REPLAY, reason="not newer than the host's latest signed report")
        return Decision(APPLY, pin_site=pin_site)
    if signer.kind == HOST_CERTIFICATE and host.trust != VERIFIED:
        # a grid certificate that names the host outranks a key pinned on first use
        return Decision(APPLY, pin=new_pin, pin_site=pin_site, note=(
            "pinned to its grid host certificate instead of its %s key" % host.trust))
    silence = received - host.last_received
    if rules.rekey_after_silence is not None and silence >= rules.rekey_after_silence:
        return Decision(APPLY, pin=new_pin, pin_site=pin_site, note=(
            "new key accepted after %d days of silence (rekey_after_silence)"
            % (silence // DAY)))
    return _quarantine(KEY_CHANGE, "signed by another key than the one pinned for this host")


def _first_signature(host, site_pin, signer, received, rules, new_pin):
    """The first signed report of a host whose reports were unsigned. Anyone
    with the collector certificate can sign one with a key of their own, so
    it is a key change like any other: applied (and pinned) only when it
    proves more than an unsigned report did (the site's pinned site key, a
    grid host certificate that verifies) or after rekey_after_silence;
    otherwise it waits for the officer (a site moving from pakiti-client
    is one `quarantine accept --site S --key-changes`)."""
    if signer.kind == SITE_KEY and site_pin is not None and signer.fingerprint == site_pin:
        return Decision(APPLY, pin=new_pin,
                        note="pinned to its site's key (its earlier reports were unsigned)")
    if signer.kind == HOST_CERTIFICATE:
        return Decision(APPLY, pin=new_pin, note=(
            "pinned to its grid host certificate (its earlier reports were unsigned)"))
    silence = received - host.last_received
    if rules.rekey_after_silence is not None and silence >= rules.rekey_after_silence:
        first_site_key = signer.kind == SITE_KEY and site_pin is None
        return Decision(APPLY, pin=new_pin,
                        pin_site=signer.fingerprint if first_site_key else None, note=(
                            "key pinned after %d days of silence (rekey_after_silence); its "
                            "earlier reports were unsigned" % (silence // DAY)))
    return _quarantine(KEY_CHANGE, "the first signed report of a host whose reports were "
                                   "unsigned (anyone can sign: the officer decides)")


def _holds_pin(host, signer, site_pin):
    if host.trust == SITE:
        # a site-pinned host follows its site's pin (an accepted new site key too)
        return signer.kind == SITE_KEY and signer.fingerprint == site_pin
    if host.trust == PINNED:
        return signer.kind == HOST_KEY and signer.fingerprint == host.fingerprint
    return signer.kind == HOST_CERTIFICATE and signer.fingerprint == host.fingerprint


def conflicting_hosts(entries):
    """The (site, host) of quarantined entries (anything with site, host,
    signer_kind and fingerprint) that hold reports of two or more different
    signers (unsigned counts as one): which of them is the host's is the
    officer's call, host by host, never a bulk accept's."""
    signers = {}
    for entry in entries:
        key = (site_key(entry.site), entry.host)
        fingerprint = bytes(entry.fingerprint) if entry.fingerprint is not None else None
        signers.setdefault(key, set()).add((entry.signer_kind, fingerprint))
    return {key for key, found in signers.items() if len(found) > 1}


def match_fingerprint(text, signers):
    """The Signer of `signers` whose key `text` names: its SHA-256 in hex
    (colons allowed), whole or its first 16 digits or more as `keys` and
    `quarantine` print it; a whole one no signer has is a host key. None
    when nothing matches; ValueError for text that is no fingerprint or
    names several keys."""
    digits = text.replace(":", "").lower()
    if not 16 <= len(digits) <= 64 or any(c not in "0123456789abcdef" for c in digits):
        raise ValueError("%r is not a key fingerprint (the SHA-256 in hex, at least its first "
                         "16 digits, as keys and quarantine print it)" % text)
    found = [s for s in signers if bytes(s.fingerprint).hex().startswith(digits)]
    if len(found) > 1:
        raise ValueError("%s names %d keys: give more digits" % (text, len(found)))
    if found:
        return found[0]
    if len(digits) == 64:
        return Signer(HOST_KEY, bytes.fromhex(digits), None)
    return None

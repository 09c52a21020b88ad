"""Who may read the officer's pages: the identity Apache established (the
client certificate DN, or REMOTE_USER from the site's SSO), checked against
the allow list; or, on the development server, a random token."""

import hmac
import re

TOKEN_COOKIE = "wlcg_officer"


def _split_rfc2253(dn):
    parts, current, escaped = [], [], False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char in ",;":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def normalise_dn(dn):
    """A DN as a tuple of (TYPE, value), most significant first, whether it
    is written `CN=a,OU=b,DC=c` (RFC 2253) or `/DC=c/OU=b/CN=a` (OpenSSL)."""
    dn = dn.strip()
    if not dn:
        return ()
    if dn.startswith("/"):
        parts = [p for p in dn.split("/") if p]
    else:
        parts = list(reversed([p for p in _split_rfc2253(dn) if p.strip()]))
    result = []
    for part in parts:
        kind, sep, value = part.partition("=")
        if not sep:
            return ()
        value = re.sub(r"\\(.)", r"\1", value.strip())
        kind = kind.strip().upper()
        result.append(({"EMAILADDRESS": "E", "EMAIL": "E"}.get(kind, kind), value))
    return tuple(result)


def is_dn(text):
    return "=" in text


class Access(object):
    def __init__(self, allow, token=None):
        self.users = {entry for entry in allow if not is_dn(entry)}
        self.dns = {normalise_dn(entry) for entry in allow if is_dn(entry)}
        self.dns.discard(())
        self.token = token

    def identity(self, environ):
        """The allowed identity of the request, or None."""
        dn = environ.get("SSL_CLIENT_S_DN")
        if dn and environ.get("SSL_CLIENT_VERIFY", "SUCCESS") == "SUCCESS":
            if normalise_dn(dn) in self.dns:
                return dn
        user = environ.get("REMOTE_USER")
        if user and (user in self.users or normalise_dn(user) in self.dns):
            return user
        if self.token and hmac.compare_digest(self.presented_token(environ), self.token):
            return "token"
        return None

    def presented_token(self, environ):
        for cookie in environ.get("HTTP_COOKIE", "").split(";"):
            name, _, value = cookie.strip().partition("=")
            if name == TOKEN_COOKIE:
                return value
        return ""

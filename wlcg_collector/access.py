"""Who may read the officer's pages: the identity Apache established (the
client certificate DN, or REMOTE_USER from the site's SSO), checked against
the allow list; or, on the development server, a random token. (Who reads
some sites only, by the same identities, is readers.py's.)"""

import hmac
import re

TOKEN_COOKIE = "wlcg_officer"


# attribute types a grid DN holds; a legacy "/"-form part of another type
# is most likely a value's own unescaped "/": refused, never guessed
KNOWN_TYPES = {"C", "ST", "L", "O", "OU", "CN", "DC", "UID", "E", "SERIALNUMBER", "STREET",
               "SN", "GN", "TITLE", "INITIALS", "NAME", "DNQUALIFIER", "PSEUDONYM",
               "GENERATIONQUALIFIER", "POSTALCODE", "BUSINESSCATEGORY"}
ALIASES = {"EMAILADDRESS": "E", "EMAIL": "E", "USERID": "UID"}
HEX = "0123456789abcdefABCDEF"


def _split(text, separators):
    """Parts of text split at unescaped separators (escapes kept)."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise ValueError("a DN ends in a lone backslash")
    parts.append("".join(current))
    return parts


def _unescape(value, hex_prefix):
    """A value with its escapes undone: \\c for c, and \\HH (RFC 4514) or
    \\xHH (OpenSSL's legacy form) for a byte of UTF-8."""
    out, index = bytearray(), 0
    while index < len(value):
        char = value[index]
        if char != "\\":
            out += char.encode("utf-8")
            index += 1
            continue
        digits = value[index + 1 + len(hex_prefix):index + 3 + len(hex_prefix)]
        if value[index + 1:index + 1 + len(hex_prefix)] == hex_prefix and len(digits) == 2 \
                and all(c in HEX for c in digits):
            out.append(int(digits, 16))
            index += 3 + len(hex_prefix)
        else:
            out += value[index + 1].encode("utf-8")
            index += 2
    return out.decode("utf-8")  # a UnicodeDecodeError is a ValueError


def normalise_dn(dn):
    """A DN as a tuple of (TYPE, value), most significant first, whether it
    is written `CN=a,OU=b,DC=c` (RFC 2253/4514, as mod_ssl gives it) or
    `/DC=c/OU=b/CN=a` (OpenSSL's legacy form); () for one that cannot be
    read for sure (a multi-valued RDN, a hex-encoded value, an unknown type
    in the legacy form, a bad escape): refused, never read as another name."""
    dn = dn.strip()
    try:
        if not dn:
            return ()
        if dn.startswith("/"):
            parts, hex_prefix = [p for p in _split(dn, "/") if p], "x"
        else:
            parts, hex_prefix = list(reversed(_split(dn, ",;"))), ""
        result = []
        for part in parts:
            if len(_split(part, "+")) > 1:
                return ()  # multi-valued RDNs: not in grid DNs
            kind, sep, value = part.partition("=")
            kind = kind.strip().upper()
            kind = ALIASES.get(kind, kind)
            if not sep or not kind or value.strip().startswith("#"):
                return ()
            if kind not in KNOWN_TYPES and (hex_prefix or not re.match(r"^[0-9.]+$", kind)):
                return ()
            result.append((kind, _unescape(value.strip(), hex_prefix)))
        return tuple(result)
    except (ValueError, IndexError):
        return ()


def is_dn(text):
    return "=" in text


def server_text(value):
    """A variable the server set, as the text it was given: under PEP 3333
    a native string holds the bytes as Latin-1, so that mod_ssl's UTF-8
    "\u00e9" in a DN (or an SSO's in REMOTE_USER) arrives as "\u00c3\u00a9"; those
    bytes are read again as UTF-8. A value that is not such bytes (from a
    server that decoded them itself) is kept as it is."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def verified_dn(environ):
    """The client certificate's DN as the server gave it, "" when there is
    none or mod_ssl does not say it verified."""
    dn = server_text(environ.get("SSL_CLIENT_S_DN") or "")
    return dn if dn and environ.get("SSL_CLIENT_VERIFY") == "SUCCESS" else ""


def remote_user(environ):
    """The user name the server established (an SSO's), or ""."""
    return server_text(environ.get("REMOTE_USER") or "")


class Access(object):
    def __init__(self, allow, token=None):
        self.users = {entry for entry in allow if not is_dn(entry)}
        self.dns = {normalise_dn(entry) for entry in allow if is_dn(entry)}
        self.dns.discard(())
        self.token = token

    def identity(self, environ):
        """The allowed identity of the request, or None."""
        # a certificate counts only when mod_ssl says it verified
        dn = verified_dn(environ)
        if dn:
            name = normalise_dn(dn)
            if name and name in self.dns:
                return dn
        # user names and DNs are kept apart: a user name is never read as a DN
        user = remote_user(environ)
        if user and user in self.users:
            return user
        if self.token_matches(self.presented_token(environ)):
            return "token"
        return None

    def token_matches(self, presented):
        """Whether `presented` is the development server's token, compared
        in constant time (text that is not ASCII is simply wrong)."""
        return bool(self.token) and presented.isascii() and \
            hmac.compare_digest(presented, self.token)

    def presented_token(self, environ):
        """The token cookie's value; "" for none, or for one that is not
        ASCII (the token is, and compare_digest refuses other text)."""
        for cookie in environ.get("HTTP_COOKIE", "").split(";"):
            name, _, value = cookie.strip().partition("=")
            if name == TOKEN_COOKIE:
                return value if value.isascii() else ""
        return ""

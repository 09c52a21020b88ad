"""Mail for the officer's notices: each message built with `email`,
written as an RFC 5322 file, and sent through the [mail] relay with
`smtplib`.

A notice tells a site which of its hosts are still exposed: it is sent
only over a verified STARTTLS unless the operator says the relay is
trusted without it (starttls = no), and written to files only the
officer can read. What the relay refused is said recipient by recipient;
only the recipients it took count as sent.
"""

import hashlib
import os
import re
import smtplib
import ssl
import tempfile
from collections import namedtuple
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid, parseaddr

from .text import escaped

DEFAULT_PORT = 25
# seconds for the relay to answer each step
TIMEOUT = 30
# a conservative address, the one rule for every address a notice goes
# to or comes from: a dot-atom of letters, digits and _ + - ' before the
# @ (no = or ?: an RFC 2047 encoded word would be decoded into other
# addresses, or a line break, when the header is made; no % ! or /: the old
# relay routings), host names of letters, digits and hyphens after it, the
# last a name (no address literal, no bare number)
_LOCAL = r"[A-Za-z0-9_+'-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(r"%s(?:\.%s)*@(?:%s\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z"
                     % (_LOCAL, _LOCAL, _LABEL))
MAX_ADDRESS = 254  # RFC 5321's longest path
MAX_LOCAL_PART = 64
# a file name made of a site name: these characters, the rest as _
FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")

# sent(): the message id, the recipients the relay took, and those it
# refused ({address: "code reason"})
Sent = namedtuple("Sent", "message_id accepted refused")


class MailError(Exception):
    """A message could not be built or sent; one line naming why."""


class RelayLost(MailError):
    """The relay went away (or stalled) in a message: nothing more can be
    sent through this connection."""


class MailSettings(object):
    """The [mail] section: the relay (smtp_host, smtp_port), whether the
    connection must turn to TLS first (starttls), the address notices come
    from (sender), the CA file the relay's certificate is verified with
    (None: the system's)."""

    def __init__(self, smtp_host=None, smtp_port=DEFAULT_PORT, starttls=True, sender=None,
                 ca_file=None, timeout=TIMEOUT):
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.starttls = starttls
        self.sender = sender
        self.ca_file = ca_file
        self.timeout = timeout


def is_address(text):
    """Whether text is one plain e-mail address (local@domain) by ADDRESS's
    rule: what it passes is written into a header and the SMTP envelope as
    it is."""
    return (isinstance(text, str) and len(text) <= MAX_ADDRESS and bool(ADDRESS.match(text))
            and len(text.rsplit("@", 1)[0]) <= MAX_LOCAL_PART)


def make_message(sender, recipients, subject, body, at, message_id=None):
    """An EmailMessage from `sender` to `recipients` (plain addresses),
    dated `at` (seconds); MailError for an address that is not one or a
    header value that would break its line."""
    for address in [sender] + list(recipients):
        if not is_address(address):
            raise MailError("%r is not an e-mail address" % (address,))
    if not recipients:
        raise MailError("a message needs at least one recipient")
    if re.search(r"[\r\n\x00]", subject):
        raise MailError("a subject is one line")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.fromtimestamp(at, timezone.utc))
    message["Message-ID"] = message_id or make_msgid(domain=sender.rsplit("@", 1)[1])
    message.set_content(body)
    return message


def message_bytes(message):
    """The message as RFC 5322 puts it on the wire (CRLF line ends)."""
    return message.as_bytes(policy=SMTP_POLICY)


def file_name(name, suffix=".eml"):
    """A file name of `name` (a site's) that holds no path nor control
    character; a name changed to make it is told apart from the names it
    might meet (T2<X, T2>X and T2_X) by a digest of what it was."""
    cleaned = FILE_NAME.sub("_", name).lstrip(".")[:200] or "_"
    if cleaned != name:
        cleaned += "-" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return cleaned + suffix


def write_message(directory, name, message):
    """Write the message to DIRECTORY/<name>.eml, readable by its owner
    only (a notice lists hosts still exposed); its path. It is written
    to a new file of its own and then put in place: whatever was at that
    name (a file, a link, a FIFO) is replaced, never written through.
    OSError when the file cannot be made."""
    path = os.path.join(directory, file_name(name))
    fd, scratch = tempfile.mkstemp(dir=directory, prefix=".notice-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(message_bytes(message))
        os.replace(scratch, path)
    except BaseException:
        try:
            os.unlink(scratch)
        except OSError:
            pass
        raise
    return path


class Mailer(object):
    """One connection to the relay for several messages:

        with Mailer(settings) as mailer:
            sent = mailer.send(message)

    MailError (one line) when the relay cannot be reached, refuses TLS or
    its certificate does not verify, or refuses the sender or the data."""

    def __init__(self, settings):
        if not settings.smtp_host:
            raise MailError("no mail relay configured: set smtp_host in [mail]")
        if not settings.sender:
            raise MailError("no sender configured: set from in [mail]")
        self.settings = settings
        self.smtp = None

    def where(self):
        return "%s:%d" % (self.settings.smtp_host, self.settings.smtp_port)

    def __enter__(self):
        settings = self.settings
        try:
            self.smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                                     timeout=settings.timeout)
            self.smtp.ehlo()
            if settings.starttls:
                context = ssl.create_default_context(cafile=settings.ca_file)
                self.smtp.starttls(context=context)
                self.smtp.ehlo()
        except smtplib.SMTPNotSupportedError:
            self._close()
            raise MailError("mail relay %s does not offer STARTTLS (starttls = yes in [mail])"
                            % self.where())
        except ssl.SSLError as exc:
            self._close()
            raise MailError("mail relay %s: TLS failed: %s" % (self.where(), _one_line(exc)))
        except (OSError, smtplib.SMTPException) as exc:
            self._close()
            raise MailError("mail relay %s unreachable: %s" % (self.where(), _one_line(exc)))
        return self

    def __exit__(self, *exc_info):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._close()

    def _close(self):
        if self.smtp is not None:
            try:
                self.smtp.close()
            except OSError:
                pass
            self.smtp = None

    def send(self, message, recipients):
        """Send one message to `recipients` (the addresses it was made for:
        never read back out of its header); a Sent. Recipients the relay
        refuses are in Sent.refused (none taken: accepted is empty).
        RelayLost when the connection is gone: the rest cannot be sent."""
        try:
            refused = self.smtp.send_message(message, self.settings.sender, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except smtplib.SMTPSenderRefused as exc:
            raise MailError("mail relay %s refused the sender %s: %s %s" % (
                self.where(), self.settings.sender, exc.smtp_code, _reply(exc.smtp_error)))
        except smtplib.SMTPDataError as exc:
            raise MailError("mail relay %s refused the message: %s %s"
                            % (self.where(), exc.smtp_code, _reply(exc.smtp_error)))
        except (OSError, smtplib.SMTPException) as exc:
            self._close()
            raise RelayLost("mail relay %s: %s" % (self.where(), _one_line(exc)))
        refused = {address: "%s %s" % (code, _reply(reply))
                   for address, (code, reply) in refused.items()}
        return Sent(message["Message-ID"], [a for a in recipients if a not in refused], refused)


def _reply(reply):
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return _one_line(reply)


def _one_line(value):
    """One line of a reply or an error, control characters escaped (a
    relay's words reach the officer's terminal)."""
    text = str(value).strip() or value.__class__.__name__
    return escaped(" ".join(text.split())[:300])


def parse_sender(text):
    """The address of a [mail] from value ("Name <addr>" or addr); ValueError
    when it holds none."""
    _, address = parseaddr(text.strip())
    if not is_address(address):
        raise ValueError("from = %r: not an e-mail address" % text.strip())
    return address

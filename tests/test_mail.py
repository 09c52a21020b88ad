"""Mail for the officer's notices, through a real SMTP server on loopback
(aiosmtpd): plain, STARTTLS verified against a CA of the test's own, a
recipient refused, a relay away; the message as RFC 5322 on disk; the
[mail] settings."""

import email
import os
import socket
import ssl
import stat
from email.policy import default as DEFAULT_POLICY

import pytest
from aiosmtpd.controller import Controller

from helpers import make_tls_server_files
from wlcg_collector.config import ConfigError, load_config
from wlcg_collector.mail import (MailError, Mailer, MailSettings, file_name, make_message,
                                 message_bytes, write_message)

AT = 1767225600  # 2026-01-01
SENDER = "wlcg-security@example.org"


class Inbox(object):
    """What the server received; RCPT TO an address in `refuse` is 550."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                              session.ssl is not None))
        return "250 Message accepted"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(tmp_path):
    """start(inbox, tls=False) -> (port, CA file); a real SMTP server on
    127.0.0.1, offering STARTTLS with a certificate of the test's own CA
    when tls."""
    started = []
    key, cert, _ = make_tls_server_files(tmp_path / "tls")
    ca_file = str(tmp_path / "tls" / "ca.pem")

    def start(inbox, tls=False):
        kwargs = {}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            kwargs = {"tls_context": context}
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
        controller.start()
        started.append(controller)
        return controller.port, ca_file
    yield start
    for controller in started:
        controller.stop()


def notice(recipients, subject="[WLCG] campaign CVE-2026-0001: deadline 2026-01-08"):
    return make_message(SENDER, recipients, subject, "wn1.example.org: openssl 1:3.0.7-24\n",
                        AT)


def test_a_message_goes_through_a_plain_relay(smtp_server):
    inbox = Inbox()
    port, _ = smtp_server(inbox)
    settings = MailSettings("127.0.0.1", port, starttls=False, sender=SENDER)
    recipients = ["csirt@site-a.example.org", "admin@site-a.example.org"]
    message = notice(recipients)
    with Mailer(settings) as mailer:
        sent = mailer.send(message, recipients)
    assert sent.accepted == ["csirt@site-a.example.org", "admin@site-a.example.org"]
    assert sent.refused == {} and sent.message_id == message["Message-ID"]
    [(mail_from, rcpt_tos, content, tls)] = inbox.received
    assert (mail_from, rcpt_tos, tls) == (SENDER, sent.accepted, False)
    got = email.message_from_bytes(content, policy=DEFAULT_POLICY)
    assert got["Subject"] == "[WLCG] campaign CVE-2026-0001: deadline 2026-01-08"
    assert got["Message-ID"] == sent.message_id
    assert got["Date"] == "Thu, 01 Jan 2026 00:00:00 +0000"
    # (on the wire, lines end in CRLF)
    assert got.get_content() == "wn1.example.org: openssl 1:3.0.7-24\r\n"


def test_starttls_verifies_the_relay(smtp_server, tmp_path):
    inbox = Inbox()
    port, ca_file = smtp_server(inbox, tls=True)
    settings = MailSettings("127.0.0.1", port, starttls=True, sender=SENDER, ca_file=ca_file)
    with Mailer(settings) as mailer:
        assert mailer.send(notice(["csirt@site-a.example.org"]),
                           ["csirt@site-a.example.org"]).accepted == ["csirt@site-a.example.org"]
    assert [tls for _, _, _, tls in inbox.received] == [True]
    # a relay whose certificate this collector does not trust gets nothing
    make_tls_server_files(tmp_path / "other")
    settings.ca_file = str(tmp_path / "other" / "ca.pem")
    with pytest.raises(MailError) as caught:
        Mailer(settings).__enter__()
    assert str(caught.value).startswith("mail relay 127.0.0.1:%d: TLS failed: " % port)
    assert "\n" not in str(caught.value) and len(inbox.received) == 1


def test_starttls_required_but_not_offered(smtp_server):
    port, _ = smtp_server(Inbox())
    with pytest.raises(MailError) as caught:
        Mailer(MailSettings("127.0.0.1", port, starttls=True, sender=SENDER)).__enter__()
    assert str(caught.value) == ("mail relay 127.0.0.1:%d does not offer STARTTLS "
                                 "(starttls = yes in [mail])" % port)


def test_a_refused_recipient_is_said_and_the_others_get_it(smtp_server):
    inbox = Inbox(refuse={"gone@site-a.example.org"})
    port, _ = smtp_server(inbox)
    settings = MailSettings("127.0.0.1", port, starttls=False, sender=SENDER)
    with Mailer(settings) as mailer:
        both = ["gone@site-a.example.org", "csirt@site-a.example.org"]
        sent = mailer.send(notice(both), both)
        assert sent.accepted == ["csirt@site-a.example.org"]
        assert sent.refused == {"gone@site-a.example.org": "550 5.1.1 no such mailbox"}
        # every recipient refused: nothing sent, each said
        sent = mailer.send(notice(["gone@site-a.example.org"]), ["gone@site-a.example.org"])
        assert sent.accepted == [] and list(sent.refused) == ["gone@site-a.example.org"]
    assert [rcpt for _, rcpt, _, _ in inbox.received] == [["csirt@site-a.example.org"]]


def test_a_relay_away_is_one_line():
    port = free_port()  # nobody listens there
    with pytest.raises(MailError) as caught:
        Mailer(MailSettings("127.0.0.1", port, starttls=False, sender=SENDER)).__enter__()
    assert str(caught.value).startswith("mail relay 127.0.0.1:%d unreachable: " % port)
    assert "\n" not in str(caught.value)
    with pytest.raises(MailError) as caught:
        Mailer(MailSettings(None, sender=SENDER))
    assert str(caught.value) == "no mail relay configured: set smtp_host in [mail]"


@pytest.mark.parametrize("recipients, subject, reason", [
    (["csirt@site-a.example.org\r\nBcc: x@evil.example"], "s", "is not an e-mail address"),
    (["<csirt@site-a.example.org>"], "s", "is not an e-mail address"),
    (["csirt@site-a.example.org"], "deadline\r\nBcc: x@evil.example", "a subject is one line"),
    # an RFC 2047 encoded word is decoded when the header is made: here
    # into "evil@attacker.org, victim", and into a line break
    (["=?utf-8?b?ZXZpbEBhdHRhY2tlci5vcmcsIHZpY3RpbQ==?=@alma.example.org"], "s",
     "is not an e-mail address"),
    (["=?utf-8?b?eA0KQmNjOiBldmlsQGF0dGFja2VyLm9yZw==?=@quiet.example.org"], "s",
     "is not an e-mail address"),
    (["user%other@relay.example.org"], "s", "is not an e-mail address"),
    (["a!b@relay.example.org"], "s", "is not an e-mail address"),
    ([], "s", "at least one recipient")])
def test_nothing_can_add_a_header(recipients, subject, reason):
    with pytest.raises(MailError) as caught:
        make_message(SENDER, recipients, subject, "body", AT)
    assert reason in str(caught.value)


def test_site_names_made_file_names_stay_apart(tmp_path):
    names = ["T2<X", "T2>X", ".T2_X", "T2_X"]
    assert len({file_name(name) for name in names}) == 4
    assert file_name("T2_X") == "T2_X.eml"
    for name in names:
        write_message(str(tmp_path), name, notice(["csirt@site-a.example.org"]))
    assert len(os.listdir(str(tmp_path))) == 4


def test_a_message_on_disk_is_rfc_5322_for_its_owner_only(tmp_path):
    message = notice(["csirt@site-a.example.org"])
    path = write_message(str(tmp_path), "../T2_ÜBER/site", message)
    assert os.path.dirname(path) == str(tmp_path)
    assert os.path.basename(path) == file_name("../T2_ÜBER/site")
    assert os.path.basename(path).startswith("_T2__BER_site-")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as handle:
        data = handle.read()
    assert data == message_bytes(message) and b"\r\n" in data and b"\n" not in data.replace(
        b"\r\n", b"")
    got = email.message_from_bytes(data, policy=DEFAULT_POLICY)
    assert got["To"] == "csirt@site-a.example.org"
    # a link or a FIFO planted where the file goes is replaced, never
    # written through (nor waited on)
    os.remove(path)
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    os.symlink(str(target), path)
    write_message(str(tmp_path), "../T2_ÜBER/site", message)
    assert target.read_text() == "keep" and not os.path.islink(path)
    os.remove(path)
    os.mkfifo(path)
    write_message(str(tmp_path), "../T2_ÜBER/site", message)
    assert stat.S_ISREG(os.stat(path).st_mode) and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(str(tmp_path))) == sorted(["elsewhere", os.path.basename(path)])


def mail_config(tmp_path, text):
    path = tmp_path / "collector.conf"
    path.write_text("[collector]\ndatabase = sqlite:///%s\n[mail]\n%s"
                    % (tmp_path / "none.db", text), encoding="utf-8")
    return str(path)


def test_mail_settings(tmp_path):
    config = load_config(mail_config(tmp_path, "smtp_host = relay.example.org\nsmtp_port = 587\n"
                                     "from = WLCG Security <wlcg-security@example.org>\n"))
    mail = config.mail
    assert (mail.smtp_host, mail.smtp_port, mail.starttls, mail.sender, mail.ca_file) == (
        "relay.example.org", 587, True, "wlcg-security@example.org", None)
    assert load_config(mail_config(tmp_path, "starttls = no\n")).mail.starttls is False


@pytest.mark.parametrize("text, reason", [
    ("smtp_port = 70000\n", "smtp_port = 70000: not a TCP port"),
    ("smtp_port = nan\n", "smtp_port = 'nan': not a whole number"),
    ("starttls = maybe\n", "starttls = 'maybe': yes or no"),
    ("from = nobody\n", "from = 'nobody': not an e-mail address"),
    ("ca_file = /nonexistent/ca.pem\n", "ca_file /nonexistent/ca.pem is not a file"),
    ("password = x\n", "unknown option 'password' in [mail]")])
def test_bad_mail_settings_are_one_line(tmp_path, text, reason):
    with pytest.raises(ConfigError) as caught:
        load_config(mail_config(tmp_path, text))
    assert reason in str(caught.value) and "\n" not in str(caught.value)

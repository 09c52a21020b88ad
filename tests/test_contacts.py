"""Whom the sites name: GOCDB's get_site_contacts and get_site_security_info
answers (tests/fixtures/sites, with where each layout is documented)
imported on SQLite and MariaDB, each layout replacing its own rows of the
sites it names; sites not on the list and entries that cannot be stored
reported by name with the rest imported; a document in neither layout
refused whole; the addresses a notice goes to; and what `sites show` and
the site page show."""

import json
import os

import pytest

from helpers import ROOT, make_report, run_cli, write_config, wsgi_call
from wlcg_collector import contacts
from wlcg_collector.contacts import CONTACTS, SECURITY, Contact, ContactSite
from wlcg_collector.report import parse_report

T0 = 1767225600  # 2026-01-01T00:00:00Z
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "sites")
CONTACTS_FILE = os.path.join(FIXTURES, "gocdb-get_site_contacts.xml")
SECURITY_FILE = os.path.join(FIXTURES, "gocdb-get_site_security_info.xml")
ANA = Contact("Site Administrator", "Ana", "Admin", "ana.admin@alpha.example.org",
              "/DC=org/DC=example/OU=Alpha/CN=Ana Admin")
SAM = Contact("Site Security Officer", "Sam", "Security", "sam.security@alpha.example.org",
              "/DC=org/DC=example/OU=Alpha/CN=Sam Security")
OLI = Contact("Site Operations Manager", "Oli", "Manager", "oli.manager@alpha.example.org",
              "/DC=org/DC=example/OU=Alpha/CN=Oli Manager")
BO = Contact("Site Administrator", "Bo", "Beta", "bo@beta.example.net",
             "/C=YY/O=Beta Grid/CN=Bo Beta")


def fixture(path):
    with open(path, "rb") as handle:
        return handle.read()


def answer(*sites):
    """A get_site_contacts answer of (site NAME, [CONTACT inner XML]) pairs."""
    return ("<?xml version='1.0' encoding='UTF-8'?>\n<results>%s</results>\n" % "".join(
        '<SITE ID="1" NAME="%s"><SHORT_NAME>%s</SHORT_NAME>%s</SITE>'
        % (name, name, "".join("<CONTACT>%s</CONTACT>" % c for c in people))
        for name, people in sites)).encode("utf-8")


def person(forename="Kim", surname="Doe", email="kim@example.org", roles=("Site Administrator",),
           certdn="/CN=Kim Doe"):
    return ("<FORENAME>%s</FORENAME><SURNAME>%s</SURNAME><TITLE/><EMAIL>%s</EMAIL><TEL/>"
            "<CERTDN>%s</CERTDN>%s" % (forename, surname, email, certdn,
                                       "".join("<ROLE_NAME>%s</ROLE_NAME>" % r for r in roles)))


def cli(database_url, *args):
    return run_cli(["--db", database_url] + list(args))


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------- the layouts

def test_each_layout_is_read_from_its_real_answer():
    found = contacts.parse_contacts(fixture(CONTACTS_FILE), "c.xml")
    assert found == (CONTACTS, [ContactSite("T2_XX_Alpha", [ANA, SAM, OLI], None),
                                ContactSite("T2_YY_Beta", [BO], None)], [])
    found = contacts.parse_contacts(fixture(SECURITY_FILE), "s.xml")
    assert found == (SECURITY, [ContactSite("T2_XX_Alpha", None, "csirt@alpha.example.org"),
                                ContactSite("T2_YY_Beta", None, "security@beta.example.net")],
                     [])


def test_the_layout_is_told_from_the_document_not_its_name(tmp_path, database_url):
    cli(database_url, "init-db")
    swapped = write(tmp_path, "get_site_security_info.xml", fixture(CONTACTS_FILE))
    code, out, err = cli(database_url, "sites", "contacts", "import", swapped)
    assert (code, err) == (0, "")
    assert out == "imported get_site_contacts from %s: 2 site(s), 4 contact(s)\n" % swapped


def test_a_person_holding_several_roles_keeps_each():
    both = person(roles=("Site Administrator", "Site Security Officer"))
    again = person(roles=("Site Security Officer",))  # the same role listed twice: once
    found = contacts.parse_contacts(answer(("T2_KIM", [both, again])))
    assert [(c.role, c.email) for c in found.sites[0].contacts] == [
        ("Site Administrator", "kim@example.org"), ("Site Security Officer", "kim@example.org")]


@pytest.mark.parametrize("address,good", [
    ("ana.admin@alpha.example.org", True), ("o'brien+grid@cs.example.ac.uk", True),
    ("x@xn--p1ai.example", True), ("ana@example", False), ("ana@1.2.3.4", False),
    ("ana@[192.0.2.1]", False), ("Ana Admin <ana@example.org>", False),
    ("ana@example.org, bo@example.org", False), ('"ana"@example.org', False),
    ("ana..admin@example.org", False), (".ana@example.org", False),
    ("ana@-example.org", False), ("ana@example.org\nBcc: x@example.org", False),
    ("ána@example.org", False), ("a" * 65 + "@example.org", False),
    ("a@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 63 + ".org", False)])
def test_an_address_must_look_like_one(address, good):
    assert contacts.is_email(address) is good


# ---------------------------------------------------------------- bad input

NEITHER = [
    (fixture(os.path.join(FIXTURES, "gocdb.xml")), "is neither a GOCDB get_site_contacts nor"),
    (b"<results><SITE NAME='T2_A'><CONTACT/><CSIRT_EMAIL>a@b.org</CSIRT_EMAIL></SITE></results>",
     "is neither"),
    (b"<results><SITE NAME='T2_A'><SHORT_NAME>T2_A</SHORT_NAME></SITE></results>", "is neither"),
    (b"<results/>", "is neither"),
    (b"<other><SITE NAME='T2_A'><CONTACT/></SITE></other>", "is neither"),
    (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'>]><results>&a;</results>",
     "holds a DOCTYPE or an ENTITY"),
    (b"<results><SITE", "is not XML"),
    (b"{\"T2_A\": {}}", "is not XML"),
    (b"\xff\xfe<results/>", "is not UTF-8"),
]


@pytest.mark.parametrize("data,message", NEITHER)
def test_a_document_in_neither_layout_is_refused_whole(tmp_path, database_url, data, message):
    cli(database_url, "init-db")
    assert cli(database_url, "sites", "contacts", "import", CONTACTS_FILE)[0] == 0
    path = write(tmp_path, "odd.xml", data)
    code, out, err = cli(database_url, "sites", "contacts", "import", path)
    assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert path in err and message in err and err.endswith("; nothing imported\n")
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    try:  # nothing written: the earlier import's rows and record only
        assert len(store.contacts.imports()) == 1
        assert store.contacts.of_site("T2_XX_Alpha").contacts == [ANA, SAM, OLI]
    finally:
        store.close()


def test_entries_that_cannot_be_stored_are_named_and_the_rest_imported(tmp_path,
                                                                       database_url):
    cli(database_url, "init-db")
    data = answer(
        ("T2_GOOD", [person(), person("Bad", "Address", "bad@", ("Site Administrator",)),
                     person("Hidden", "Mark\u202eevil", "h@example.org"),
                     person("Long", "Dn", "l@example.org", certdn="/CN=" + "x" * 500),
                     person("No", "Role", "n@example.org", roles=()),
                     person("No", "Mail", "")]),
        ("T2 SPACE", [person()]), ("T2_GOOD2", []), ("t2_good", [person()]))
    data = data.replace(b'<SITE ID="1" NAME="T2_GOOD2">', b'<SITE ID="1">')
    path = write(tmp_path, "contacts.xml", data)
    code, out, err = cli(database_url, "sites", "contacts", "import", path)
    assert code == 1
    assert err.splitlines() == [
        "wlcg-collector: %s: site T2_GOOD: contact 2 (Bad Address): EMAIL bad@ is not an "
        "e-mail address; skipped" % path,
        "wlcg-collector: %s: site T2_GOOD: contact 3 (Hidden): SURNAME "
        "Mark\\u202eevil holds characters that are not visible text; skipped" % path,
        "wlcg-collector: %s: site T2_GOOD: contact 4 (Long Dn): CERTDN is longer than 500 "
        "characters; skipped" % path,
        "wlcg-collector: %s: site T2_GOOD: contact 5 (No Role): no ROLE_NAME; skipped" % path,
        "wlcg-collector: %s: site T2_GOOD: contact 6 (No Mail): no EMAIL; skipped" % path,
        "wlcg-collector: %s: site T2 SPACE is not a site name (printable ASCII without "
        "spaces or / %% ? #, not only dots); skipped" % path,
        "wlcg-collector: %s: SITE 3 has no NAME; skipped" % path,
        "wlcg-collector: %s: site t2_good: listed again (as T2_GOOD); the first kept" % path]
    assert out == ("imported get_site_contacts from %s: 1 site(s), 1 contact(s); 8 not "
                   "imported (above)\n" % path)
    code, out, _ = cli(database_url, "sites", "show", "T2_GOOD", "--format", "json")
    assert json.loads(out)["contacts"] == [{"role": "Site Administrator", "forename": "Kim",
                                            "surname": "Doe", "email": "kim@example.org",
                                            "certdn": "/CN=Kim Doe"}]


def test_a_bad_csirt_address_is_named_and_the_rest_imported(tmp_path, database_url):
    cli(database_url, "init-db")
    data = fixture(SECURITY_FILE).replace(b"security@beta.example.net",
                                          b"security at beta.example.net")
    path = write(tmp_path, "security.xml", data)
    code, out, err = cli(database_url, "sites", "contacts", "import", path)
    assert code == 1 and err == (
        "wlcg-collector: %s: site T2_YY_Beta: CSIRT_EMAIL security at beta.example.net is not "
        "an e-mail address; skipped\n" % path)
    assert out.endswith(": 2 site(s), 1 CSIRT address(es); 1 not imported (above)\n")


def test_sites_not_on_the_list_are_named_and_the_rest_imported(tmp_path, database_url):
    cli(database_url, "init-db")
    listed = write(tmp_path, "sites.list", b"t2_xx_alpha\nT2_ZZ_Gamma\n")
    assert cli(database_url, "sites", "import", listed)[0] == 0
    code, out, err = cli(database_url, "sites", "contacts", "import", CONTACTS_FILE)
    assert code == 1 and err == ("wlcg-collector: %s: 1 site(s) not on the list of sites, not "
                                 "imported: T2_YY_Beta\n" % CONTACTS_FILE)
    assert out == ("imported get_site_contacts from %s: 1 site(s), 3 contact(s); 1 not "
                   "imported (above)\n" % CONTACTS_FILE)
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    try:
        # stored as the list spells the site; nothing of the other
        assert store.contacts.of_site("T2_XX_ALPHA") == ("t2_xx_alpha", None, [ANA, SAM, OLI])
        assert store.contacts.of_site("T2_YY_Beta") == ("T2_YY_Beta", None, [])
        assert [(i.layout, i.sites, i.contacts, i.skipped) for i in store.contacts.imports()] \
            == [(CONTACTS, 1, 3, 1)]
    finally:
        store.close()
    # --quiet: only what was not imported
    code, out, err = cli(database_url, "sites", "contacts", "import", "--quiet", SECURITY_FILE)
    assert code == 1 and "not imported: T2_YY_Beta" in err and "1 CSIRT address(es)" in out


def test_a_site_listed_under_another_name_gets_its_gocdb_sites_contacts(tmp_path,
                                                                       database_url):
    """A CRIC list names sites as the experiments do and gives each one's
    GOCDB name (rc_site): GOCDB's contacts of T2_XX_Alpha are those of
    both sites it is the GOCDB name of."""
    cli(database_url, "init-db")
    cric = {"T2_XX_ALPHA_CMS": {"rc_site": "T2_XX_Alpha"},
            "T3_XX_ALPHA_ATLAS": {"rc_site": "t2_xx_alpha"}, "T2_YY_Beta": {}}
    listed = write(tmp_path, "cric.json", json.dumps(cric).encode())
    assert cli(database_url, "sites", "import", listed)[0] == 0
    code, out, err = cli(database_url, "sites", "contacts", "import", SECURITY_FILE)
    assert (code, err) == (0, "") and ": 3 site(s), 3 CSIRT address(es)\n" in out
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    try:
        assert store.contacts.recipients("T2_XX_ALPHA_CMS") == ["csirt@alpha.example.org"]
        assert store.contacts.recipients("T3_XX_ALPHA_ATLAS") == ["csirt@alpha.example.org"]
        assert store.contacts.recipients("T2_YY_Beta") == ["security@beta.example.net"]
        assert store.contacts.recipients("T2_XX_Alpha") == []  # not a site of the list
    finally:
        store.close()


def test_an_import_that_fails_writes_nothing(store):
    """The database refuses the second site's contact (no e-mail): the
    first site's rows and the import's record go back with it."""
    store.contacts.replace(CONTACTS, [ContactSite("T2_A", [ANA], None)], "first", 0, T0, "o")
    with pytest.raises(Exception):
        store.contacts.replace(CONTACTS, [ContactSite("T2_A", [SAM], None),
                                          ContactSite("T2_B", [BO._replace(email=None)], None)],
                               "second", 0, T0, "o")
    assert store.contacts.of_site("T2_A").contacts == [ANA]
    assert store.contacts.of_site("T2_B").contacts == []
    assert [i.source for i in store.contacts.imports()] == ["first"]


# ---------------------------------------------------------------- replacing

def test_each_layout_replaces_its_own_rows_of_the_sites_it_names(store):
    first = contacts.parse_contacts(fixture(CONTACTS_FILE))
    store.contacts.replace(first.layout, first.sites, "contacts.xml", 0, T0, "officer")
    security = contacts.parse_contacts(fixture(SECURITY_FILE))
    store.contacts.replace(security.layout, security.sites, "security.xml", 0, T0 + 1, "officer")
    assert store.contacts.of_site("T2_XX_Alpha") == ("T2_XX_Alpha", "csirt@alpha.example.org",
                                                     [ANA, SAM, OLI])
    # an answer for Alpha alone (GOCDB's sitename= filter): Beta's rows stay,
    # Alpha's contacts are the new ones and its CSIRT address stays
    again = contacts.parse_contacts(answer(("t2_xx_alpha", [person()])))
    store.contacts.replace(again.layout, again.sites, "alpha.xml", 0, T0 + 2, "officer")
    assert store.contacts.of_site("T2_XX_Alpha") == (
        "T2_XX_Alpha", "csirt@alpha.example.org",
        [Contact("Site Administrator", "Kim", "Doe", "kim@example.org", "/CN=Kim Doe")])
    assert store.contacts.of_site("T2_YY_Beta") == ("T2_YY_Beta", "security@beta.example.net",
                                                    [BO])
    # a site named with no contacts (and no CSIRT address) has none left
    empty = contacts.parse_contacts(fixture(SECURITY_FILE).replace(
        b"<CSIRT_EMAIL>security@beta.example.net</CSIRT_EMAIL>", b"<CSIRT_EMAIL/>"))
    store.contacts.replace(empty.layout, empty.sites, "security.xml", 0, T0 + 3, "officer")
    assert store.contacts.of_site("T2_YY_Beta").csirt is None
    assert [(i.layout, i.sites, i.contacts, i.imported, i.imported_by)
            for i in store.contacts.imports()] == [
        (CONTACTS, 2, 4, T0, "officer"), (SECURITY, 2, 2, T0 + 1, "officer"),
        (CONTACTS, 1, 1, T0 + 2, "officer"), (SECURITY, 2, 1, T0 + 3, "officer")]


# ---------------------------------------------------------------- recipients

def test_a_notice_goes_to_the_csirt_else_the_security_officers_else_the_admins(store):
    sso2 = SAM._replace(forename="Sue", email="sue@alpha.example.org")
    store.contacts.replace(CONTACTS, [
        ContactSite("T2_ALL", [ANA, SAM], None), ContactSite("T2_SSO", [ANA, sso2, SAM], None),
        ContactSite("T2_ADMIN", [OLI, ANA, BO], None), ContactSite("T2_MANAGER", [OLI], None),
        ContactSite("T2_CSIRT_ONLY", [], None)], "c", 0, T0, "o")
    store.contacts.replace(SECURITY, [
        ContactSite("T2_ALL", None, "csirt@alpha.example.org"),
        ContactSite("T2_CSIRT_ONLY", None, "csirt@only.example.org")], "s", 0, T0, "o")
    assert store.contacts.recipients("t2_all") == ["csirt@alpha.example.org"]
    assert store.contacts.recipients("T2_CSIRT_ONLY") == ["csirt@only.example.org"]
    assert store.contacts.recipients("T2_SSO") == ["sam.security@alpha.example.org",
                                                   "sue@alpha.example.org"]
    assert store.contacts.recipients("T2_ADMIN") == ["ana.admin@alpha.example.org",
                                                     "bo@beta.example.net"]
    assert store.contacts.recipients("T2_MANAGER") == []
    assert store.contacts.recipients("T2_NOBODY") == []


# ---------------------------------------------------------------- shown

def test_sites_show_lists_the_csirt_address_and_the_contacts(database_url):
    cli(database_url, "init-db")
    cli(database_url, "sites", "contacts", "import", CONTACTS_FILE)
    cli(database_url, "sites", "contacts", "import", SECURITY_FILE)
    code, out, err = cli(database_url, "sites", "show", "t2_xx_alpha")
    assert (code, err) == (0, "")
    assert out.split("quarantined: 0\n", 1)[1] == (
        "csirt: csirt@alpha.example.org\n\n"
        "contacts (GOCDB):\n"
        "ROLE                     NAME          EMAIL                           CERTDN\n"
        "Site Administrator       Ana Admin     ana.admin@alpha.example.org     "
        "/DC=org/DC=example/OU=Alpha/CN=Ana Admin\n"
        "Site Security Officer    Sam Security  sam.security@alpha.example.org  "
        "/DC=org/DC=example/OU=Alpha/CN=Sam Security\n"
        "Site Operations Manager  Oli Manager   oli.manager@alpha.example.org   "
        "/DC=org/DC=example/OU=Alpha/CN=Oli Manager\n\n"
        "no report refused by a quota in the last 7 UTC day(s)\n")
    shown = json.loads(cli(database_url, "sites", "show", "T2_YY_Beta", "--format", "json")[1])
    assert (shown["site"], shown["csirt"], shown["contacts"]) == (
        "T2_YY_Beta", "security@beta.example.net", [BO._asdict()])
    code, out, err = cli(database_url, "sites", "show", "T2_ZZ_Nobody")
    assert code == 1 and err == "wlcg-collector: unknown site 'T2_ZZ_Nobody'\n"


def test_the_site_page_shows_whom_the_site_names_escaped(tmp_path, database_url,
                                                        collector_keys):
    from wlcg_collector import create_app
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    store.writer.store_report(parse_report(make_report("T2_XX_Alpha", "wn1.example.org",
                                                       [("bash", "0:5.1-1", "x86_64")], ts=T0)),
                              T0, "192.0.2.1")
    hostile = "<script>alert(1)</script>"
    store.contacts.replace(CONTACTS, [ContactSite("T2_XX_Alpha", [
        ANA, SAM._replace(forename=hostile, certdn="/CN=<b>x</b>")], None)], "c", 0, T0, "o")
    store.close()
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    with open(config, "a") as handle:
        handle.write("[officer]\nallow = jdoe\n")
    app = create_app(config)
    status, headers, body, _ = wsgi_call(app, method="GET", path="/officer/site/T2_XX_Alpha",
                                         query="", content_length=False,
                                         environ_extra={"REMOTE_USER": "jdoe"})
    page = body.decode("utf-8")
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    assert '<p id="csirt">CSIRT: none imported</p>' in page
    assert "<td>Site Administrator</td><td>Ana Admin</td><td>ana.admin@alpha.example.org</td>" \
           in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Security" in page and hostile not in page
    assert "/CN=&lt;b&gt;x&lt;/b&gt;" in page


def test_an_answer_is_fetched_over_verified_https(tmp_path, database_url):
    """As `sites import` fetches the list: over HTTPS, the certificate
    verified against [sites] ca_file, bounded."""
    import http.server
    import shutil
    import ssl
    import threading
    from helpers import make_tls_server_files

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    root = tmp_path / "served"
    shutil.copytree(FIXTURES, str(root))
    key, cert, _ = make_tls_server_files(tmp_path / "tls")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: Quiet(*a, directory=str(root), **k))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = ("https://127.0.0.1:%d/gocdb-get_site_security_info.xml?method="
               "get_site_security_info" % server.server_address[1])
        config = write_config(tmp_path / "c.conf", database_url, [])
        with open(config, "a") as handle:
            handle.write("[sites]\nca_file = %s\n" % (tmp_path / "tls" / "ca.pem"))
        assert run_cli(["--config", config, "init-db"])[0] == 0
        code, out, err = run_cli(["--config", config, "sites", "contacts", "import", "-q", url])
        assert (code, out, err) == (0, "", "")
        shown = json.loads(run_cli(["--config", config, "sites", "show", "T2_YY_Beta",
                                    "--format", "json"])[1])
        assert shown["csirt"] == "security@beta.example.net"
        # the system's CAs do not know the test CA: one line, nothing imported
        code, out, err = cli(database_url, "sites", "contacts", "import", url)
        assert code == 1 and "CERTIFICATE_VERIFY_FAILED" in err and err.count("\n") == 1
        assert err.endswith("; nothing imported\n")
    finally:
        server.shutdown()

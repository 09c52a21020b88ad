"""Whom to write to at a site: GOCDB's answers to get_site_contacts (per
site, each person holding a site-level role: name, e-mail, certificate DN,
role) and get_site_security_info (per site, the CSIRT address), read into
records; the sites of an answer matched to the list of sites; and to whom
a notice to a site goes.

Both layouts are documented by GOCDB (https://gocdb.github.io/api/read/,
get_site_contacts and get_site_security_info): a <results> of <SITE NAME=...>
elements. Which one a document is is told from the elements its sites hold,
never from the file's name. A document in neither layout is refused whole;
within one, a site or a contact that cannot be stored is skipped with one
line naming it, and the rest is read. Pure: bytes in, records out.
"""

import xml.etree.ElementTree as ElementTree
from collections import namedtuple

from .limits import COLUMNS
from .mail import is_address
from .site_names import site_key
from .report import SITE_RULE, is_site_name
from .statuses import ACCEPTED, LISTED
from .text import escaped, has_invisible

CONTACTS = "get_site_contacts"
SECURITY = "get_site_security_info"
LAYOUTS = (CONTACTS, SECURITY)
# the elements a <SITE> of each layout holds: a document is of a layout when
# its sites hold only that layout's elements and at least one of them the
# layout's own (a paged answer's <meta> sits beside the sites, not in them)
SITE_ELEMENTS = {CONTACTS: frozenset(("PRIMARY_KEY", "SHORT_NAME", "CONTACT")),
                 SECURITY: frozenset(("PRIMARY_KEY", "SHORT_NAME", "CSIRT_EMAIL", "CSIRT_TEL"))}
OWN_ELEMENT = {CONTACTS: "CONTACT", SECURITY: "CSIRT_EMAIL"}
# a contact's elements that are kept, and the column each is stored in
CONTACT_FIELDS = (("FORENAME", "forename"), ("SURNAME", "surname"), ("EMAIL", "email"),
                  ("CERTDN", "certdn"))
MAX_ROLE = COLUMNS["site_contacts", "role"]
# the roles a notice falls back to, in turn, when a site names no CSIRT address
SECURITY_OFFICER = "Site Security Officer"
SITE_ADMINISTRATOR = "Site Administrator"
NOTICE_ROLES = (SECURITY_OFFICER, SITE_ADMINISTRATOR)
# one role a person holds at a site (a person with two roles: two Contacts)
Contact = namedtuple("Contact", "role forename surname email certdn")
# a site of an answer: its name, and its contacts ([Contact], CONTACTS) or
# its CSIRT address (str or None, SECURITY)
ContactSite = namedtuple("ContactSite", "site contacts csirt")
# a document read: its layout, [ContactSite] in its order, and a line for
# each site or contact skipped
ContactsFile = namedtuple("ContactsFile", "layout sites skipped")


class ContactsError(Exception):
    """A document that is not one of GOCDB's two answers: the message is
    the one-line reason, and nothing of it is imported."""


def is_email(address):
    """Whether `address` is one a notice may go to (mail.is_address: the
    one rule for addresses)."""
    return is_address(address)


def parse_contacts(data, name="the file"):
    """The ContactsFile of one of GOCDB's answers (bytes); ContactsError
    when it is in neither layout."""
    root = _document(data, name)
    sites = root.findall("SITE")
    layout = detect_layout(root)
    if layout is None:
        raise ContactsError("%s is neither a GOCDB get_site_contacts nor a "
                            "get_site_security_info answer (a <results> of <SITE> elements "
                            "holding CONTACT, or CSIRT_EMAIL)" % name)
    read, skipped, seen = [], [], {}
    for number, element in enumerate(sites, 1):
        site = element.get("NAME")
        if site is None:
            skipped.append("%s: SITE %d has no NAME; skipped" % (name, number))
            continue
        if not is_site_name(site):
            skipped.append("%s: site %s is not a site name (%s); skipped"
                           % (name, escaped(site, 120), SITE_RULE))
            continue
        where = "%s: site %s" % (name, site)
        key = site_key(site)
        if key in seen:
            skipped.append("%s: listed again (as %s); the first kept" % (where, seen[key]))
            continue
        seen[key] = site
        if layout == CONTACTS:
            read.append(ContactSite(site, _contacts(element, where, skipped), None))
        else:
            read.append(ContactSite(site, None, _csirt(element, where, skipped)))
    return ContactsFile(layout, read, skipped)


def detect_layout(root):
    """CONTACTS, SECURITY or None, from the elements of the document's sites."""
    if root.tag != "results":
        return None
    held = {child.tag for site in root.findall("SITE") for child in site}
    for layout in LAYOUTS:
        if OWN_ELEMENT[layout] in held and held <= SITE_ELEMENTS[layout]:
            return layout
    return None


def _document(data, name):
    """The root element of a document, read as topology reads GOCDB's site
    list: UTF-8, and no DTD (the standard library's parser expands
    entities: a document with one is refused before it is parsed). Its size
    was bounded when it was read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContactsError("%s is not UTF-8 (byte %d)" % (name, exc.start))
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ContactsError("%s holds a DOCTYPE or an ENTITY: not a GOCDB answer" % name)
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise ContactsError("%s is not XML: %s" % (name, exc))


def _value(element, tag, limit):
    """(the text of element's child `tag`, stripped, None when empty or
    absent; why it cannot be stored, or None)."""
    child = element.find(tag)
    text = (child.text or "").strip() if child is not None else ""
    if not text:
        return None, None
    if has_invisible(text):
        return None, "%s %s holds characters that are not visible text" % (tag, escaped(text, 120))
    if len(text) > limit:
        return None, "%s is longer than %d characters" % (tag, limit)
    return text, None


def _contacts(site, where, skipped):
    """[Contact] of a <SITE> of get_site_contacts: one a role, a person's
    role named twice kept once; a contact that cannot be stored skipped."""
    contacts, seen = [], set()
    for number, element in enumerate(site.findall("CONTACT"), 1):
        values, problems = {}, []
        for tag, column in CONTACT_FIELDS:
            values[column], problem = _value(element, tag, COLUMNS["site_contacts", column])
            if problem:
                problems.append(problem)
        roles = []
        for role in element.findall("ROLE_NAME"):
            text = (role.text or "").strip()
            if has_invisible(text) or len(text) > MAX_ROLE:
                problems.append("ROLE_NAME %s is not a role name" % escaped(text, 120))
            elif text:
                roles.append(text)
        who = " ".join(v for v in (values["forename"], values["surname"]) if v)
        shown = "%s: contact %d%s" % (where, number, " (%s)" % who if who else "")
        email = values["email"]
        if email is None and not problems:
            problems.append("no EMAIL")
        elif email is not None and not is_email(email):
            problems.append("EMAIL %s is not an e-mail address" % escaped(email, 120))
        if not roles and not problems:
            problems.append("no ROLE_NAME")
        if problems:
            skipped.append("%s: %s; skipped" % (shown, "; ".join(problems)))
            continue
        for role in roles:
            if (role, email.lower()) not in seen:
                seen.add((role, email.lower()))
                contacts.append(Contact(role, values["forename"], values["surname"], email,
                                        values["certdn"]))
    return contacts


def _csirt(site, where, skipped):
    """The CSIRT address of a <SITE> of get_site_security_info, or None
    (none given, or one that is no address: skipped)."""
    email, problem = _value(site, "CSIRT_EMAIL", COLUMNS["site_csirts", "email"])
    if problem is None and email is not None and not is_email(email):
        problem = "CSIRT_EMAIL %s is not an e-mail address" % escaped(email, 120)
    if problem:
        skipped.append("%s: %s; skipped" % (where, problem))
        return None
    return email


def on_the_list(sites, site_rows):
    """([ContactSite] to store, [names not on the list]) of an answer's
    sites (GOCDB's names) and the list of sites ([SiteRow]; its listed and
    accepted sites): a site is stored under the name the list spells it,
    and under every site the list gives it as the GOCDB name of (CRIC's
    rc_site: T2_CH_CERN's is CERN-PROD); its own name wins where both lead
    to one site. No list loaded: every site, as the answer names it."""
    if not site_rows:
        return list(sites), []
    by_name, by_gocdb = {}, {}
    for row in site_rows:
        if row.status in (LISTED, ACCEPTED):
            by_name[site_key(row.name)] = row.name
            if row.gocdb:
                by_gocdb.setdefault(site_key(row.gocdb), []).append(row.name)
    targets, missing = {}, []
    for entry in sites:
        key = site_key(entry.site)
        names = [by_name[key]] if key in by_name else []
        names += by_gocdb.get(key, [])
        if not names:
            missing.append(entry.site)
        for target in names:
            own = site_key(target) == key
            if own or site_key(target) not in targets or not targets[site_key(target)][0]:
                targets[site_key(target)] = (own, entry._replace(site=target))
    return [entry for _, entry in targets.values()], missing


def recipients(csirt, contacts):
    """The addresses a notice to a site goes to: its CSIRT address, else
    its Site Security Officers', else its Site Administrators' (contacts:
    [Contact]); [] when it names none of them."""
    if csirt:
        return [csirt]
    for role in NOTICE_ROLES:
        found = sorted({c.email for c in contacts if c.role.lower() == role.lower()},
                       key=str.lower)
        if found:
            return found
    return []

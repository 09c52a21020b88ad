"""Whom the sites name: the contacts (get_site_contacts) and CSIRT
addresses (get_site_security_info) imported from GOCDB, replaced per site
by each import of their layout, and the addresses a notice to a site goes
to."""

from collections import namedtuple

from ..contacts import CONTACTS, Contact, recipients
from ..limits import MAX_OFFICER, MAX_SITE_SOURCE
from .database import Part
from .records import ContactImport, SiteContacts
from .statements import compile_statements

# a row of site_contacts: the site as stored, and the Contact
StoredContact = namedtuple("StoredContact", ("site",) + Contact._fields)
# a row of site_csirts
StoredCSIRT = namedtuple("StoredCSIRT", "site email")


class ContactSQL(object):
    """The contacts' statements, shared by both dialects ({p}: a parameter)
    and compiled by the dialect as statements.SharedSQL is (that module is
    at the length a collector module may have)."""
    INSERT_CONTACT_IMPORT = ("INSERT INTO contact_imports (imported, source, layout, sites, "
                             "contacts, skipped, imported_by) "
                             "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})")
    SELECT_CONTACT_IMPORTS = ("SELECT " + ", ".join(ContactImport._fields)
                              + " FROM contact_imports ORDER BY id")
    DELETE_SITE_CONTACTS = "DELETE FROM site_contacts WHERE site = {p}"
    INSERT_SITE_CONTACT = ("INSERT INTO site_contacts (site, role, forename, surname, email, "
                           "certdn, import_id) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})")
    # (in the answer's order: GOCDB lists a site's contacts as its portal does)
    SELECT_SITE_CONTACTS = ("SELECT " + ", ".join(StoredContact._fields)
                            + " FROM site_contacts WHERE site = {p} ORDER BY id")
    DELETE_SITE_CSIRT = "DELETE FROM site_csirts WHERE site = {p}"
    INSERT_SITE_CSIRT = "INSERT INTO site_csirts (site, email, import_id) VALUES ({p}, {p}, {p})"
    SELECT_SITE_CSIRT = ("SELECT " + ", ".join(StoredCSIRT._fields)
                         + " FROM site_csirts WHERE site = {p}")
    # the newest import: what the contacts are now (readers by role keep
    # what they read of them until it changes)
    SELECT_LATEST_CONTACT_IMPORT = "SELECT MAX(id) FROM contact_imports"
    # the contacts that name a certificate DN: who may read a site by role
    SELECT_CONTACTS_WITH_DN = ("SELECT " + ", ".join(StoredContact._fields)
                               + " FROM site_contacts WHERE certdn IS NOT NULL ORDER BY id")


class ContactStore(Part):
    """The sites' contacts (tables: contact_imports, site_contacts,
    site_csirts)."""

    def __init__(self, db):
        Part.__init__(self, db)
        self.statements = compile_statements(ContactSQL, self.dialect.compile)

    def replace(self, layout, sites, source, skipped, now, who):
        """Store an answer's sites ([contacts.ContactSite], each under the
        name it is stored by): each site's rows of the answer's layout (its
        contacts, or its CSIRT address) are replaced by the answer's; those
        of the other layout, and of sites the answer does not name, stay.
        One transaction, with the import's record (skipped: how many of the
        answer's entries were not stored); returns its ContactImport."""
        sql = self.statements
        if layout == CONTACTS:
            stored = sum(len(entry.contacts) for entry in sites)
        else:
            stored = sum(1 for entry in sites if entry.csirt is not None)
        record = (now, source[:MAX_SITE_SOURCE], layout, len(sites), stored, skipped,
                  who[:MAX_OFFICER])

        def work(cursor):
            cursor.execute(sql.INSERT_CONTACT_IMPORT, record)
            import_id = cursor.lastrowid
            for entry in sites:
                if layout == CONTACTS:
                    cursor.execute(sql.DELETE_SITE_CONTACTS, (entry.site,))
                    cursor.executemany(sql.INSERT_SITE_CONTACT, [
                        (entry.site,) + tuple(contact) + (import_id,)
                        for contact in entry.contacts])
                else:
                    cursor.execute(sql.DELETE_SITE_CSIRT, (entry.site,))
                    if entry.csirt is not None:
                        cursor.execute(sql.INSERT_SITE_CSIRT, (entry.site, entry.csirt,
                                                               import_id))
            return import_id
        return ContactImport(self.db.transaction(work), *record)

    def imports(self):
        """[ContactImport] of every import, oldest first."""
        return self.db.read(self.statements.SELECT_CONTACT_IMPORTS, (), ContactImport)

    def of_site(self, site):
        """The SiteContacts of a site (names compared without regard to
        case; its name as stored, when anything is)."""
        sql = self.statements

        def work(cursor):
            cursor.execute(sql.SELECT_SITE_CSIRT, (site,))
            csirt = [StoredCSIRT._make(found) for found in cursor.fetchall()]
            cursor.execute(sql.SELECT_SITE_CONTACTS, (site,))
            stored = [StoredContact._make(found) for found in cursor.fetchall()]
            name = (csirt or stored)[0].site if csirt or stored else site
            return SiteContacts(name, csirt[0].email if csirt else None,
                                [Contact(found.role, found.forename, found.surname,
                                         found.email, found.certdn) for found in stored])
        return self.db.transaction(work, write=False)

    def latest_import(self):
        """The id of the newest import (None before the first): the
        contacts change only with an import."""
        row = self.db.read_one(self.statements.SELECT_LATEST_CONTACT_IMPORT, ())
        return row[0] if row else None

    def holding(self, roles):
        """[StoredContact] of every site's contacts that hold one of these
        roles (compared without regard to case) and name a certificate
        DN, in the order they were imported."""
        wanted = {role.casefold() for role in roles}
        if not wanted:
            return []
        return [found for found in self.db.read(self.statements.SELECT_CONTACTS_WITH_DN, (),
                                                StoredContact)
                if found.role.casefold() in wanted and found.certdn]

    def recipients(self, site):
        """The addresses a notice to `site` goes to: its CSIRT address, else
        its Site Security Officers', else its Site Administrators'; [] when
        none was imported (contacts.recipients)."""
        found = self.of_site(site)
        return recipients(found.csirt, found.contacts)

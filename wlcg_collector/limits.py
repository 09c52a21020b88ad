"""How much the collector takes: the limits on a report and on a feed's
values, in one table.

Every value a stranger sends or a feed says is stored in a column of
sql/mysql.sql; the parsers refuse what is longer than its column, with one
line naming it, so that the database never refuses a batch (MySQL in strict
mode) or cuts a value short. What storage writes of its own (who sent a
report, which officer did a thing, where a site's row came from) it cuts to
its column's length. tests/test_rules_once.py checks this table against the
schema.
"""

# the most packages a report may list (the largest real hosts list ~5,000);
# [collector] max_packages overrides it, and the parser honours what it is given
MAX_PACKAGES = 20000

# (table, column): its length in characters (VARCHAR), or in bytes for
# hosts.facts (TEXT)
COLUMNS = {
    ("hosts", "site"): 100,
    ("hosts", "name"): 255,
    ("hosts", "system"): 255,
    ("hosts", "kernel"): 255,
    ("hosts", "arch"): 64,
    ("hosts", "facts"): 65535,
    ("hosts", "created_by"): 64,
    ("hosts", "pinned_by"): 64,
    ("packages", "name"): 200,
    ("packages", "version"): 200,
    ("packages", "arch"): 32,
    ("packages", "source"): 200,
    ("reports", "sender"): 64,
    ("site_keys", "pinned_by"): 64,
    ("quarantine", "sender"): 64,
    ("quarantine", "reason"): 255,
    ("quota_events", "sender"): 64,
    ("sites", "name"): 100,
    ("sites", "country"): 100,
    ("sites", "gocdb"): 100,
    ("sites", "state"): 100,
    ("sites", "source"): 255,
    ("site_lists", "source"): 255,
    ("site_lists", "imported_by"): 64,
    ("site_renames", "done_by"): 64,
    ("advisories", "ident"): 100,
    ("advisories", "title"): 500,
    ("advisory_cves", "cve"): 32,
    ("advisory_packages", "stream"): 64,
    ("advisory_packages", "name"): 200,
    ("advisory_packages", "arch"): 32,
    ("advisory_packages", "module"): 200,
    ("advisory_packages", "introduced"): 200,
    ("advisory_packages", "fixed"): 200,
    ("advisory_packages", "last_affected"): 200,
    ("site_contacts", "role"): 100,
    ("site_contacts", "forename"): 100,
    ("site_contacts", "surname"): 100,
    ("site_contacts", "email"): 255,
    ("site_contacts", "certdn"): 500,
    ("site_csirts", "email"): 255,
    ("contact_imports", "source"): 255,
    ("contact_imports", "imported_by"): 64,
    ("campaigns", "name"): 100,
    ("campaigns", "target"): 500,
    ("campaigns", "system"): 255,
    ("campaigns", "created_by"): 64,
    ("campaign_notices", "sent_by"): 64,
    ("advisory_tags", "name"): 64,
    ("advisory_tags", "url"): 500,
    ("advisory_tags", "description"): 1000,
    ("advisory_tag_targets", "target"): 100,
    ("advisory_exceptions", "package"): 200,
    ("advisory_exceptions", "version"): 200,
    ("advisory_exceptions", "site"): 100,
    ("advisory_exceptions", "host"): 255,
    ("advisory_exceptions", "reason"): 1000,
    ("advisory_exceptions", "added_by"): 64,
}

# a report's headers: how many, a key's length, a value's length (those
# kept in a column of their own have that column's: HEADER_LIMITS), and
# all of them as the JSON kept in hosts.facts
MAX_HEADERS = 64
MAX_KEY = 32
MAX_VALUE = COLUMNS["hosts", "system"]
HEADER_LIMITS = {"site": COLUMNS["hosts", "site"], "arch": COLUMNS["hosts", "arch"]}
MAX_FACTS = COLUMNS["hosts", "facts"]
MAX_SITE = HEADER_LIMITS["site"]

# a package line's fields (and a format-2 line's source package name);
# an advisory names packages, versions and arches in the same sizes
MAX_NAME = COLUMNS["packages", "name"]
MAX_VERSION = COLUMNS["packages", "version"]
MAX_ARCH = COLUMNS["packages", "arch"]

# who sent a report: its IP address, or file:NAME when `ingest` read it
# (also who made a host, pinned a host or a site key, sent a quarantined
# or a refused report: hosts.created_by and pinned_by, site_keys.pinned_by,
# quarantine.sender, quota_events.sender)
MAX_SENDER = COLUMNS["reports", "sender"]

# which officer did a thing: pinned a host, imported a list of sites,
# renamed or merged a site, added or ended an exception (hosts.pinned_by,
# site_renames.done_by, advisory_exceptions.added_by and ended_by)
MAX_OFFICER = COLUMNS["site_lists", "imported_by"]

# where a site's row, a list of sites or their contacts came from: the
# list's URL or file, or the officer's acceptance, rename or merge
# (sites.source, site_lists.source, contact_imports.source)
MAX_SITE_SOURCE = COLUMNS["sites", "source"]

# why a report is in the quarantine
MAX_REASON = COLUMNS["quarantine", "reason"]

# what a list of sites says of a site besides its name (country, GOCDB
# name, state)
MAX_SITE_FIELD = COLUMNS["sites", "country"]

# an advisory's own values
MAX_IDENT = COLUMNS["advisories", "ident"]
MAX_TITLE = COLUMNS["advisories", "title"]
MAX_CVE = COLUMNS["advisory_cves", "cve"]
MAX_STREAM = COLUMNS["advisory_packages", "stream"]
MAX_MODULE = COLUMNS["advisory_packages", "module"]

# what the officer writes of a tag and an exception (tags.py checks them;
# who did it is MAX_OFFICER long, as advisory_exceptions.added_by is)
MAX_TAG_NAME = COLUMNS["advisory_tags", "name"]
MAX_TAG_URL = COLUMNS["advisory_tags", "url"]
MAX_TAG_DESCRIPTION = COLUMNS["advisory_tags", "description"]
MAX_EXCEPTION_REASON = COLUMNS["advisory_exceptions", "reason"]

# a campaign: its name, what it asks (a requirement's text) and of which
# hosts (a system pattern); who added it or sent its notices is
# MAX_OFFICER long (campaigns.created_by, campaign_notices.sent_by)
MAX_CAMPAIGN_NAME = COLUMNS["campaigns", "name"]
MAX_CAMPAIGN_TARGET = COLUMNS["campaigns", "target"]
MAX_CAMPAIGN_SYSTEM = COLUMNS["campaigns", "system"]

# the officer's pages as JSON: the items of a list answered at a time
# (`per_page`: this many unless asked, at most MAX_PER_PAGE), and the
# highest `page` asked for (far past any list's last: a page past the last
# is an empty list, a larger number a bad one)
PER_PAGE = 100
MAX_PER_PAGE = 1000
MAX_PAGE = 10 ** 9
# the search box's text: the longest name it can find (a host's), no more
# (a longer text names nothing, and a LIKE pattern of thousands of
# characters is refused by SQLite)
MAX_SEARCH = max(COLUMNS["hosts", "name"], COLUMNS["packages", "name"], MAX_SITE)

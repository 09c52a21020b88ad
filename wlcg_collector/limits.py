"""How much the collector takes: the limits on a report and on a feed's
values, in one table.

Every value a stranger sends or a feed says is stored in a column of
sql/mysql.sql; the parsers refuse what is longer than its column, with one
line naming it, so that the database never refuses a batch (MySQL in strict
mode) or cuts a value short. tests/test_rules_once.py checks this table
against the schema.
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
    ("packages", "name"): 200,
    ("packages", "version"): 200,
    ("packages", "arch"): 32,
    ("packages", "source"): 200,
    ("reports", "sender"): 64,
    ("sites", "name"): 100,
    ("sites", "country"): 100,
    ("sites", "gocdb"): 100,
    ("sites", "state"): 100,
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
MAX_SENDER = COLUMNS["reports", "sender"]

# what a list of sites says of a site besides its name (country, GOCDB
# name, state)
MAX_SITE_FIELD = COLUMNS["sites", "country"]

# an advisory's own values
MAX_IDENT = COLUMNS["advisories", "ident"]
MAX_TITLE = COLUMNS["advisories", "title"]
MAX_CVE = COLUMNS["advisory_cves", "cve"]
MAX_STREAM = COLUMNS["advisory_packages", "stream"]
MAX_MODULE = COLUMNS["advisory_packages", "module"]

# what the officer writes of a tag and an exception (tags.py checks them);
# who did it: a login or --by
MAX_TAG_NAME = COLUMNS["advisory_tags", "name"]
MAX_TAG_URL = COLUMNS["advisory_tags", "url"]
MAX_TAG_DESCRIPTION = COLUMNS["advisory_tags", "description"]
MAX_REASON = COLUMNS["advisory_exceptions", "reason"]
MAX_WHO = COLUMNS["advisory_exceptions", "added_by"]

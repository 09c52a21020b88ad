-- Schema 9 -> 10: site contacts from GOCDB (`sites contacts import`), and
-- tags and exceptions for advisories, campaigns with deadlines and the
-- notices sent for them.
-- Site contacts from GOCDB (`sites contacts import`). contact_imports:
-- each import, of either of GOCDB's answers (layout: get_site_contacts or
-- get_site_security_info), with the sites and contacts it stored and the
-- entries it skipped. site_contacts: per site, one row for each site-level
-- role a person holds (get_site_contacts); site_csirts: per site, its CSIRT
-- address (get_site_security_info). An import replaces the rows of its
-- layout for the sites the answer names, under the names the list of
-- sites spells them (import_id: the import they came from).
CREATE TABLE contact_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported INTEGER NOT NULL,
    source TEXT NOT NULL,
    layout TEXT NOT NULL,
    sites INTEGER NOT NULL,
    contacts INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE TABLE site_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL,
    forename TEXT,
    surname TEXT,
    email TEXT NOT NULL,
    certdn TEXT,
    import_id INTEGER NOT NULL
);
CREATE INDEX site_contacts_site ON site_contacts (site);
CREATE TABLE site_csirts (
    site TEXT PRIMARY KEY COLLATE NOCASE,
    email TEXT NOT NULL,
    import_id INTEGER NOT NULL
);
-- Tags and exceptions for advisories (`tags`, `exceptions`). A tag
-- (name unique without regard to case; url and description for the
-- officer) names advisories and CVEs: advisory_tag_targets, kind
-- 'advisory' (target: its ident) or 'cve' (a CVE: every advisory naming
-- it, those imported later too, resolved when asked). A target is never
-- deleted: unapplied, it gets removed and removed_by, so that a tag can be
-- read as it stood at a past time. An exception says that what one
-- advisory or CVE finds does not apply here, narrowed by package, version
-- (needs package), site and host; reason, who added it and when; in force
-- from added until expires (NULL: no end) or until ended (by ended_by).
-- Never deleted: ended only, so that a past date uses the exceptions as
-- they stood then.
CREATE TABLE advisory_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    url TEXT,
    description TEXT,
    created INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    changed INTEGER NOT NULL
);
CREATE TABLE advisory_tag_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tag_id INTEGER NOT NULL REFERENCES advisory_tags (id),
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    added INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    removed INTEGER,
    removed_by TEXT
);
CREATE INDEX advisory_tag_targets_tag ON advisory_tag_targets (tag_id, removed);
CREATE TABLE advisory_exceptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    advisory TEXT,
    cve TEXT,
    package TEXT,
    version TEXT,
    site TEXT COLLATE NOCASE,
    host TEXT,
    reason TEXT NOT NULL,
    added INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    expires INTEGER,
    ended INTEGER,
    ended_by TEXT
);
-- Campaigns (schema 10): a target the sites must meet by a deadline
-- (EGI SEC03: 7 days). kind: advisory, cve, tag or requirement, target
-- its ID, CVE, tag name or "NAME OP VERSION"; system: a glob the hosts'
-- system must match (NULL: every host); closed: when closed, with the
-- status it had then (final, JSON). campaign_notices: each message sent
-- to a site (stage: notice or overdue), to whom, its Message-ID.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    system TEXT,
    start INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    created INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    closed INTEGER,
    closed_by TEXT,
    final TEXT
);
CREATE TABLE campaign_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    site TEXT NOT NULL COLLATE NOCASE,
    stage TEXT NOT NULL,
    sent INTEGER NOT NULL,
    recipients TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sent_by TEXT NOT NULL
);
CREATE INDEX campaign_notices_site ON campaign_notices (campaign_id, site, stage);
-- compare's kept row names what it holds: each host's set_report
ALTER TABLE holders_cache RENAME COLUMN tokens TO set_reports;

UPDATE schema_version SET version = 10;

-- Schema 9 -> 10: campaigns with deadlines, and the notices sent for them.
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

INSERT INTO schema_version (version) VALUES (10);

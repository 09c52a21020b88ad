-- Schema 3 -> 4: who wrote a report. Hosts get their trust (the key they
-- are pinned to) and when and from where they were made; reports their
-- signer and outcome; site keys and the quarantine are new. Existing hosts
-- are unsigned. One transaction.

BEGIN;
ALTER TABLE hosts ADD COLUMN trust TEXT NOT NULL DEFAULT 'unsigned';
ALTER TABLE hosts ADD COLUMN key_fingerprint BLOB;
ALTER TABLE hosts ADD COLUMN key_subject TEXT;
ALTER TABLE hosts ADD COLUMN pinned_at INTEGER;
ALTER TABLE hosts ADD COLUMN pinned_by TEXT;
ALTER TABLE hosts ADD COLUMN signed_ts INTEGER NOT NULL DEFAULT -1;
ALTER TABLE hosts ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
UPDATE hosts SET created = first_report;
CREATE INDEX hosts_site_created ON hosts (site, created);
CREATE INDEX hosts_sender_created ON hosts (created_by, created);
ALTER TABLE reports ADD COLUMN signer BLOB;
ALTER TABLE reports ADD COLUMN outcome TEXT NOT NULL DEFAULT 'applied';
ALTER TABLE reports ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
UPDATE reports SET outcome = 'older' WHERE applied = 0;
CREATE TABLE site_keys (
    site TEXT PRIMARY KEY,
    fingerprint BLOB NOT NULL,
    pinned_at INTEGER NOT NULL,
    pinned_by TEXT NOT NULL
);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest BLOB NOT NULL UNIQUE,
    received INTEGER NOT NULL,
    sender TEXT NOT NULL,
    site TEXT NOT NULL,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    fingerprint BLOB,
    signer_kind TEXT,
    signer_subject TEXT,
    report BLOB NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE INDEX quarantine_received ON quarantine (received);
UPDATE schema_version SET version = 4;
COMMIT;

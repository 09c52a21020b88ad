-- Schema 3 -> 4: who wrote a report. Hosts get their trust (the key they
-- are pinned to) and when and from where they were made; reports their
-- signer and outcome; site keys and the quarantine are new; site names are
-- compared without regard to case. Existing hosts are unsigned. One
-- transaction, after the collector has merged the hosts that were one host
-- under two spellings (schema.merge_duplicate_hosts).

PRAGMA foreign_keys = OFF;
BEGIN;
-- hosts is made anew: site names are now compared without regard to case
-- (the collector merged the hosts that differed only so before this file)
CREATE TABLE hosts_v4 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL,
    packager TEXT NOT NULL,
    system TEXT,
    kernel TEXT,
    arch TEXT,
    facts TEXT NOT NULL,
    set_hash BLOB,
    package_count INTEGER NOT NULL DEFAULT 0,
    first_report INTEGER NOT NULL,
    last_report INTEGER NOT NULL,
    last_received INTEGER NOT NULL,
    trust TEXT NOT NULL DEFAULT 'unsigned',
    key_fingerprint BLOB,
    key_subject TEXT,
    pinned_at INTEGER,
    pinned_by TEXT,
    signed_ts INTEGER NOT NULL DEFAULT -1,
    created INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL DEFAULT '',
    UNIQUE (site, name)
);
INSERT INTO hosts_v4 (id, site, name, packager, system, kernel, arch, facts, set_hash,
                      package_count, first_report, last_report, last_received, created)
    SELECT id, site, name, packager, system, kernel, arch, facts, set_hash, package_count,
           first_report, last_report, last_received, first_report FROM hosts;
DROP TABLE hosts;
ALTER TABLE hosts_v4 RENAME TO hosts;
CREATE INDEX hosts_name ON hosts (name);
CREATE INDEX hosts_site_created ON hosts (site, created);
CREATE INDEX hosts_sender_created ON hosts (created_by, created);
ALTER TABLE reports ADD COLUMN signer BLOB;
ALTER TABLE reports ADD COLUMN outcome TEXT NOT NULL DEFAULT 'applied';
ALTER TABLE reports ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
UPDATE reports SET outcome = 'older' WHERE applied = 0;
CREATE TABLE site_keys (
    site TEXT PRIMARY KEY COLLATE NOCASE,
    fingerprint BLOB NOT NULL,
    pinned_at INTEGER NOT NULL,
    pinned_by TEXT NOT NULL
);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest BLOB NOT NULL UNIQUE,
    received INTEGER NOT NULL,
    sender TEXT NOT NULL,
    site TEXT NOT NULL COLLATE NOCASE,
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
PRAGMA foreign_keys = ON;

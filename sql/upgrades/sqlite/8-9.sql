-- Schema 8 -> 9: the trust holes (see the MySQL upgrade). SQLite's TEXT
-- columns had no length limit: only the facts' history is new.
ALTER TABLE hosts ADD COLUMN facts_hash BLOB;
CREATE TABLE host_facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id INTEGER NOT NULL REFERENCES hosts (id),
    since INTEGER NOT NULL,
    packager TEXT NOT NULL,
    system TEXT,
    kernel TEXT,
    arch TEXT,
    facts TEXT NOT NULL
);
CREATE INDEX host_facts_host ON host_facts (host_id, since);
INSERT INTO host_facts (host_id, since, packager, system, kernel, arch, facts)
    SELECT id, last_report, packager, system, kernel, arch, facts FROM hosts;

-- Quotas (see sqlite.sql): the per-day bounds on changes, the refusals,
-- and the quarantine's bounds counted through indexes.
CREATE TABLE quota_usage (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    day INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    new_rows INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
) WITHOUT ROWID;
CREATE TABLE quota_events (
    day INTEGER NOT NULL,
    setting TEXT NOT NULL,
    site TEXT NOT NULL COLLATE NOCASE,
    host TEXT NOT NULL,
    sender TEXT NOT NULL,
    refused INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (day, setting, site, host, sender)
) WITHOUT ROWID;
CREATE INDEX quota_events_site ON quota_events (site, day);
CREATE INDEX quarantine_host ON quarantine (site, host, bytes);
CREATE INDEX quarantine_sender ON quarantine (sender, bytes);

UPDATE schema_version SET version = 9;

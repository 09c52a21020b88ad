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

UPDATE schema_version SET version = 9;

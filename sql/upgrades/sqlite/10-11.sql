-- Schema 10 -> 11: what /metrics counts, in the database so that the
-- numbers are the collector's, not one process's (see sqlite.sql): the
-- reports received by outcome and ingest time, each import of advisories,
-- and an index that counts the hosts heard of and those silent.
CREATE TABLE ingest_counts (
    writer TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    micros INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (writer, outcome, reason, bucket)
) WITHOUT ROWID;
CREATE TABLE advisory_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported INTEGER NOT NULL,
    added INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    older INTEGER NOT NULL
);
CREATE INDEX hosts_last_report ON hosts (last_report, site);

UPDATE schema_version SET version = 11;

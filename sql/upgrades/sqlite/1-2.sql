-- Schema 1 -> 2: stored baselines with their history, and the indexes the
-- fleet-wide change log and compliance at a date need.

CREATE TABLE baselines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (name, revision)
);
-- covering: compliance at a date reads no table row
CREATE INDEX installs_package_time ON installs (package_id, installed, removed, host_id);
DROP INDEX installs_package;
-- the fleet-wide change log starts from the reports that changed a set
CREATE INDEX reports_collected ON reports (collected);

UPDATE schema_version SET version = 2;

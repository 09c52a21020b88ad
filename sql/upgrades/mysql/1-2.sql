-- Schema 1 -> 2: stored baselines with their history, and the indexes the
-- fleet-wide change log and compliance at a date need.

CREATE TABLE baselines (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    revision INT NOT NULL,
    created BIGINT NOT NULL,
    text MEDIUMTEXT NOT NULL,
    UNIQUE KEY baselines_name_revision (name, revision)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- covering: compliance at a date reads no table row (it also serves the
-- package foreign key, so the old index can go)
CREATE INDEX installs_package_time ON installs (package_id, installed, removed, host_id);
DROP INDEX installs_package ON installs;
-- the fleet-wide change log starts from the reports that changed a set
CREATE INDEX reports_collected ON reports (collected);

UPDATE schema_version SET version = 2;

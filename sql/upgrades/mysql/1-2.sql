-- Schema 1 -> 2: stored baselines with their history, and the indexes the
-- fleet-wide change log needs.

CREATE TABLE baselines (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    revision INT NOT NULL,
    created BIGINT NOT NULL,
    text MEDIUMTEXT NOT NULL,
    UNIQUE KEY baselines_name_revision (name, revision)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX installs_installed ON installs (installed);
CREATE INDEX installs_removed ON installs (removed);

UPDATE schema_version SET version = 2;

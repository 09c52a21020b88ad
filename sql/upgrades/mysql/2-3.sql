-- Schema 2 -> 3: install intervals clustered by host, without a row id or
-- foreign keys, so that a new host's 1,500 rows cost one index each less
-- and a host's set is one range of the table. MySQL commits each DDL
-- statement: the new table is filled beside the old one and the two are
-- swapped in one RENAME, so an interrupted upgrade can simply be run again.

DROP TABLE IF EXISTS installs_v3;
DROP TABLE IF EXISTS installs_v2;
CREATE TABLE installs_v3 (
    host_id INT UNSIGNED NOT NULL,
    package_id INT UNSIGNED NOT NULL,
    installed BIGINT NOT NULL,
    removed BIGINT NULL,
    PRIMARY KEY (host_id, package_id, installed),
    KEY installs_package (package_id, removed, installed, host_id),
    KEY installs_host (host_id, removed, installed)
) ENGINE=InnoDB;
INSERT INTO installs_v3 (host_id, package_id, installed, removed)
    SELECT host_id, package_id, installed, removed FROM installs;
RENAME TABLE installs TO installs_v2, installs_v3 TO installs;
DROP TABLE installs_v2;

UPDATE schema_version SET version = 3;

-- Schema 2 -> 3: install intervals clustered by host, without a row id or
-- foreign keys, so that a new host's 1,500 rows cost one index each less
-- and a host's set is one range of the table. One transaction.

BEGIN;
CREATE TABLE installs_v3 (
    host_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    installed INTEGER NOT NULL,
    removed INTEGER,
    PRIMARY KEY (host_id, package_id, installed)
) WITHOUT ROWID;
INSERT INTO installs_v3 (host_id, package_id, installed, removed)
    SELECT host_id, package_id, installed, removed FROM installs;
DROP TABLE installs;
ALTER TABLE installs_v3 RENAME TO installs;
-- covering, open intervals first: who has a package now is one short range
-- (and at a past date, that range and the intervals closed since)
CREATE INDEX installs_package ON installs (package_id, removed, installed, host_id);
-- a host's open set, and what changed on it since T, as short ranges
CREATE INDEX installs_host ON installs (host_id, removed, installed);
UPDATE schema_version SET version = 3;
COMMIT;

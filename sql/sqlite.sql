-- wlcg-package-reporter collector schema, SQLite dialect, version 3.
-- Upgrades: sql/upgrades/sqlite/<from>-<to>.sql, applied by `wlcg-collector init-db`.
-- Times are Unix seconds (UTC).

CREATE TABLE schema_version (
    version INTEGER NOT NULL
);

-- One row per host (a host name is unique within its site), with the facts
-- and the package-set hash of its latest applied report.
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
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
    UNIQUE (site, name)
);
CREATE INDEX hosts_name ON hosts (name);

-- One row per distinct package build, shared by every host that has it.
-- key_hash = sha256(packager NUL name NUL version NUL arch).
CREATE TABLE packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    packager TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    arch TEXT NOT NULL,
    key_hash BLOB NOT NULL UNIQUE
);
CREATE INDEX packages_name ON packages (name);

-- Install intervals: the package was on the host from `installed` until
-- `removed` (NULL while it is still installed). Clustered by host, so a
-- host's set and history are one range of the table. No foreign keys: they
-- would cost two lookups for each of a new host's 1,500 rows; the only
-- writer adds rows in the transaction that holds the host and made the
-- package rows, and hosts and packages are never deleted.
CREATE TABLE installs (
    host_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    installed INTEGER NOT NULL,
    removed INTEGER,
    PRIMARY KEY (host_id, package_id, installed)
) WITHOUT ROWID;
-- covering, open intervals first: who has a package now is one short range
-- (and at a past date, that range and the intervals closed since)
CREATE INDEX installs_package ON installs (package_id, removed, installed, host_id);
-- a host's open set, and what changed on it since T, as short ranges
CREATE INDEX installs_host ON installs (host_id, removed, installed);

-- The audit trail: one small row per report received.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id INTEGER NOT NULL REFERENCES hosts (id),
    digest BLOB NOT NULL UNIQUE,
    received INTEGER NOT NULL,
    collected INTEGER NOT NULL,
    sender TEXT NOT NULL,
    packages INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    applied INTEGER NOT NULL
);
CREATE INDEX reports_host ON reports (host_id, collected);

-- Reference versions written by the officer; a re-added name is a new revision.
CREATE TABLE baselines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (name, revision)
);
-- the fleet-wide change log starts from the reports that changed a set
CREATE INDEX reports_collected ON reports (collected);

INSERT INTO schema_version (version) VALUES (3);

-- wlcg-package-reporter collector schema, MySQL/MariaDB dialect, version 13.
-- Upgrades: sql/upgrades/mysql/<from>-<to>.sql, applied by `wlcg-collector init-db`.
-- Times are Unix seconds (UTC). InnoDB for transactions and row locks.

-- Every table has a primary key: Galera replicates a DELETE safely only
-- through one (operators.md).
CREATE TABLE schema_version (
    version INT NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per host (a host name is unique within its site), with the facts
-- and the package-set hash of its latest applied report, and its trust (see
-- sqlite.sql).
CREATE TABLE hosts (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    name VARCHAR(255) NOT NULL,
    packager VARCHAR(8) NOT NULL,
    system VARCHAR(255),
    kernel VARCHAR(255),
    arch VARCHAR(64),
    facts TEXT NOT NULL,
    set_hash VARBINARY(32),
    package_count INT NOT NULL DEFAULT 0,
    first_report BIGINT NOT NULL,
    last_report BIGINT NOT NULL,
    last_received BIGINT NOT NULL,
    trust VARCHAR(8) NOT NULL DEFAULT 'unsigned',
    key_fingerprint VARBINARY(32) NULL,
    key_subject TEXT NULL,
    pinned_at BIGINT NULL,
    pinned_by VARCHAR(64) NULL,
    signed_ts BIGINT NOT NULL DEFAULT -1,
    created BIGINT NOT NULL DEFAULT 0,
    created_by VARCHAR(64) NOT NULL DEFAULT '',
    block_hash VARBINARY(32) NULL,
    set_report BIGINT UNSIGNED NULL,
    facts_hash VARBINARY(32) NULL,
    UNIQUE KEY hosts_site_name (site, name),
    KEY hosts_name (name),
    KEY hosts_site_created (site, created),
    KEY hosts_sender_created (created_by, created),
    KEY hosts_set_report (set_report),
    KEY hosts_last_report (last_report, site)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per distinct package build, shared by every host that has it.
-- key_hash = sha256(packager NUL name NUL version NUL arch).
CREATE TABLE packages (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    packager VARCHAR(8) NOT NULL,
    name VARCHAR(200) NOT NULL,
    version VARCHAR(200) NOT NULL,
    arch VARCHAR(32) NOT NULL,
    key_hash VARBINARY(32) NOT NULL,
    source VARCHAR(200) NULL,
    UNIQUE KEY packages_key (key_hash),
    KEY packages_name (name),
    KEY packages_source (source)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- Install intervals: the package was on the host from `installed` until
-- `removed` (NULL while it is still installed). Clustered by host, so a
-- host's set and history are one range of the table. No foreign keys: they
-- would cost two lookups for each of a new host's 1,500 rows; the only
-- writer adds rows in the transaction that holds the host and made the
-- package rows, and hosts and packages are never deleted. Times are Unix
-- seconds in INT UNSIGNED (until 2106): 4 bytes less each, in the row and
-- in both indexes. On MariaDB the table's pages are compressed when they
-- are written to disk (PAGE_COMPRESSED, zlib: a third of the space; ingest
-- and compare cost the same, `changes` about half as much again, see
-- docs/operators.md; MySQL ignores the comment).
CREATE TABLE installs (
    host_id INT UNSIGNED NOT NULL,
    package_id INT UNSIGNED NOT NULL,
    installed INT UNSIGNED NOT NULL,
    removed INT UNSIGNED NULL,
    PRIMARY KEY (host_id, package_id, installed),
    -- covering, open intervals first: who has a package now is one short range
    -- (and at a past date, that range and the intervals closed since); what
    -- changed since T over many hosts is two such ranges a package row
    -- (fleet.py). No index by host beside the primary key (schema 13): a
    -- host's rows are one range of it, and a third index entry an interval
    -- cost a new host's report a sixth of its storing.
    KEY installs_package (package_id, removed, installed, host_id)
) ENGINE=InnoDB /*M!100100 PAGE_COMPRESSED=1 */;

-- Each host's open set as one value: the ids of the package rows of its
-- open intervals, sorted, packed as 4-byte little-endian integers (schema
-- 12). A changed report is compared with it, not with the host's 1,500
-- open rows; it is written in the transaction that changes those rows,
-- by every path that does (ingest, rollback, merges, bulk loads, the
-- upgrade to 12), and a host without one has its open rows read once.
-- 6 KB a host of 1,500 packages; on MariaDB its pages are compressed as
-- those of installs are.
CREATE TABLE host_sets (
    host_id INT UNSIGNED NOT NULL PRIMARY KEY,
    ids MEDIUMBLOB NOT NULL
) ENGINE=InnoDB /*M!100100 PAGE_COMPRESSED=1 */;

-- The audit trail: one small row per report received.
CREATE TABLE reports (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    host_id INT UNSIGNED NOT NULL,
    digest VARBINARY(32) NOT NULL,
    received BIGINT NOT NULL,
    collected BIGINT NOT NULL,
    sender VARCHAR(64) NOT NULL,
    packages INT NOT NULL,
    changed TINYINT NOT NULL,
    applied TINYINT NOT NULL,
    signer VARBINARY(32) NULL,
    outcome VARCHAR(12) NOT NULL DEFAULT 'applied',
    duplicates INT NOT NULL DEFAULT 0,
    UNIQUE KEY reports_digest (digest),
    KEY reports_host (host_id, collected),
    CONSTRAINT reports_host_fk FOREIGN KEY (host_id) REFERENCES hosts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Reference versions written by the officer; a re-added name is a new revision.
CREATE TABLE baselines (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    revision INT NOT NULL,
    created BIGINT NOT NULL,
    text MEDIUMTEXT NOT NULL,
    UNIQUE KEY baselines_name_revision (name, revision)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- the fleet-wide change log starts from the reports that changed a set
CREATE INDEX reports_collected ON reports (collected);

-- A host's facts as they changed (see sqlite.sql).
CREATE TABLE host_facts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    host_id INT UNSIGNED NOT NULL,
    since BIGINT NOT NULL,
    packager VARCHAR(8) NOT NULL,
    system VARCHAR(255),
    kernel VARCHAR(255),
    arch VARCHAR(64),
    facts TEXT NOT NULL,
    KEY host_facts_host (host_id, since),
    CONSTRAINT host_facts_host_fk FOREIGN KEY (host_id) REFERENCES hosts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Site keys, pinned on first use (see sqlite.sql).
CREATE TABLE site_keys (
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci PRIMARY KEY,
    fingerprint VARBINARY(32) NOT NULL,
    pinned_at BIGINT NOT NULL,
    pinned_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Reports kept aside until the officer accepts or drops them (see sqlite.sql).
CREATE TABLE quarantine (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    digest VARBINARY(32) NOT NULL,
    received BIGINT NOT NULL,
    sender VARCHAR(64) NOT NULL,
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    host VARCHAR(255) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    reason VARCHAR(255) NOT NULL,
    fingerprint VARBINARY(32) NULL,
    signer_kind VARCHAR(8) NULL,
    signer_subject TEXT NULL,
    report MEDIUMBLOB NOT NULL,
    bytes INT NOT NULL,
    UNIQUE KEY quarantine_digest (digest),
    KEY quarantine_received (received)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Security advisories as imported (see sqlite.sql).
CREATE TABLE advisories (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ident VARCHAR(100) NOT NULL,
    format VARCHAR(16) NOT NULL,
    severity VARCHAR(10) NOT NULL,
    title VARCHAR(500) NOT NULL,
    published BIGINT NULL,
    modified BIGINT NULL,
    first_seen BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    revision INT NOT NULL,
    digest VARBINARY(32) NOT NULL,
    content MEDIUMTEXT NOT NULL,
    UNIQUE KEY advisories_ident (ident),
    KEY advisories_published (published)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE advisory_cves (
    advisory_id INT UNSIGNED NOT NULL,
    cve VARCHAR(32) NOT NULL,
    PRIMARY KEY (advisory_id, cve),
    KEY advisory_cves_cve (cve)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

CREATE TABLE advisory_packages (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    advisory_id INT UNSIGNED NOT NULL,
    stream VARCHAR(64) NOT NULL,
    name VARCHAR(200) NOT NULL,
    kind VARCHAR(8) NOT NULL,
    arch VARCHAR(32) NULL,
    module VARCHAR(200) NULL,
    introduced VARCHAR(200) NULL,
    fixed VARCHAR(200) NULL,
    last_affected VARCHAR(200) NULL,
    pro TINYINT NOT NULL DEFAULT 0,
    KEY advisory_packages_advisory (advisory_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

CREATE TABLE advisory_revisions (
    advisory_id INT UNSIGNED NOT NULL,
    revision INT NOT NULL,
    modified BIGINT NULL,
    stored BIGINT NOT NULL,
    replaced BIGINT NOT NULL,
    content MEDIUMTEXT NOT NULL,
    PRIMARY KEY (advisory_id, revision)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The sites the officer expects, each import of the list, renames and
-- merges, and the names they made aliases (see sqlite.sql).
CREATE TABLE sites (
    name VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci PRIMARY KEY,
    status VARCHAR(8) NOT NULL,
    tier TINYINT UNSIGNED NULL,
    country VARCHAR(100) NULL,
    gocdb VARCHAR(100) NULL COLLATE utf8mb4_general_ci,
    state VARCHAR(100) NULL,
    source VARCHAR(255) NOT NULL,
    since BIGINT NOT NULL,
    changed BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE site_lists (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    imported BIGINT NOT NULL,
    source VARCHAR(255) NOT NULL,
    format VARCHAR(8) NOT NULL,
    sites INT NOT NULL,
    added INT NOT NULL,
    retired INT NOT NULL,
    imported_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE site_renames (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    done BIGINT NOT NULL,
    kind VARCHAR(8) NOT NULL,
    old_name VARCHAR(100) NOT NULL,
    new_name VARCHAR(100) NOT NULL,
    hosts INT NOT NULL,
    merged INT NOT NULL,
    reports BIGINT NOT NULL,
    intervals BIGINT NOT NULL,
    done_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE site_aliases (
    alias VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci PRIMARY KEY,
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    rename_id INT UNSIGNED NOT NULL,
    KEY site_aliases_site (site)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- compare's holders of a baseline's packages now, kept between runs (see
-- sqlite.sql).
CREATE TABLE holders_cache (
    names_hash VARBINARY(32) NOT NULL PRIMARY KEY,
    moves VARCHAR(40) NOT NULL,
    computed BIGINT NOT NULL,
    set_reports MEDIUMBLOB NOT NULL,
    holders LONGBLOB NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Quotas: what the per-day bounds on changes count, the refusals, and
-- the indexes the quarantine's bounds count through (see sqlite.sql).
CREATE TABLE quota_usage (
    scope VARCHAR(8) NOT NULL,
    name VARCHAR(100) NOT NULL,
    day BIGINT NOT NULL,
    reports INT NOT NULL,
    new_rows BIGINT NOT NULL,
    PRIMARY KEY (scope, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE quota_events (
    day BIGINT NOT NULL,
    setting VARCHAR(40) NOT NULL,
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    host VARCHAR(255) NOT NULL,
    sender VARCHAR(64) NOT NULL,
    refused INT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (day, setting, site, host, sender),
    KEY quota_events_site (site, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX quarantine_host ON quarantine (site, host, bytes);
CREATE INDEX quarantine_sender ON quarantine (sender, bytes);

-- Site contacts from GOCDB (`sites contacts import`; see sqlite.sql).
CREATE TABLE contact_imports (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    imported BIGINT NOT NULL,
    source VARCHAR(255) NOT NULL,
    layout VARCHAR(32) NOT NULL,
    sites INT NOT NULL,
    contacts INT NOT NULL,
    skipped INT NOT NULL,
    imported_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE site_contacts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    role VARCHAR(100) NOT NULL,
    forename VARCHAR(100) NULL,
    surname VARCHAR(100) NULL,
    email VARCHAR(255) NOT NULL,
    certdn VARCHAR(500) NULL,
    import_id INT UNSIGNED NOT NULL,
    KEY site_contacts_site (site)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE site_csirts (
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    import_id INT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Tags and exceptions for advisories (see sqlite.sql).
CREATE TABLE advisory_tags (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL COLLATE utf8mb4_general_ci,
    url VARCHAR(500) NULL,
    description VARCHAR(1000) NULL,
    created BIGINT NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    changed BIGINT NOT NULL,
    UNIQUE KEY advisory_tags_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE advisory_tag_targets (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tag_id INT UNSIGNED NOT NULL,
    kind VARCHAR(8) NOT NULL,
    target VARCHAR(100) NOT NULL,
    added BIGINT NOT NULL,
    added_by VARCHAR(64) NOT NULL,
    removed BIGINT NULL,
    removed_by VARCHAR(64) NULL,
    KEY advisory_tag_targets_tag (tag_id, removed),
    CONSTRAINT advisory_tag_targets_tag_fk FOREIGN KEY (tag_id) REFERENCES advisory_tags (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE advisory_exceptions (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    advisory VARCHAR(100) NULL,
    cve VARCHAR(32) NULL,
    package VARCHAR(200) NULL,
    version VARCHAR(200) NULL,
    site VARCHAR(100) NULL COLLATE utf8mb4_general_ci,
    host VARCHAR(255) NULL,
    reason VARCHAR(1000) NOT NULL,
    added BIGINT NOT NULL,
    added_by VARCHAR(64) NOT NULL,
    expires BIGINT NULL,
    ended BIGINT NULL,
    ended_by VARCHAR(64) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Campaigns (schema 10; see sqlite.sql).
CREATE TABLE campaigns (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    kind VARCHAR(12) NOT NULL,
    target VARCHAR(500) NOT NULL,
    system VARCHAR(255) NULL,
    start BIGINT NOT NULL,
    deadline BIGINT NOT NULL,
    created BIGINT NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    closed BIGINT NULL,
    closed_by VARCHAR(64) NULL,
    final MEDIUMTEXT NULL,
    UNIQUE KEY campaigns_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE campaign_notices (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    campaign_id INT UNSIGNED NOT NULL,
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    stage VARCHAR(16) NOT NULL,
    sent BIGINT NOT NULL,
    recipients TEXT NOT NULL,
    message_id VARCHAR(255) NOT NULL,
    sent_by VARCHAR(64) NOT NULL,
    KEY campaign_notices_site (campaign_id, site, stage),
    CONSTRAINT campaign_notices_campaign_fk FOREIGN KEY (campaign_id) REFERENCES campaigns (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- What /metrics counts (schema 11; see sqlite.sql).
CREATE TABLE ingest_counts (
    writer VARCHAR(16) NOT NULL,
    outcome VARCHAR(12) NOT NULL,
    reason VARCHAR(20) NOT NULL,
    bucket INT NOT NULL,
    reports BIGINT UNSIGNED NOT NULL,
    micros BIGINT UNSIGNED NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (writer, outcome, reason, bucket)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
CREATE TABLE advisory_imports (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    imported BIGINT NOT NULL,
    added INT NOT NULL,
    updated INT NOT NULL,
    unchanged INT NOT NULL,
    older INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO schema_version (version) VALUES (13);

-- Schema 4 -> 5: security advisories, and the source package a package
-- row was built from (see sql/upgrades/sqlite/4-5.sql). MySQL commits each
-- ALTER TABLE and CREATE TABLE: an interrupted upgrade fails on the first
-- one that exists when run again; finish the rest by hand.

ALTER TABLE packages ADD COLUMN source VARCHAR(200) NULL AFTER key_hash,
    ADD KEY packages_source (source);
ALTER TABLE hosts ADD COLUMN block_hash VARBINARY(32) NULL,
    ADD COLUMN set_report BIGINT UNSIGNED NULL, ADD KEY hosts_set_report (set_report);
-- Interval times in 4 bytes (Unix seconds until 2106), and on MariaDB the
-- table's pages compressed on disk: this rewrites the install table, which
-- takes a while on a large store: stop ingest while it runs.
ALTER TABLE installs MODIFY installed INT UNSIGNED NOT NULL, MODIFY removed INT UNSIGNED NULL
    /*M!100100 , PAGE_COMPRESSED=1 */;

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
UPDATE schema_version SET version = 5;

-- Schema 9 -> 10: site contacts from GOCDB (`sites contacts import`), and
-- tags and exceptions for advisories, campaigns with deadlines and the
-- notices sent for them.
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
-- compare's kept row names what it holds: each host's set_report
ALTER TABLE holders_cache CHANGE tokens set_reports MEDIUMBLOB NOT NULL;

UPDATE schema_version SET version = 10;

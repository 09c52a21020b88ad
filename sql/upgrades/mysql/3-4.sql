-- Schema 3 -> 4: who wrote a report, and site names compared without regard
-- to case (see sql/upgrades/sqlite/3-4.sql; the collector merges the hosts
-- that were one host under two spellings first).
-- MySQL commits each ALTER TABLE: run again, an interrupted upgrade fails on
-- the first column that exists; restore the backup taken before, or finish
-- the remaining statements by hand.

ALTER TABLE hosts
    MODIFY site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci,
    ADD COLUMN trust VARCHAR(8) NOT NULL DEFAULT 'unsigned',
    ADD COLUMN key_fingerprint VARBINARY(32) NULL,
    ADD COLUMN key_subject VARCHAR(255) NULL,
    ADD COLUMN pinned_at BIGINT NULL,
    ADD COLUMN pinned_by VARCHAR(64) NULL,
    ADD COLUMN signed_ts BIGINT NOT NULL DEFAULT -1,
    ADD COLUMN created BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN created_by VARCHAR(64) NOT NULL DEFAULT '',
    ADD KEY hosts_site_created (site, created),
    ADD KEY hosts_sender_created (created_by, created);
UPDATE hosts SET created = first_report;
ALTER TABLE reports
    ADD COLUMN signer VARBINARY(32) NULL,
    ADD COLUMN outcome VARCHAR(12) NOT NULL DEFAULT 'applied',
    ADD COLUMN duplicates INT NOT NULL DEFAULT 0;
UPDATE reports SET outcome = 'older' WHERE applied = 0;
CREATE TABLE site_keys (
    site VARCHAR(100) NOT NULL COLLATE utf8mb4_general_ci PRIMARY KEY,
    fingerprint VARBINARY(32) NOT NULL,
    pinned_at BIGINT NOT NULL,
    pinned_by VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
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
    signer_subject VARCHAR(255) NULL,
    report MEDIUMBLOB NOT NULL,
    bytes INT NOT NULL,
    UNIQUE KEY quarantine_digest (digest),
    KEY quarantine_received (received)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
UPDATE schema_version SET version = 4;

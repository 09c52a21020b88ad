-- Schema 9 -> 10: campaigns with deadlines, and the notices sent for them.
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

INSERT INTO schema_version (version) VALUES (10);

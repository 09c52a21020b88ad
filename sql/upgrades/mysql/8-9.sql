-- Schema 8 -> 9: the trust holes.
-- A host's facts get a history (host_facts), so that a rollback takes a
-- forged `system:` away with the forged packages; each host starts with
-- the facts it has now, dated from its latest report (what was before is
-- not known). facts_hash is filled by the next report that brings facts.
ALTER TABLE hosts ADD COLUMN facts_hash VARBINARY(32) NULL;
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
INSERT INTO host_facts (host_id, since, packager, system, kernel, arch, facts)
    SELECT id, last_report, packager, system, kernel, arch, facts FROM hosts;
-- a grid host certificate's subject may be longer than 255 characters
ALTER TABLE hosts MODIFY key_subject TEXT NULL;
ALTER TABLE quarantine MODIFY signer_subject TEXT NULL;

-- Quotas (see sqlite.sql): the per-day bounds on changes, the refusals,
-- and the quarantine's bounds counted through indexes.
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

UPDATE schema_version SET version = 9;

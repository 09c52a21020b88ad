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

UPDATE schema_version SET version = 9;

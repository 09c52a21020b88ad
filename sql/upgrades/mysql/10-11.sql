-- Schema 10 -> 11: what /metrics counts, in the database so that the
-- numbers are the collector's, not one process's (see sqlite.sql): the
-- reports received by outcome and ingest time, each import of advisories,
-- and an index that counts the hosts heard of and those silent.
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
ALTER TABLE hosts ADD KEY hosts_last_report (last_report, site);

UPDATE schema_version SET version = 11;

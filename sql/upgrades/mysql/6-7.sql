-- Schema 6 -> 7: compare's holders kept between runs.

-- compare's holders of a baseline's packages now, kept between runs (see
-- sqlite.sql).
CREATE TABLE holders_cache (
    names_hash VARBINARY(32) NOT NULL PRIMARY KEY,
    moves VARCHAR(40) NOT NULL,
    computed BIGINT NOT NULL,
    tokens MEDIUMBLOB NOT NULL,
    holders LONGBLOB NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

UPDATE schema_version SET version = 7;

-- Schema 11 -> 12: each host's open set as one value (see mysql.sql), so
-- that a changed report is compared with it, not with the host's open
-- rows. The collector fills it in for every host right after this file
-- (schema.py: open_sets.rebuild_all), as SQLite's upgrade does.
CREATE TABLE host_sets (
    host_id INT UNSIGNED NOT NULL PRIMARY KEY,
    ids MEDIUMBLOB NOT NULL
) ENGINE=InnoDB /*M!100100 PAGE_COMPRESSED=1 */;

UPDATE schema_version SET version = 12;

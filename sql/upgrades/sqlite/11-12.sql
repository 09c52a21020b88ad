-- Schema 11 -> 12: each host's open set as one value (see sqlite.sql),
-- so that a changed report is compared with it, not with the host's open
-- rows. The collector fills it in for every host right after this file
-- (schema.py: open_sets.rebuild_all), in Python: SQLite has no function
-- that packs integers.
CREATE TABLE host_sets (
    host_id INTEGER PRIMARY KEY,
    ids BLOB NOT NULL
);

UPDATE schema_version SET version = 12;

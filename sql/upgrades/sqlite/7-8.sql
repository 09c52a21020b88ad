-- Schema 7 -> 8: on MySQL/MariaDB every table gets a primary key (Galera
-- needs one). Every SQLite row has its rowid already: nothing else changes.

UPDATE schema_version SET version = 8;

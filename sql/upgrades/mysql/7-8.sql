-- Schema 7 -> 8: a primary key on every table. Galera replicates a DELETE
-- safely only on a table that has one, and keeps the rows of a table
-- without one in a different order on each node (operators.md); advisory
-- updates delete an advisory's package rows.
ALTER TABLE schema_version ADD PRIMARY KEY (version);
ALTER TABLE advisory_packages
    ADD COLUMN id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST;

UPDATE schema_version SET version = 8;

-- Schema 12 -> 13: installs loses its index by host (host_id, removed,
-- installed). A host's rows are one range of the primary key; what changed
-- since T over many hosts is read by package row (installs_package), and
-- every interval a report opens or closes costs one index entry less.
-- Dropping a secondary index is in place: no copy of the table. MariaDB and
-- MySQL commit the ALTER on their own: it is made only if the index is
-- there (and on MariaDB, IF EXISTS: two init-db at once), so that an
-- upgrade stopped between the two statements runs again
-- (MySQL has no DROP INDEX IF EXISTS).
SET @drop_installs_host = (SELECT IF(COUNT(*) > 0,
    'ALTER TABLE installs DROP INDEX /*M!100005 IF EXISTS */ installs_host', 'DO 0')
    FROM information_schema.statistics WHERE table_schema = DATABASE()
    AND table_name = 'installs' AND index_name = 'installs_host');
PREPARE drop_installs_host FROM @drop_installs_host;
EXECUTE drop_installs_host;
DEALLOCATE PREPARE drop_installs_host;

UPDATE schema_version SET version = 13;

-- Schema 12 -> 13: installs loses its index by host (host_id, removed,
-- installed). A host's rows are one range of the primary key; what changed
-- since T over many hosts is read by package row (installs_package), and
-- every interval a report opens or closes costs one index entry less.
DROP INDEX IF EXISTS installs_host;

UPDATE schema_version SET version = 13;

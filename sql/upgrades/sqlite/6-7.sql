-- Schema 6 -> 7: compare's holders kept between runs.
BEGIN;

-- What compare worked out of who holds a baseline's packages now, kept
-- between runs: per package row of the names (names_hash: sha256 of them,
-- sorted, one a line), the hosts for which it is the newest row of its
-- name and arch, and (tokens) each host's set_report when it was read
-- (zlib-compressed). A host whose set_report differs now is read again,
-- and the whole fleet when sites were renamed or merged since (moves).
-- Only a cache: deleting its rows loses nothing.
CREATE TABLE holders_cache (
    names_hash BLOB PRIMARY KEY,
    moves TEXT NOT NULL,
    computed INTEGER NOT NULL,
    tokens BLOB NOT NULL,
    holders BLOB NOT NULL
);

UPDATE schema_version SET version = 7;
COMMIT;

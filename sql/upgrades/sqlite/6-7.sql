-- Schema 6 -> 7: compare's holders kept between runs.
BEGIN;

-- What compare worked out of who holds a baseline's packages now, kept
-- between runs: per package row of the names (names_hash: sha256 of them,
-- sorted, one a line), a bitmap of the hosts for which it is the newest
-- row of its name and arch, and each site's token of its hosts' sets when
-- it was read (zlib-compressed). A site whose token differs now is
-- worked out again, and the whole when sites were renamed or merged since
-- (moves). Only a cache: deleting its rows loses nothing.
CREATE TABLE holders_cache (
    names_hash BLOB PRIMARY KEY,
    moves TEXT NOT NULL,
    computed INTEGER NOT NULL,
    tokens BLOB NOT NULL,
    holders BLOB NOT NULL
);

UPDATE schema_version SET version = 7;
COMMIT;

-- Schema 5 -> 6: the official list of sites, renames and merges.
BEGIN;

-- The sites the officer expects (`sites import`): status listed (on the
-- latest list), retired (on an earlier list, gone from the latest: kept,
-- never deleted) or accepted (not on the list, accepted by the officer
-- from the quarantine). tier, country, gocdb (the site's GOCDB name when
-- the list gives another) and state as the list gives them; source: the
-- list (file or URL) it last came from; since: when it got its status.
CREATE TABLE sites (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    status TEXT NOT NULL,
    tier INTEGER,
    country TEXT,
    gocdb TEXT COLLATE NOCASE,
    state TEXT,
    source TEXT NOT NULL,
    since INTEGER NOT NULL,
    changed INTEGER NOT NULL
);

-- Each import of the list: when, from where, by whom, and what it changed.
CREATE TABLE site_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported INTEGER NOT NULL,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    sites INTEGER NOT NULL,
    added INTEGER NOT NULL,
    retired INTEGER NOT NULL,
    imported_by TEXT NOT NULL
);

-- Renames and merges of sites (`sites rename`, `sites merge`), as the
-- officer lists them: the hosts moved, how many of them were merged into a
-- host of the same name at the new site, and the reports and intervals
-- that moved with them.
CREATE TABLE site_renames (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    done INTEGER NOT NULL,
    kind TEXT NOT NULL,
    old_name TEXT NOT NULL,
    new_name TEXT NOT NULL,
    hosts INTEGER NOT NULL,
    merged INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    intervals INTEGER NOT NULL,
    done_by TEXT NOT NULL
);

-- A name renamed or merged away: reports that still carry it are stored
-- under the site it became (and their reporter is told).
CREATE TABLE site_aliases (
    alias TEXT PRIMARY KEY COLLATE NOCASE,
    site TEXT NOT NULL COLLATE NOCASE,
    rename_id INTEGER NOT NULL
);
CREATE INDEX site_aliases_site ON site_aliases (site);

UPDATE schema_version SET version = 6;
COMMIT;

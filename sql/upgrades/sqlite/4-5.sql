-- Schema 4 -> 5: security advisories, the source package a package row was
-- built from (reports of format version 2 name it), and each host's latest
-- package block's hash (a block sent again is not parsed again). One
-- transaction.

BEGIN;
ALTER TABLE packages ADD COLUMN source TEXT;
CREATE INDEX packages_source ON packages (source);
ALTER TABLE hosts ADD COLUMN block_hash BLOB;
ALTER TABLE hosts ADD COLUMN set_report INTEGER;
CREATE INDEX hosts_set_report ON hosts (set_report);

-- Security advisories as imported (advisories/formats.py reads the feeds):
-- ident is the vendor's id; content the normalised advisory as JSON (what
-- `advisories show` prints); digest the sha256 of content without
-- `modified`: the same advisory imported again changes nothing. published
-- and modified are the vendor's (NULL: not given); first_seen when this
-- collector first imported it, changed when it stored this revision.
CREATE TABLE advisories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ident TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    published INTEGER,
    modified INTEGER,
    first_seen INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    digest BLOB NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX advisories_published ON advisories (published);

-- The CVEs an advisory fixes.
CREATE TABLE advisory_cves (
    advisory_id INTEGER NOT NULL,
    cve TEXT NOT NULL,
    PRIMARY KEY (advisory_id, cve)
) WITHOUT ROWID;
CREATE INDEX advisory_cves_cve ON advisory_cves (cve);

-- What an advisory says is affected: one row per OS stream, package name
-- (kind binary or source) and range (see advisories/records.py Affected).
CREATE TABLE advisory_packages (
    advisory_id INTEGER NOT NULL,
    stream TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    arch TEXT,
    module TEXT,
    introduced TEXT,
    fixed TEXT,
    last_affected TEXT,
    pro INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX advisory_packages_advisory ON advisory_packages (advisory_id);

-- Earlier revisions of an advisory, kept when an update replaced them.
CREATE TABLE advisory_revisions (
    advisory_id INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    modified INTEGER,
    stored INTEGER NOT NULL,
    replaced INTEGER NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (advisory_id, revision)
);
UPDATE schema_version SET version = 5;
COMMIT;

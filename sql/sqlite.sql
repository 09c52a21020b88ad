-- wlcg-package-reporter collector schema, SQLite dialect, version 13.
-- Upgrades: sql/upgrades/sqlite/<from>-<to>.sql, applied by `wlcg-collector init-db`.
-- Times are Unix seconds (UTC).

CREATE TABLE schema_version (
    version INTEGER NOT NULL
);

-- One row per host (a host name is unique within its site; site names are
-- compared without regard to case, as the grid's are), with the facts
-- and the package-set hash of its latest applied report, and its trust:
-- unsigned (anyone could have written its rows), pinned (to its own key,
-- key_fingerprint = sha256 of the public key), site (to its site's key) or
-- verified (a grid host certificate; key_fingerprint = sha256 of the
-- subject, key_subject the subject). signed_ts: the ts of its latest
-- applied signed report. created/created_by: when and from where the row
-- was made (the new-host quotas count them). block_hash: the sha256 of the
-- latest package block as sent (a block sent again byte for byte is the
-- same set, validated when first stored: it is not parsed again).
-- set_report: the id of the report that made the host's present set (after
-- a rollback, the last report still applied that changed it); it changes
-- whenever the set does, which is how a cached summary, and compare's
-- cached holders, know they still hold. facts_hash: the sha256 of the
-- facts without ts (see host_facts), which changes only when they do.
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL,
    packager TEXT NOT NULL,
    system TEXT,
    kernel TEXT,
    arch TEXT,
    facts TEXT NOT NULL,
    set_hash BLOB,
    package_count INTEGER NOT NULL DEFAULT 0,
    first_report INTEGER NOT NULL,
    last_report INTEGER NOT NULL,
    last_received INTEGER NOT NULL,
    trust TEXT NOT NULL DEFAULT 'unsigned',
    key_fingerprint BLOB,
    key_subject TEXT,
    pinned_at INTEGER,
    pinned_by TEXT,
    signed_ts INTEGER NOT NULL DEFAULT -1,
    created INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL DEFAULT '',
    block_hash BLOB,
    set_report INTEGER,
    facts_hash BLOB,
    UNIQUE (site, name)
);
CREATE INDEX hosts_name ON hosts (name);
CREATE INDEX hosts_site_created ON hosts (site, created);
CREATE INDEX hosts_sender_created ON hosts (created_by, created);
CREATE INDEX hosts_set_report ON hosts (set_report);
-- the hosts heard of, those silent since T and their sites, counted in an
-- index (/metrics; schema 11)
CREATE INDEX hosts_last_report ON hosts (last_report, site);

-- One row per distinct package build, shared by every host that has it.
-- key_hash = sha256(packager NUL name NUL version NUL arch). source: the
-- source package it was built from, as the first report that named it said
-- (NULL: not known; pakiti-client does not say).
CREATE TABLE packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    packager TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    arch TEXT NOT NULL,
    key_hash BLOB NOT NULL UNIQUE,
    source TEXT
);
CREATE INDEX packages_name ON packages (name);
-- the rows built from a source package an advisory names
CREATE INDEX packages_source ON packages (source);

-- Install intervals: the package was on the host from `installed` until
-- `removed` (NULL while it is still installed). Clustered by host, so a
-- host's set and history are one range of the table. No foreign keys: they
-- would cost two lookups for each of a new host's 1,500 rows; the only
-- writer adds rows in the transaction that holds the host and made the
-- package rows, and hosts and packages are never deleted.
CREATE TABLE installs (
    host_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    installed INTEGER NOT NULL,
    removed INTEGER,
    PRIMARY KEY (host_id, package_id, installed)
) WITHOUT ROWID;
-- covering, open intervals first: who has a package now is one short range
-- (and at a past date, that range and the intervals closed since); what
-- changed since T over many hosts is two such ranges a package row
-- (fleet.py). No index by host beside the primary key (schema 13): a host's
-- rows are one range of it, and a third index entry an interval cost a new
-- host's report a sixth of its storing.
CREATE INDEX installs_package ON installs (package_id, removed, installed, host_id);

-- Each host's open set as one value: the ids of the package rows of its
-- open intervals, sorted, packed as 4-byte little-endian integers (schema
-- 12). A changed report is compared with it, not with the host's 1,500
-- open rows; it is written in the transaction that changes those rows,
-- by every path that does (ingest, rollback, merges, bulk loads, the
-- upgrade to 12), and a host without one has its open rows read once.
CREATE TABLE host_sets (
    host_id INTEGER PRIMARY KEY,
    ids BLOB NOT NULL
);

-- The audit trail: one small row per report received. signer: the sha256
-- of the signing key (NULL: unsigned); outcome: applied, older (than the
-- host's latest), replayed (a signed ts not newer than the host's latest
-- signed one) or rolled back; duplicates: how many times the same report
-- came again (a retry: counted, nothing else changes).
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id INTEGER NOT NULL REFERENCES hosts (id),
    digest BLOB NOT NULL UNIQUE,
    received INTEGER NOT NULL,
    collected INTEGER NOT NULL,
    sender TEXT NOT NULL,
    packages INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    applied INTEGER NOT NULL,
    signer BLOB,
    outcome TEXT NOT NULL DEFAULT 'applied',
    duplicates INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reports_host ON reports (host_id, collected);

-- Reference versions written by the officer; a re-added name is a new revision.
CREATE TABLE baselines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (name, revision)
);
-- the fleet-wide change log starts from the reports that changed a set
CREATE INDEX reports_collected ON reports (collected);

-- A host's facts (packager, system, kernel, arch and every header but ts)
-- as they changed: one row from the report (collected at `since`) whose
-- facts differed from the ones before; it grows with changes, not with
-- reports. A rollback to T gives the host the facts of its last row at or
-- before T, and deletes the rows after T, as it does the intervals opened
-- after T (a forged `system:` goes with the forged packages).
CREATE TABLE host_facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id INTEGER NOT NULL REFERENCES hosts (id),
    since INTEGER NOT NULL,
    packager TEXT NOT NULL,
    system TEXT,
    kernel TEXT,
    arch TEXT,
    facts TEXT NOT NULL
);
CREATE INDEX host_facts_host ON host_facts (host_id, since);

-- Site keys, pinned on first use: a host of the site signed with it needs
-- no review of its own key.
CREATE TABLE site_keys (
    site TEXT PRIMARY KEY COLLATE NOCASE,
    fingerprint BLOB NOT NULL,
    pinned_at INTEGER NOT NULL,
    pinned_by TEXT NOT NULL
);

-- Reports kept aside, not applied, until the officer accepts or drops them:
-- signed by another key than the pinned one, or unsigned for a host with a
-- pinned key. report: the verified plaintext.
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest BLOB NOT NULL UNIQUE,
    received INTEGER NOT NULL,
    sender TEXT NOT NULL,
    site TEXT NOT NULL COLLATE NOCASE,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    fingerprint BLOB,
    signer_kind TEXT,
    signer_subject TEXT,
    report BLOB NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE INDEX quarantine_received ON quarantine (received);

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

-- What compare worked out of who holds a baseline's packages now, kept
-- between runs: per package row of the names (names_hash: sha256 of them,
-- sorted, one a line), the hosts for which it is the newest row of its
-- name and arch, and (set_reports) each host's set_report when it was read
-- (zlib-compressed). A host whose set_report differs now is read again,
-- and the whole fleet when sites were renamed or merged since (moves).
-- Only a cache: deleting its rows loses nothing.
CREATE TABLE holders_cache (
    names_hash BLOB PRIMARY KEY,
    moves TEXT NOT NULL,
    computed INTEGER NOT NULL,
    set_reports BLOB NOT NULL,
    holders BLOB NOT NULL
);

-- Quotas (wlcg_collector/db/quotas.py). quota_usage: what the per-day
-- bounds on changes count, per host (name: its id), sender and site (name
-- in lower case, only reports that prove nothing): the changed reports and
-- the install intervals they opened on the UTC day `day` (a row of an
-- earlier day counts as nothing and starts again). quota_events: the
-- reports a bound (setting: its [collector] setting) refused on a UTC day,
-- per site, host and sender ('' for a bound of the site or sender, and
-- past the rows a day keeps apart), with the first and last time; kept 90
-- days. The quarantine's bounds count through the two indexes (bytes in
-- them: the reports' text is never read).
CREATE TABLE quota_usage (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    day INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    new_rows INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
) WITHOUT ROWID;
CREATE TABLE quota_events (
    day INTEGER NOT NULL,
    setting TEXT NOT NULL,
    site TEXT NOT NULL COLLATE NOCASE,
    host TEXT NOT NULL,
    sender TEXT NOT NULL,
    refused INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (day, setting, site, host, sender)
) WITHOUT ROWID;
CREATE INDEX quota_events_site ON quota_events (site, day);
CREATE INDEX quarantine_host ON quarantine (site, host, bytes);
CREATE INDEX quarantine_sender ON quarantine (sender, bytes);

-- Site contacts from GOCDB (`sites contacts import`). contact_imports:
-- each import, of either of GOCDB's answers (layout: get_site_contacts or
-- get_site_security_info), with the sites and contacts it stored and the
-- entries it skipped. site_contacts: per site, one row for each site-level
-- role a person holds (get_site_contacts); site_csirts: per site, its CSIRT
-- address (get_site_security_info). An import replaces the rows of its
-- layout for the sites the answer names, under the names the list of
-- sites spells them (import_id: the import they came from).
CREATE TABLE contact_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported INTEGER NOT NULL,
    source TEXT NOT NULL,
    layout TEXT NOT NULL,
    sites INTEGER NOT NULL,
    contacts INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE TABLE site_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL,
    forename TEXT,
    surname TEXT,
    email TEXT NOT NULL,
    certdn TEXT,
    import_id INTEGER NOT NULL
);
CREATE INDEX site_contacts_site ON site_contacts (site);
CREATE TABLE site_csirts (
    site TEXT PRIMARY KEY COLLATE NOCASE,
    email TEXT NOT NULL,
    import_id INTEGER NOT NULL
);
-- Tags and exceptions for advisories (`tags`, `exceptions`). A tag
-- (name unique without regard to case; url and description for the
-- officer) names advisories and CVEs: advisory_tag_targets, kind
-- 'advisory' (target: its ident) or 'cve' (a CVE: every advisory naming
-- it, those imported later too, resolved when asked). A target is never
-- deleted: unapplied, it gets removed and removed_by, so that a tag can be
-- read as it stood at a past time. An exception says that what one
-- advisory or CVE finds does not apply here, narrowed by package, version
-- (needs package), site and host; reason, who added it and when; in force
-- from added until expires (NULL: no end) or until ended (by ended_by).
-- Never deleted: ended only, so that a past date uses the exceptions as
-- they stood then.
CREATE TABLE advisory_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    url TEXT,
    description TEXT,
    created INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    changed INTEGER NOT NULL
);
CREATE TABLE advisory_tag_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tag_id INTEGER NOT NULL REFERENCES advisory_tags (id),
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    added INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    removed INTEGER,
    removed_by TEXT
);
CREATE INDEX advisory_tag_targets_tag ON advisory_tag_targets (tag_id, removed);
CREATE TABLE advisory_exceptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    advisory TEXT,
    cve TEXT,
    package TEXT,
    version TEXT,
    site TEXT COLLATE NOCASE,
    host TEXT,
    reason TEXT NOT NULL,
    added INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    expires INTEGER,
    ended INTEGER,
    ended_by TEXT
);
-- Campaigns (schema 10): a target the sites must meet by a deadline
-- (EGI SEC03: 7 days). kind: advisory, cve, tag or requirement, target
-- its ID, CVE, tag name or "NAME OP VERSION"; system: a glob the hosts'
-- system must match (NULL: every host); closed: when closed, with the
-- status it had then (final, JSON). campaign_notices: each message sent
-- to a site (stage: notice or overdue), to whom, its Message-ID.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    system TEXT,
    start INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    created INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    closed INTEGER,
    closed_by TEXT,
    final TEXT
);
CREATE TABLE campaign_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    site TEXT NOT NULL COLLATE NOCASE,
    stage TEXT NOT NULL,
    sent INTEGER NOT NULL,
    recipients TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sent_by TEXT NOT NULL
);
CREATE INDEX campaign_notices_site ON campaign_notices (campaign_id, site, stage);
-- What /metrics counts (schema 11), in the database so that the numbers
-- are the collector's, not one process's. ingest_counts: the reports
-- received, per writer (a random token of one thread of one collector
-- process: no two processes, nor two threads, ever write one row; '' is
-- the base, where the rows of writers not heard of for a while are
-- folded), outcome (what storing one answered, or rejected with its
-- reason, or failed), bucket (the upper bound, in ms, of the time ingest
-- took: -1 for a report refused before ingest began): how many, their
-- times' sum in microseconds, and when the row was last written (Unix
-- time). A report stored is counted in its own transaction; the others in
-- the process, written at most once a second. Only ever added to: a
-- rollback, an accepted or dropped quarantine entry changes no count, and
-- a fold moves counts to the base in one transaction. advisory_imports:
-- each import of advisories (a batch of a feed at a time): when, and what
-- it did.
CREATE TABLE ingest_counts (
    writer TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    micros INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (writer, outcome, reason, bucket)
) WITHOUT ROWID;
CREATE TABLE advisory_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported INTEGER NOT NULL,
    added INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    older INTEGER NOT NULL
);

INSERT INTO schema_version (version) VALUES (13);

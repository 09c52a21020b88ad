"""The SQL both dialects share, written once. Each dialect module (sqlite.py,
mysql.py) subclasses SharedSQL with its own text for the statements that
differ, and compiles the lot once, at import.

A statement writes {p} where a parameter goes (a status word too: never a
literal); the dialect's compile function puts its own placeholder there
and changes nothing else: a '?' or '%' inside an SQL literal stays. Some statements also hold
{marks} (a list of placeholders, see Database.marks), {where} or {table},
filled in per call with text built from constants.
"""

from collections import namedtuple

from ..site_names import site_order_sql

PARAM = "{p}"
SITE_ORDER = site_order_sql("site")  # (one order on both back ends: site_names)


def _blob(value):
    """A BLOB column's value as bytes (drivers give bytes, bytearray or
    memoryview), None kept."""
    return None if value is None else bytes(value)


def _select(record, rest):
    """SELECT of a record's fields, in their order: the statement and the
    record that names its columns cannot disagree."""
    return "SELECT " + ", ".join(record._fields) + " " + rest


def compile_statements(statements, compile_sql):
    """A plain object with every upper-case attribute of the class
    `statements`, compiled by the dialect's compile_sql(text)."""
    compiled = type("CompiledSQL", (object,), {})()
    for name in dir(statements):
        if name.isupper():
            setattr(compiled, name, compile_sql(getattr(statements, name)))
    return compiled


class SharedSQL(object):
    SELECT_SCHEMA_VERSION = "SELECT MAX(version) FROM schema_version"

    # -- ingest
    # A host's open package ids come back as one string of ids joined by
    # commas: a driver builds one row instead of thousands.
    SELECT_OPEN_PACKAGE_IDS = ("SELECT GROUP_CONCAT(package_id) FROM installs "
                               "WHERE host_id = {p} AND removed IS NULL")
    INSERT_INSTALL = "INSERT INTO installs (host_id, package_id, installed) VALUES ({p}, {p}, {p})"
    # a host has at most one open interval of a package row
    CLOSE_INSTALLS = ("UPDATE installs SET removed = {p} WHERE host_id = {p} AND removed IS NULL "
                      "AND package_id IN ({marks})")
    DELETE_OPENED_SINCE = ("DELETE FROM installs WHERE host_id = {p} AND removed IS NULL "
                           "AND installed >= {p} AND package_id IN ({marks})")
    INSERT_REPORT = ("INSERT INTO reports (host_id, digest, received, collected, sender, "
                     "packages, changed, applied, signer, outcome) "
                     "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    UPDATE_HOST_STATE = ("UPDATE hosts SET packager = {p}, system = {p}, kernel = {p}, "
                         "arch = {p}, facts = {p}, set_hash = {p}, block_hash = {p}, "
                         "package_count = {p}, "
                         "set_report = COALESCE((SELECT id FROM reports WHERE digest = {p}), "
                         "set_report), "
                         "signed_ts = COALESCE({p}, signed_ts), "
                         "last_report = {p}, last_received = {p}, facts_hash = {p} "
                         "WHERE id = {p}")
    # a host's facts when they differ from its latest row here (host_facts)
    INSERT_HOST_FACTS = ("INSERT INTO host_facts (host_id, since, packager, system, kernel, "
                         "arch, facts) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})")

    # a host's row as the writer needs it; the dialects' LOCK_HOST reads it
    # under the lock that serialises the host's writers, resolve_first without
    class HostState(namedtuple("HostState", "id set_hash last_report first_report trust "
                               "key_fingerprint signed_ts last_received block_hash "
                               "package_count facts_hash")):
        """A row of PEEK_HOST or LOCK_HOST, its hashes and key as bytes."""
        __slots__ = ()

        @classmethod
        def of(cls, row):
            """The HostState of a fetched row (None: None)."""
            if row is None:
                return None
            (host_id, set_hash, last_report, first_report, trust, key, signed_ts, last_received,
             block_hash, package_count, facts_hash) = row
            return cls(host_id, _blob(set_hash), last_report, first_report, trust, _blob(key),
                       signed_ts, last_received, _blob(block_hash), package_count,
                       _blob(facts_hash))
    PEEK_HOST = _select(HostState, "FROM hosts WHERE site = {p} AND name = {p}")
    # the same by id: the officer's repairs hold the host they were given,
    # whatever a rename made of its site meanwhile (the dialects' LOCK_HOST_BY_ID)
    PEEK_HOST_BY_ID = _select(HostState, "FROM hosts WHERE id = {p}")

    # the same with the host's open set (open_sets.py), unless the report's
    # block (the first parameter) is the host's stored one: an unchanged
    # report does not carry it; the dialects' LOCK_HOST_AND_SET reads it
    class HostAndSet(namedtuple("HostAndSet", HostState._fields + ("set_host", "open_ids"))):
        """A row of LOCK_HOST_AND_SET."""
        __slots__ = ()

        @classmethod
        def of(cls, row):
            """(HostState or None, whether the host has a row of host_sets,
            its value or None when not read) of a fetched row."""
            if row is None:
                return None, False, None
            made = cls._make(row)
            state = SharedSQL.HostState.of(tuple(getattr(made, name)
                                                 for name in SharedSQL.HostState._fields))
            return state, made.set_host is not None, made.open_ids
    PEEK_HOST_AND_SET = (
        "SELECT " + ", ".join("h." + column for column in HostState._fields) +
        ", s.host_id, CASE WHEN h.block_hash = {p} THEN NULL ELSE s.ids END "
        "FROM hosts h LEFT JOIN host_sets s ON s.host_id = h.id "
        "WHERE h.site = {p} AND h.name = {p}")
    # each host's open set (open_sets.py): written with the intervals
    UPDATE_HOST_SET = "UPDATE host_sets SET ids = {p} WHERE host_id = {p}"
    # (REPLACE INTO: the same words in SQLite and MySQL)
    REPLACE_HOST_SET = "REPLACE INTO host_sets (host_id, ids) VALUES ({p}, {p})"
    INSERT_HOST_SET = "INSERT INTO host_sets (host_id, ids) VALUES ({p}, {p})"
    DELETE_HOST_SET = "DELETE FROM host_sets WHERE host_id = {p}"
    # the open sets of a range of host ids, made again from their intervals
    SELECT_OPEN_SETS_BETWEEN = ("SELECT host_id, GROUP_CONCAT(package_id) FROM installs "
                                "WHERE host_id >= {p} AND host_id <= {p} AND removed IS NULL "
                                "GROUP BY host_id")
    DELETE_HOST_SETS_BETWEEN = "DELETE FROM host_sets WHERE host_id >= {p} AND host_id <= {p}"
    SELECT_HOST_ID_RANGE = "SELECT MIN(id), MAX(id) FROM hosts"
    # (the dialects' LOCK_HOSTS_BETWEEN: held while their open sets are made)
    SELECT_HOSTS_BETWEEN = "SELECT id, set_hash FROM hosts WHERE id >= {p} AND id <= {p}"
    SELECT_HOST_SETS = "SELECT host_id, ids FROM host_sets"

    # where a site name leads now, read again before a new host is made
    # under it; the dialects' LOCK_SITE_ALIAS holds it until the commit
    SELECT_SITE_ALIAS = "SELECT site FROM site_aliases WHERE alias = {p}"

    # the source package a row was built from: set once, never changed
    SELECT_UNSOURCED_PACKAGES = ("SELECT id FROM packages WHERE source IS NULL "
                                 "AND id IN ({marks})")
    SET_PACKAGE_SOURCE = "UPDATE packages SET source = {p} WHERE id = {p} AND source IS NULL"

    # the host's latest block, read before its transaction (see store_report)
    PEEK_BLOCK = "SELECT block_hash FROM hosts WHERE site = {p} AND name = {p}"

    # -- trust (trust.py has the rules)
    UPDATE_HOST_PIN = ("UPDATE hosts SET trust = {p}, key_fingerprint = {p}, key_subject = {p}, "
                       "pinned_at = {p}, pinned_by = {p} WHERE id = {p}")
    UPDATE_HOST_SIGNED_TS = "UPDATE hosts SET signed_ts = {p} WHERE id = {p}"
    # the keys a host's reports were signed with, applied or held
    SELECT_REPORT_SIGNERS = ("SELECT DISTINCT signer FROM reports WHERE host_id = {p} "
                             "AND signer IS NOT NULL")
    SELECT_QUARANTINED_SIGNERS = ("SELECT DISTINCT fingerprint, signer_kind, signer_subject "
                                  "FROM quarantine WHERE site = {p} AND host = {p} "
                                  "AND fingerprint IS NOT NULL")
    SELECT_SITE_KEY = "SELECT fingerprint FROM site_keys WHERE site = {p}"
    # whether a site has a host (its first site key is then not trusted on first use)
    SELECT_ONE_HOST_OF_SITE = "SELECT id FROM hosts WHERE site = {p} LIMIT 1"
    UPDATE_SITE_KEY = ("UPDATE site_keys SET fingerprint = {p}, pinned_at = {p}, pinned_by = {p} "
                       "WHERE site = {p}")
    SELECT_SITE_KEYS = "SELECT site, fingerprint, pinned_at, pinned_by FROM site_keys{where} " \
                       "ORDER BY " + SITE_ORDER
    # the new-host quotas (quotas.py): hosts made since a time, by site and
    # by sender, by reports that prove nothing (pinned on a key nobody knew,
    # or unsigned); and by site, by its site key or host certificates
    # (their trust levels, quotas.PROVEN_TRUST, follow each; the first two
    # in one round trip)
    COUNT_NEW_HOSTS_OF_SITE_AND_SENDER = (
        "SELECT (SELECT COUNT(*) FROM hosts WHERE site = {p} AND created >= {p} "
        "AND trust NOT IN ({p}, {p})), (SELECT COUNT(*) FROM hosts WHERE created_by = {p} "
        "AND created >= {p} AND trust NOT IN ({p}, {p}))")
    COUNT_NEW_PROVEN_HOSTS_OF_SITE = ("SELECT COUNT(*) FROM hosts WHERE site = {p} "
                                      "AND created >= {p} AND trust IN ({p}, {p})")
    QUARANTINE_COLUMNS = ("id, received, sender, site, host, kind, reason, fingerprint, "
                          "signer_kind, signer_subject, bytes")
    INSERT_QUARANTINE = ("INSERT INTO quarantine (digest, received, sender, site, host, kind, "
                         "reason, fingerprint, signer_kind, signer_subject, report, bytes) "
                         "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    # the quarantine's bounds (quotas.py): the entry of a host and signer a
    # newer one replaces (not the same report: that is a duplicate), and
    # what a host, its site, a sender and everybody hold (each through an
    # index that holds bytes: the reports' text is never read)
    DELETE_QUARANTINED_UNSIGNED = ("DELETE FROM quarantine WHERE site = {p} AND host = {p} "
                                   "AND fingerprint IS NULL AND digest <> {p}")
    DELETE_QUARANTINED_OF_SIGNER = ("DELETE FROM quarantine WHERE site = {p} AND host = {p} "
                                    "AND fingerprint = {p} AND digest <> {p}")
    SELECT_QUARANTINE_USAGE = (
        "SELECT (SELECT COUNT(*) FROM quarantine WHERE site = {p} AND host = {p}), "
        "(SELECT COUNT(*) FROM quarantine WHERE site = {p}), "
        "(SELECT COALESCE(SUM(bytes), 0) FROM quarantine WHERE site = {p}), "
        "(SELECT COUNT(*) FROM quarantine WHERE sender = {p}), "
        "(SELECT COALESCE(SUM(bytes), 0) FROM quarantine WHERE sender = {p}), "
        "(SELECT COUNT(*) FROM quarantine), (SELECT COALESCE(SUM(bytes), 0) FROM quarantine)")
    # the per-day bounds on changes (quotas.py): a row per host, sender and
    # site, of the day it counts, all of a report's read at once (each
    # dialect's COUNT_QUOTA_USAGE adds to them)
    SELECT_QUOTA_USAGE = ("SELECT scope, name, day, reports, new_rows FROM quota_usage "
                          "WHERE (scope = {p} AND name = {p}) OR (scope = {p} AND name = {p}) "
                          "OR (scope = {p} AND name = {p})")
    # the refusals, a row a day, setting, site, host and sender
    ADD_QUOTA_EVENT = ("UPDATE quota_events SET refused = refused + 1, last_at = {p} "
                       "WHERE day = {p} AND setting = {p} AND site = {p} AND host = {p} "
                       "AND sender = {p}")
    COUNT_QUOTA_EVENTS_OF_DAY = (
        "SELECT (SELECT COUNT(*) FROM quota_events WHERE day = {p} AND site = {p}), "
        "(SELECT COUNT(*) FROM quota_events WHERE day = {p})")
    DELETE_QUOTA_EVENTS_BEFORE = "DELETE FROM quota_events WHERE day < {p}"
    QUOTA_EVENT_COLUMNS = "day, setting, site, host, sender, refused, first_at, last_at"
    SELECT_QUOTA_EVENTS = "SELECT " + QUOTA_EVENT_COLUMNS + " FROM quota_events WHERE day >= {p}"
    SELECT_QUOTA_EVENTS_OF_SITE = ("SELECT " + QUOTA_EVENT_COLUMNS + " FROM quota_events "
                                   "WHERE site = {p} AND day >= {p}")
    SELECT_QUARANTINED = ("SELECT " + QUARANTINE_COLUMNS + " FROM quarantine{where} "
                          "ORDER BY id")
    SELECT_QUARANTINED_ONE = ("SELECT " + QUARANTINE_COLUMNS + ", report FROM quarantine "
                              "WHERE id = {p}")
    DELETE_QUARANTINED = "DELETE FROM quarantine WHERE id = {p}"

    # -- sites (site_store.py)
    # what ingest asks of a reported site, in one round trip: is a list
    # loaded, the site's own spelling and status, and where an alias leads
    SELECT_SITE_CHECK = ("SELECT (SELECT COUNT(*) FROM site_lists), "
                         "(SELECT name FROM sites WHERE name = {p}), "
                         "(SELECT status FROM sites WHERE name = {p}), "
                         "(SELECT site FROM site_aliases WHERE alias = {p})")
    SITE_COLUMNS = "name, status, tier, country, gocdb, state, source, since, changed"
    SELECT_SITE_ROWS = "SELECT " + SITE_COLUMNS + " FROM sites ORDER BY " + site_order_sql("name")
    INSERT_SITE = ("INSERT INTO sites (" + SITE_COLUMNS + ") "
                   "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    UPDATE_SITE = ("UPDATE sites SET name = {p}, status = {p}, tier = {p}, country = {p}, "
                   "gocdb = {p}, state = {p}, source = {p}, since = {p}, changed = {p} "
                   "WHERE name = {p}")
    INSERT_SITE_LIST = ("INSERT INTO site_lists (imported, source, format, sites, added, retired, "
                        "imported_by) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})")
    SELECT_SITE_LISTS = ("SELECT id, imported, source, format, sites, added, retired, "
                         "imported_by FROM site_lists ORDER BY id")
    # a site's hosts as a rename or merge weighs them (LOCK_SITE_HOSTS)
    MovingHost = namedtuple("MovingHost", "id name first_report last_report trust")
    SELECT_SITE_HOSTS = _select(MovingHost, "FROM hosts WHERE site = {p}")
    COUNT_SITE_REPORTS = ("SELECT COUNT(*) FROM reports r JOIN hosts h ON h.id = r.host_id "
                          "WHERE h.site = {p}")
    COUNT_SITE_INTERVALS = ("SELECT COUNT(*) FROM installs i JOIN hosts h ON h.id = i.host_id "
                            "WHERE h.site = {p}")
    COUNT_HOST_REPORTS = "SELECT COUNT(*) FROM reports WHERE host_id = {p}"
    COUNT_HOST_INTERVALS = "SELECT COUNT(*) FROM installs WHERE host_id = {p}"
    SELECT_OPEN_INTERVALS_OF = "SELECT package_id FROM installs WHERE host_id = {p} " \
                               "AND removed IS NULL"
    SELECT_INTERVALS_OPENED_AT = ("SELECT package_id, removed FROM installs WHERE host_id = {p} "
                                  "AND installed = {p}")
    # (+removed: SQLite would search installs_package, every open holder of
    # the package row, where the primary key names the one interval)
    EXTEND_INTERVAL = ("UPDATE installs SET removed = {p} WHERE host_id = {p} AND package_id = {p} "
                       "AND +removed IS NULL")
    DELETE_INTERVAL = ("DELETE FROM installs WHERE host_id = {p} AND package_id = {p} "
                       "AND installed = {p}")
    REASSIGN_INSTALLS = "UPDATE installs SET host_id = {p} WHERE host_id = {p}"
    SET_FIRST_REPORT = "UPDATE hosts SET first_report = {p} WHERE id = {p}"
    MOVE_SITE_HOSTS = "UPDATE hosts SET site = {p} WHERE site = {p}"
    MOVE_QUARANTINE = "UPDATE quarantine SET site = {p} WHERE site = {p}"
    MOVE_SITE_KEY = "UPDATE site_keys SET site = {p} WHERE site = {p}"
    DELETE_SITE_KEY = "DELETE FROM site_keys WHERE site = {p}"
    MOVE_SITE_ROW = "UPDATE sites SET name = {p} WHERE name = {p} AND status = {p}"
    DELETE_ACCEPTED_SITE = "DELETE FROM sites WHERE name = {p} AND status = {p}"
    INSERT_SITE_RENAME = ("INSERT INTO site_renames (done, kind, old_name, new_name, hosts, "
                          "merged, reports, intervals, done_by) "
                          "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    SELECT_SITE_RENAMES = ("SELECT id, done, kind, old_name, new_name, hosts, merged, reports, "
                           "intervals, done_by FROM site_renames ORDER BY id")
    # aliases: the new name is a live name again; what pointed at the old
    # name points at the new one; the old name points at the new one
    DELETE_SITE_ALIAS = "DELETE FROM site_aliases WHERE alias = {p}"
    REDIRECT_SITE_ALIASES = "UPDATE site_aliases SET site = {p} WHERE site = {p}"
    INSERT_SITE_ALIAS = "INSERT INTO site_aliases (alias, site, rename_id) VALUES ({p}, {p}, {p})"
    SELECT_SITE_ALIASES = ("SELECT alias, site, rename_id FROM site_aliases ORDER BY "
                           + site_order_sql("alias"))
    # the hosts of every site, with who made them, for the unknown sites
    SELECT_HOSTS_BY_SITE = ("SELECT site, name, created_by, first_report, last_report FROM hosts"
                            "{where} ORDER BY " + SITE_ORDER + ", name")
    SELECT_QUARANTINED_SITES = ("SELECT site, host, sender, received FROM quarantine "
                                "WHERE kind = {p} ORDER BY " + SITE_ORDER + ", host")

    # -- the merge of hosts that were one host under two spellings (schema.py)
    SELECT_HOST_IDENTITIES = "SELECT id, site, name, first_report, last_report FROM hosts"
    CLOSE_OPEN_INTERVALS = ("UPDATE installs SET removed = {p} WHERE host_id = {p} "
                            "AND removed IS NULL")
    DELETE_HOST_INSTALLS = "DELETE FROM installs WHERE host_id = {p}"
    MOVE_REPORTS = "UPDATE reports SET host_id = {p} WHERE host_id = {p}"
    DELETE_HOST = "DELETE FROM hosts WHERE id = {p}"
    MOVE_HOST_FACTS = "UPDATE host_facts SET host_id = {p} WHERE host_id = {p}"
    DELETE_HOST_FACTS = "DELETE FROM host_facts WHERE host_id = {p}"
    # a host that a merge met with another pin (site_store.set_aside)
    class HostPinOf(namedtuple("HostPinOf", "trust key_fingerprint key_subject created_by "
                               "last_received last_report facts")):
        """A row of SELECT_HOST_PIN_OF, its key as bytes."""
        __slots__ = ()

        @classmethod
        def of(cls, row):
            if row is None:
                return None
            made = cls._make(row)
            return made._replace(key_fingerprint=_blob(made.key_fingerprint))

        @property
        def pin(self):
            """(trust, key fingerprint): what two hosts must share to be one."""
            return self.trust, self.key_fingerprint
    SELECT_HOST_PIN_OF = _select(HostPinOf, "FROM hosts WHERE id = {p}")
    SET_REPORTS_ASIDE = ("UPDATE reports SET host_id = {p}, applied = 0, outcome = {p} "
                         "WHERE host_id = {p}")
    SELECT_QUARANTINED_DIGEST = "SELECT id FROM quarantine WHERE digest = {p}"
    RENAME_HOST = "UPDATE hosts SET name = {p}, first_report = {p} WHERE id = {p}"

    # -- rollback (repair.py)
    SELECT_HOST_FOR_ROLLBACK = "SELECT id, packager FROM hosts WHERE id = {p}"
    COUNT_OPENED_AFTER = "SELECT COUNT(*) FROM installs WHERE host_id = {p} AND installed > {p}"
    DELETE_OPENED_AFTER = "DELETE FROM installs WHERE host_id = {p} AND installed > {p}"
    COUNT_CLOSED_AFTER = ("SELECT COUNT(*) FROM installs WHERE host_id = {p} AND removed > {p} "
                          "AND installed <= {p}")
    REOPEN_CLOSED_AFTER = ("UPDATE installs SET removed = NULL WHERE host_id = {p} "
                           "AND removed > {p} AND installed <= {p}")
    COUNT_REPORTS_AFTER = ("SELECT COUNT(*) FROM reports WHERE host_id = {p} AND collected > {p} "
                           "AND applied = 1")
    MARK_REPORTS_ROLLED_BACK = ("UPDATE reports SET applied = 0, outcome = {p} "
                                "WHERE host_id = {p} AND collected > {p} AND applied = 1")
    SELECT_LAST_APPLIED = ("SELECT MAX(collected) FROM reports WHERE host_id = {p} "
                           "AND applied = 1")
    # the facts a host had at a time: its last row of host_facts then
    SELECT_FACTS_AT = ("SELECT packager, system, kernel, arch, facts FROM host_facts "
                       "WHERE host_id = {p} AND since <= {p} ORDER BY since DESC, id DESC "
                       "LIMIT 1")
    COUNT_FACTS_AFTER = "SELECT COUNT(*) FROM host_facts WHERE host_id = {p} AND since > {p}"
    DELETE_FACTS_AFTER = "DELETE FROM host_facts WHERE host_id = {p} AND since > {p}"
    UPDATE_HOST_FACTS = ("UPDATE hosts SET packager = {p}, system = {p}, kernel = {p}, "
                         "arch = {p}, facts = {p}, facts_hash = {p} WHERE id = {p}")
    # set_report: the last report still applied that changed the set, the
    # one that made the set the host is back to (so that its sets token
    # changes, see hosts.set_report)
    UPDATE_HOST_AFTER_ROLLBACK = ("UPDATE hosts SET set_hash = {p}, block_hash = NULL, "
                                  "set_report = (SELECT MAX(id) FROM reports WHERE host_id = {p} "
                                  "AND applied = 1 AND changed = 1), "
                                  "package_count = {p}, last_report = {p} WHERE id = {p}")

    # -- bulk loads (bulk.py)
    INSERT_BULK_PACKAGE = ("INSERT INTO packages (packager, name, version, arch, key_hash) "
                           "VALUES ({p}, {p}, {p}, {p}, {p})")
    SELECT_PACKAGE_KEYS = "SELECT key_hash, id FROM packages WHERE packager = {p}"
    INSERT_BULK_HOST = ("INSERT INTO hosts (site, name, packager, system, kernel, arch, facts, "
                        "package_count, first_report, last_report, last_received) "
                        "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    SELECT_HOST_IDS = "SELECT site, name, id FROM hosts"
    INSERT_INTERVAL = ("INSERT INTO installs (host_id, package_id, installed, removed) "
                       "VALUES ({p}, {p}, {p}, {p})")

    # -- hosts
    HOST_COLUMNS = ("id, site, name, packager, system, kernel, arch, first_report, last_report, "
                    "last_received, package_count, trust, key_fingerprint, key_subject, "
                    "pinned_at, pinned_by")
    # {where}: of some sites
    SELECT_SITES = ("SELECT site, COUNT(*), MAX(last_report) FROM hosts WHERE last_report >= 0"
                    "{where} GROUP BY site ORDER BY " + SITE_ORDER)
    # the overview, in one pass over the hosts: per site, the hosts that
    # have reported, the newest report, those silent since T, and the
    # site's sets token, which changes whenever one of its hosts' sets does
    # (see hosts.set_report), a host comes or goes; {where}: of some sites
    SELECT_SITE_OVERVIEW = (
        "SELECT site, SUM(CASE WHEN last_report >= 0 THEN 1 ELSE 0 END), MAX(last_report), "
        "SUM(CASE WHEN last_report >= 0 AND last_report < {p} THEN 1 ELSE 0 END) "
        "FROM hosts{where} GROUP BY site ORDER BY " + SITE_ORDER)
    SELECT_HOSTS = ("SELECT " + HOST_COLUMNS + " FROM hosts "
                    "WHERE last_report >= 0{where} ORDER BY " + SITE_ORDER + ", name")
    SELECT_HOST = "SELECT " + HOST_COLUMNS + " FROM hosts WHERE site = {p} AND name = {p}"
    SELECT_HOSTS_NAMED = ("SELECT " + HOST_COLUMNS + " FROM hosts WHERE name = {p} "
                          "ORDER BY " + SITE_ORDER)
    SELECT_SITE_EXISTS = "SELECT 1 FROM hosts WHERE site = {p} LIMIT 1"
    # the search box: hosts whose name holds a text ('!' escapes LIKE's
    # wildcards), of some sites ({where}), the first {p}
    SELECT_HOSTS_LIKE = ("SELECT " + HOST_COLUMNS + " FROM hosts WHERE last_report >= 0 "
                         "AND name LIKE {p} ESCAPE '!'{where} ORDER BY " + SITE_ORDER +
                         ", name LIMIT {p}")
    # who holds a package now (of some sites: {where}), a page of them; and how many
    HOLDING_NOW = ("FROM installs i JOIN packages p ON p.id = i.package_id "
                   "JOIN hosts h ON h.id = i.host_id "
                   "WHERE p.name = {p} AND i.removed IS NULL AND h.last_report >= 0{where}")
    SELECT_HOLDING_NOW = ("SELECT h.site, h.name, p.version, p.arch " + HOLDING_NOW +
                          " ORDER BY " + site_order_sql("h.site") + ", h.name, p.arch, "
                          "p.version LIMIT {p} OFFSET {p}")
    COUNT_HOLDING_NOW = "SELECT COUNT(*) " + HOLDING_NOW
    # the names an unknown host name is compared with (of a site: {where})
    SELECT_NAMES_OF_HOSTS = "SELECT DISTINCT name FROM hosts{where} ORDER BY name"
    SELECT_STATE_NOW = ("SELECT p.name, p.version, p.arch FROM installs i "
                        "JOIN packages p ON p.id = i.package_id "
                        "WHERE i.host_id = {p} AND i.removed IS NULL "
                        "ORDER BY p.name, p.arch, p.version")
    SELECT_STATE_AT = ("SELECT p.name, p.version, p.arch FROM installs i "
                       "JOIN packages p ON p.id = i.package_id "
                       "WHERE i.host_id = {p} AND i.installed <= {p} "
                       "AND (i.removed IS NULL OR i.removed > {p}) "
                       "ORDER BY p.name, p.arch, p.version")
    SELECT_INTERVALS = ("SELECT p.name, p.version, p.arch, i.installed, i.removed FROM installs i "
                        "JOIN packages p ON p.id = i.package_id WHERE i.host_id = {p} "
                        "AND (i.removed IS NULL OR i.removed >= {p})")
    SELECT_REPORTS = ("SELECT id, received, collected, sender, packages, changed, applied, "
                      "signer, outcome, duplicates FROM reports WHERE host_id = {p} "
                      "ORDER BY received, id")
    COUNT_DUPLICATE = "UPDATE reports SET duplicates = duplicates + 1 WHERE digest = {p}"
    # a batch's reports stored already, and their counts (writer.store_reports)
    SELECT_STORED_DIGESTS = "SELECT digest FROM reports WHERE digest IN ({marks})"
    COUNT_DUPLICATES = ("UPDATE reports SET duplicates = duplicates + {p} "
                        "WHERE digest IN ({marks})")
    COUNT_ROWS = "SELECT COUNT(*) FROM {table}"
    # intervals naming a host or package row that does not exist (installs
    # has no foreign keys to prevent them)
    COUNT_ORPHAN_INTERVALS = ("SELECT COUNT(*) FROM installs i "
                              "LEFT JOIN hosts h ON h.id = i.host_id "
                              "LEFT JOIN packages p ON p.id = i.package_id "
                              "WHERE h.id IS NULL OR p.id IS NULL")

    # -- baselines
    # -- compare's holders kept between runs (holders_cache.py)
    SELECT_SITE_MOVES = "SELECT COUNT(*), MAX(id) FROM site_renames"
    SELECT_HOLDERS_CACHE = ("SELECT moves, computed, set_reports, holders FROM holders_cache "
                            "WHERE names_hash = {p}")
    # (REPLACE INTO: the same words in SQLite and MySQL)
    REPLACE_HOLDERS_CACHE = ("REPLACE INTO holders_cache (names_hash, moves, computed, set_reports, "
                             "holders) VALUES ({p}, {p}, {p}, {p}, {p})")
    SELECT_HOLDERS_CACHE_AGES = "SELECT names_hash FROM holders_cache ORDER BY computed DESC"
    DELETE_HOLDERS_CACHE = "DELETE FROM holders_cache WHERE names_hash = {p}"
    TOUCH_HOLDERS_CACHE = "UPDATE holders_cache SET computed = {p} WHERE names_hash = {p}"

    SELECT_BASELINE_REVISION = "SELECT MAX(revision) FROM baselines WHERE name = {p}"
    INSERT_BASELINE = ("INSERT INTO baselines (name, revision, created, text) "
                       "VALUES ({p}, {p}, {p}, {p})")
    SELECT_BASELINES = ("SELECT b.name, b.revision, b.created, c.revisions, "
                        "CASE WHEN b.text = {p} THEN 1 ELSE 0 END FROM baselines b JOIN "
                        "(SELECT name, MAX(revision) AS latest, COUNT(*) AS revisions "
                        "FROM baselines GROUP BY name) c "
                        "ON c.name = b.name AND c.latest = b.revision ORDER BY b.name")
    SELECT_BASELINE = ("SELECT name, revision, created, text FROM baselines WHERE name = {p} "
                       "AND revision = {p}")


# the records of the statements above, by name for the modules that read them
HostState = SharedSQL.HostState
HostAndSet = SharedSQL.HostAndSet
HostPinOf = SharedSQL.HostPinOf
MovingHost = SharedSQL.MovingHost

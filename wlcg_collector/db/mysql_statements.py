"""The MySQL/MariaDB dialect's text for the statements (MySQLSQL): those
written differently from SQLite's (the row locks that serialise a host's
writers, upserts, JSON_TABLE and RETURNING where the server has them), on
top of the ones both back ends share; and how PyMySQL is given a
statement (compile_sql)."""

from .advisory_statements import AdvisorySQL
from .fleet_statements import FleetSQL
from .metrics_statements import MetricsSQL
from .statements import PARAM, SharedSQL
from .tag_statements import TagSQL


def compile_sql(text):
    """A statement for PyMySQL, which formats a statement that has
    parameters with '%': a literal '%' is doubled, then {p} becomes '%s'."""
    return text.replace("%", "%%").replace(PARAM, "%s")


class MySQLSQL(SharedSQL, FleetSQL, TagSQL, AdvisorySQL, MetricsSQL):
    INSERT_HOST = ("INSERT INTO hosts (site, name, packager, facts, package_count, first_report, "
                   "last_report, last_received, created, created_by) "
                   "VALUES ({p}, {p}, {p}, '{}', 0, {p}, -1, {p}, {p}, {p}) "
                   "ON DUPLICATE KEY UPDATE id = id")
    # (MariaDB 10.5+: the new row, or the one made meanwhile, locked by the
    # insert, as LOCK_HOST reads it: a round trip less)
    INSERT_HOST_RETURNING = INSERT_HOST + " RETURNING " + ", ".join(SharedSQL.HostState._fields)
    # the row lock that serialises the writers of one host
    LOCK_HOST = SharedSQL.PEEK_HOST + " FOR UPDATE"
    LOCK_HOST_BY_ID = SharedSQL.PEEK_HOST_BY_ID + " FOR UPDATE"
    LOCK_HOST_AND_SET = SharedSQL.PEEK_HOST_AND_SET + " FOR UPDATE"
    # the same with the day's counts of quota_usage a changed report is
    # checked against before its work (quotas.usage_keys' rows: the host's,
    # the sender's and the site's, their parameters, quotas.usage_read,
    # after the block's hash), as one string (quotas.usage_of_text): a round
    # trip less. The subquery is a plain read: FOR UPDATE locks the host's
    # rows, not those it reads
    LOCK_HOST_SET_AND_USAGE = SharedSQL.PEEK_HOST_AND_SET.replace(
        " FROM hosts h ",
        ", (SELECT GROUP_CONCAT(CONCAT_WS(' ', q.scope, q.day, q.reports, q.new_rows)) "
        "FROM quota_usage q WHERE (q.scope = {p} AND q.name = CAST(h.id AS CHAR)) "
        "OR (q.scope = {p} AND q.name = {p}) OR (q.scope = {p} AND q.name = {p})) "
        "FROM hosts h ") + " FOR UPDATE"
    # a range of hosts whose open sets are made again (open_sets.rebuild_range)
    LOCK_HOSTS_BETWEEN = SharedSQL.SELECT_HOSTS_BETWEEN + " FOR UPDATE"
    # a changed report's host row and its open set in one statement (a
    # round trip less; the host's row of host_sets is there, and locked)
    UPDATE_HOST_STATE_AND_SET = SharedSQL.UPDATE_HOST_STATE.replace(
        "UPDATE hosts SET ",
        "UPDATE hosts JOIN host_sets ON host_sets.host_id = hosts.id SET ").replace(
        " WHERE id = {p}", ", host_sets.ids = {p} WHERE hosts.id = {p}")
    # the latest alias, not the transaction's snapshot; a rename or merge
    # that has not yet written it waits for this report to commit
    LOCK_SITE_ALIAS = SharedSQL.SELECT_SITE_ALIAS + " LOCK IN SHARE MODE"
    # a rename or merge holds the rows of both sites' hosts
    LOCK_SITE_HOSTS = SharedSQL.SELECT_SITE_HOSTS + " FOR UPDATE"
    # the hosts of a listed site take its spelling (rows already spelled so
    # are left alone: compared as bytes, not as the column compares)
    SET_SITE_SPELLING = ("UPDATE hosts SET site = {p} WHERE site = {p} "
                         "AND BINARY site <> {p}")
    INSERT_SITE_KEY = ("INSERT INTO site_keys (site, fingerprint, pinned_at, pinned_by) "
                       "VALUES ({p}, {p}, {p}, {p}) ON DUPLICATE KEY UPDATE site = site")
    # quotas.py's rows of a changed report, (scope, name, day, reports,
    # new_rows) each, made or added to in one statement: a row of an
    # earlier day starts again at 0 (the day is set last: MySQL's
    # assignments see the ones before them). The rows are locked in the
    # order given.
    COUNT_QUOTA_USAGE = ("INSERT INTO quota_usage (scope, name, day, reports, new_rows) "
                         "VALUES {rows} ON DUPLICATE KEY UPDATE "
                         "reports = CASE WHEN day = VALUES(day) THEN reports ELSE 0 END "
                         "+ VALUES(reports), "
                         "new_rows = CASE WHEN day = VALUES(day) THEN new_rows ELSE 0 END "
                         "+ VALUES(new_rows), "
                         "day = VALUES(day)")
    # the same, answering the rows as they are then (MariaDB 10.5+: no read after)
    COUNT_QUOTA_USAGE_RETURNING = (COUNT_QUOTA_USAGE +
                                   " RETURNING scope, name, day, reports, new_rows")
    INSERT_QUOTA_EVENT = ("INSERT INTO quota_events (day, setting, site, host, sender, refused, "
                          "first_at, last_at) VALUES ({p}, {p}, {p}, {p}, {p}, 0, {p}, {p}) "
                          "ON DUPLICATE KEY UPDATE refused = refused")
    # /metrics' counts (metrics_store.py): rows of (writer, outcome,
    # reason, bucket, reports, micros, updated) added to a writer's rows
    COUNT_INGEST = ("INSERT INTO ingest_counts (writer, outcome, reason, bucket, reports, "
                    "micros, updated) VALUES {rows} ON DUPLICATE KEY UPDATE "
                    "reports = reports + VALUES(reports), micros = micros + VALUES(micros), "
                    "updated = GREATEST(updated, VALUES(updated))")
    # (locked: a writer that comes back to its row meanwhile waits for the fold)
    SELECT_FOLDED_COUNTS = MetricsSQL.OLD_COUNTS + " FOR UPDATE"
    INSERT_PACKAGE = ("INSERT INTO packages (packager, name, version, arch, key_hash, source) "
                      "VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON DUPLICATE KEY UPDATE id = id")
    # (an interval the surviving host has already stays as it is)
    MOVE_INSTALLS = ("INSERT IGNORE INTO installs (host_id, package_id, installed, removed) "
                     "SELECT {p}, package_id, installed, removed FROM installs "
                     "WHERE host_id = {p}")
    # package ids by key as one string: rows by newlines, fields by spaces
    SELECT_PACKAGE_IDS = ("SELECT GROUP_CONCAT(CONCAT_WS(' ', HEX(key_hash), id) SEPARATOR '\n') "
                          "FROM packages WHERE key_hash IN ({marks})")
    SELECT_OPEN_INSTALLS_BEFORE = (
        "SELECT package_id, GROUP_CONCAT(CONCAT_WS(' ', host_id, installed)) FROM installs "
        "WHERE package_id IN ({marks}) AND removed IS NULL AND installed < {p} "
        "GROUP BY package_id")
    SELECT_PACKAGE_HISTORY_CONCAT = (
        "SELECT package_id, GROUP_CONCAT(CONCAT_WS(' ', host_id, installed, IFNULL(removed, ''))) "
        "FROM installs WHERE package_id IN ({marks}) GROUP BY package_id")
    SELECT_PACKAGE_HISTORY_BETWEEN_CONCAT = (
        "SELECT package_id, GROUP_CONCAT(CONCAT_WS(' ', host_id, installed, IFNULL(removed, ''))) "
        "FROM installs WHERE package_id IN ({marks}) AND installed <= {p} "
        "AND (removed IS NULL OR removed > {p}) GROUP BY package_id")
    # Keys travel as hex.
    INSERT_INSTALLS_JSON = (
        "INSERT INTO installs (host_id, package_id, installed) SELECT {p}, j.id, {p} "
        "FROM JSON_TABLE({p}, '$[*]' COLUMNS (id INT UNSIGNED PATH '$')) AS j")
    # (MariaDB 10.5+: the ids of the rows made or there already, at once)
    INSERT_PACKAGES_JSON_RETURNING = (
        "INSERT INTO packages (packager, name, version, arch, key_hash, source) "
        "SELECT {p}, j.name, j.version, j.arch, UNHEX(j.k), j.source FROM JSON_TABLE({p}, "
        "'$[*]' COLUMNS (name VARCHAR(200) PATH '$[0]', version VARCHAR(200) PATH '$[1]', "
        "arch VARCHAR(32) PATH '$[2]', k CHAR(64) PATH '$[3]', "
        "source VARCHAR(200) PATH '$[4]')) AS j "
        "ON DUPLICATE KEY UPDATE id = id RETURNING key_hash, id")
    # the same found by the packages themselves, each key made by the server
    # (packages.package_key's: sha256 of packager NUL name NUL version NUL
    # arch; a report's fields are ASCII), answered by their place in the list
    SELECT_PACKAGE_IDS_OF_JSON = (
        "SELECT GROUP_CONCAT(j.i, ' ', p.id) FROM JSON_TABLE({p}, '$[*]' COLUMNS ("
        "i FOR ORDINALITY, name VARCHAR(200) PATH '$[0]', version VARCHAR(200) PATH '$[1]', "
        "arch VARCHAR(32) PATH '$[2]')) AS j JOIN packages p ON p.key_hash = "
        "UNHEX(SHA2(CONCAT_WS(CHAR(0), {p}, j.name, j.version, j.arch), 256))")
    # the rows of those packages not there yet made, each key made by the
    # server as above (no id is taken for a row there already: the insert
    # skips it; ON DUPLICATE KEY UPDATE is for one another writer makes
    # meanwhile); the ids made. With SELECT_PACKAGE_IDS_OF_JSON after it, in
    # one block (deferred.py), rows are found and made in one round trip
    MAKE_MISSING_PACKAGES_JSON = (
        "INSERT INTO packages (packager, name, version, arch, key_hash, source) "
        "SELECT {p}, j.name, j.version, j.arch, "
        "UNHEX(SHA2(CONCAT_WS(CHAR(0), {p}, j.name, j.version, j.arch), 256)), j.source "
        "FROM JSON_TABLE({p}, '$[*]' COLUMNS (name VARCHAR(200) PATH '$[0]', "
        "version VARCHAR(200) PATH '$[1]', arch VARCHAR(32) PATH '$[2]', "
        "source VARCHAR(200) PATH '$[3]')) AS j WHERE NOT EXISTS (SELECT 1 FROM packages p "
        "WHERE p.key_hash = UNHEX(SHA2(CONCAT_WS(CHAR(0), {p}, j.name, j.version, j.arch), 256))) "
        "ON DUPLICATE KEY UPDATE id = id RETURNING id")
    SELECT_PACKAGE_IDS_JSON = (
        "SELECT GROUP_CONCAT(CONCAT_WS(' ', j.k, p.id) SEPARATOR '\n') "
        "FROM JSON_TABLE({p}, '$[*]' COLUMNS (k CHAR(64) PATH '$')) AS j "
        "JOIN packages p ON p.key_hash = UNHEX(j.k)")
    INSERT_PACKAGES_JSON = (
        "INSERT INTO packages (packager, name, version, arch, key_hash, source) "
        "SELECT {p}, j.name, j.version, j.arch, UNHEX(j.k), j.source FROM JSON_TABLE({p}, "
        "'$[*]' COLUMNS (name VARCHAR(200) PATH '$[0]', version VARCHAR(200) PATH '$[1]', "
        "arch VARCHAR(32) PATH '$[2]', k CHAR(64) PATH '$[3]', "
        "source VARCHAR(200) PATH '$[4]')) AS j "
        "ON DUPLICATE KEY UPDATE id = id")
    # 10,000 hosts as one string for PyMySQL, which builds rows slowly.
    # Fields are split by US, rows by RS: header values hold no control
    # character, and a system is written "=system" so that NULL stays apart
    # from "".
    # Who held which package rows at T, as bitmaps: per package row and
    # block of 64 host ids, one 64-bit word with a bit a holder, and a
    # package row's words as one string of "block word" pairs. A whole
    # grid's baseline is millions of holders: as words they are a few
    # hundred thousand integers in a hundred rows, and Python never handles
    # a host id (nor PyMySQL a row a block).
    SELECT_OPEN_HOLDER_WORDS = (
        "SELECT package_id, GROUP_CONCAT(b, ' ', w) FROM (SELECT package_id, host_id DIV 64 AS b, "
        "BIT_OR(1 << (host_id MOD 64)) AS w FROM installs WHERE package_id IN ({marks}) "
        "AND removed IS NULL AND installed <= {p} GROUP BY package_id, host_id DIV 64) AS words "
        "GROUP BY package_id")
    SELECT_PAST_HOLDER_WORDS = (
        "SELECT package_id, GROUP_CONCAT(b, ' ', w) FROM (SELECT package_id, host_id DIV 64 AS b, "
        "BIT_OR(1 << (host_id MOD 64)) AS w FROM installs WHERE package_id IN ({marks}) "
        "AND removed > {p} AND installed <= {p} GROUP BY package_id, host_id DIV 64) AS words "
        "GROUP BY package_id")
    # (unordered: the server's sort of 100,000 hosts by the site's collation
    # takes three times what sorting them here does)
    SELECT_HOSTS_AT_CONCAT = (
        "SELECT GROUP_CONCAT(CONCAT_WS('\x1f', id, site, name, packager, "
        "IFNULL(CONCAT('=', system), ''), IFNULL(set_report, '')) "
        "SEPARATOR '\x1e') FROM hosts "
        "WHERE last_report >= 0 AND first_report <= {p}{where}")
    SELECT_SET_REPORTS_CONCAT = (
        "SELECT GROUP_CONCAT(id, ' ', IFNULL(set_report, 0) SEPARATOR ' ') FROM hosts "
        "WHERE last_report >= 0")
    # a bulk load: one JSON string a batch of rows
    BULK_INSTALLS_JSON = (
        "INSERT INTO installs (host_id, package_id, installed, removed) SELECT h, p, i, r "
        "FROM JSON_TABLE({p}, '$[*]' COLUMNS (h INT UNSIGNED PATH '$[0]', "
        "p INT UNSIGNED PATH '$[1]', i BIGINT PATH '$[2]', r BIGINT PATH '$[3]')) AS j")
    SELECT_INDEXES = ("SELECT table_name, index_name, seq_in_index, column_name FROM "
                      "information_schema.statistics WHERE table_schema = DATABASE()")
    SELECT_COLUMNS = ("SELECT table_name, column_name, ordinal_position, column_type, "
                      "is_nullable FROM information_schema.columns "
                      "WHERE table_schema = DATABASE()")
    SELECT_FOREIGN_KEYS = ("SELECT table_name, column_name, referenced_table_name FROM "
                           "information_schema.key_column_usage "
                           "WHERE table_schema = DATABASE() AND referenced_table_name IS NOT NULL")
    SELECT_STORAGE_BYTES = ("SELECT SUM(data_length + index_length) "
                            "FROM information_schema.tables WHERE table_schema = DATABASE()")
    SELECT_TABLE_EXISTS = ("SELECT 1 FROM information_schema.tables "
                           "WHERE table_schema = DATABASE() AND table_name = {p}")

"""A synthetic fleet for the benchmarks, seeded from the real EL package
lists in tests/fixtures/manifests: N hosts x ~1,500 packages over D days,
with staged upgrades of chosen packages (so adoption curves have a shape).

`load_history` writes the fleet's resulting history straight into the
tables (hosts, packages, installs), which is what ingesting D days of
reports would leave behind; the ingest path itself is measured separately.
"""

import hashlib
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFESTS = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "manifests")
EL_MANIFESTS = ("cms-el9-grid-x86_64.txt", "cms-el8-grid-x86_64.txt", "cms-cc7-wn-x86_64.txt")
DAY = 86400


def manifest_packages():
    """{name: version-release} from the captured EL images (newest file wins)."""
    packages = {}
    for name in reversed(EL_MANIFESTS):
        with open(os.path.join(MANIFESTS, name)) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) == 2 and parts[0] != "gpg-pubkey":
                    packages[parts[0]] = parts[1]
    return packages


def package_set(count, rng):
    """[(name, base version, arch)] of `count` packages: the real ones first,
    then realistic synthetic ones; a few with epochs."""
    real = sorted(manifest_packages().items())
    packages = []
    for name, vr in real[:count]:
        epoch = "1" if rng.random() < 0.05 else "0"
        arch = "noarch" if rng.random() < 0.25 else "x86_64"
        packages.append((name, "%s:%s" % (epoch, vr), arch))
    index = 0
    while len(packages) < count:
        index += 1
        packages.append(("python3-synthetic%04d" % index,
                         "0:%d.%d.%d-%d.el9" % (rng.randint(0, 9), rng.randint(0, 30),
                                                rng.randint(0, 20), rng.randint(1, 9)),
                         "x86_64"))
    return packages


def upgraded(version, step):
    """The version after `step` upgrades: the release gets a higher suffix."""
    return "%s.%d" % (version, step) if step else version


class Fleet(object):
    def __init__(self, hosts=10000, packages=1500, days=90, staged=50, sites=None, seed=1):
        self.rng = random.Random(seed)
        self.hosts = hosts
        self.days = days
        self.packages = package_set(packages, self.rng)
        self.sites = sites or max(1, hosts // 50)
        self.staged = self.packages[:: max(1, len(self.packages) // staged)][:staged]
        self.start = 1735689600  # 2025-01-01T00:00:00Z

    def host_names(self):
        for index in range(self.hosts):
            site = "T2_SITE%03d" % (index % self.sites)
            yield index, site, "wn%05d.site%03d.example.org" % (index, index % self.sites)

    def upgrade_day(self, host_index, package_index):
        """The day a host takes the staged upgrade, or None (10 % never do)."""
        digest = hashlib.sha256(("%d/%d" % (host_index, package_index)).encode()).digest()
        if digest[0] < 26:
            return None
        return 1 + int.from_bytes(digest[1:4], "big") % (self.days - 1)

    def baseline_text(self):
        lines = ["# benchmark baseline: the staged packages at their upgraded version"]
        for name, version, arch in self.staged:
            lines.append("%s >= %s" % (name, upgraded(version, 1)))
        return "\n".join(lines) + "\n"


INSERT_INSTALLS_JSON = (
    "INSERT INTO installs (host_id, package_id, installed, removed) SELECT h, p, i, r "
    "FROM JSON_TABLE(%s, '$[*]' COLUMNS (h INT UNSIGNED PATH '$[0]', p INT UNSIGNED PATH '$[1]', "
    "i BIGINT PATH '$[2]', r BIGINT PATH '$[3]')) AS j")
INSERT_REPORTS_JSON = (
    "INSERT INTO reports (host_id, digest, received, collected, sender, packages, changed, "
    "applied) SELECT h, UNHEX(d), r, c, 'bench', n, 1, 1 FROM JSON_TABLE(%s, '$[*]' COLUMNS ("
    "h INT UNSIGNED PATH '$[0]', d CHAR(64) PATH '$[1]', r BIGINT PATH '$[2]', "
    "c BIGINT PATH '$[3]', n INT PATH '$[4]')) AS j")


def load_history(store, fleet, progress=None):
    """Write the fleet's history into an empty, initialised store."""
    dialect = store.dialect
    conn = store._connection()
    sql = dialect.sql
    key = lambda name, version, arch: hashlib.sha256(
        "\0".join(("rpm", name, version, arch)).encode()).digest()
    cursor = conn.cursor()
    if dialect.name == "sqlite":
        # the index pages of a bulk load must stay in memory
        cursor.execute("PRAGMA cache_size = -1000000")
    else:
        # generated rows are consistent: skip the per-row checks of a bulk load
        cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
    dialect.begin(conn, True)
    package_rows = []
    for index, (name, version, arch) in enumerate(fleet.packages):
        package_rows.append((name, version, arch))
        if (name, version, arch) in fleet.staged:
            package_rows.append((name, upgraded(version, 1), arch))
    cursor.executemany(sql("INSERT INTO packages (packager, name, version, arch, key_hash) "
                           "VALUES ('rpm', ?, ?, ?, ?)"),
                       [row + (key(*row),) for row in package_rows])
    cursor.execute(sql("SELECT id, name, version, arch FROM packages"))
    ids = {tuple(row[1:]): row[0] for row in cursor.fetchall()}
    conn.commit()
    staged = {p: i for i, p in enumerate(fleet.staged)}
    end = fleet.start + fleet.days * DAY
    facts = json.dumps({"system": "AlmaLinux 9.4"})
    dialect.begin(conn, True)
    cursor.executemany(sql("INSERT INTO hosts (site, name, packager, system, kernel, arch, "
                           "facts, package_count, first_report, last_report, last_received) "
                           "VALUES (?, ?, 'rpm', 'AlmaLinux 9.4', '5.14.0', 'x86_64', ?, ?, "
                           "?, ?, ?)"),
                       [(site, host, facts, len(fleet.packages), fleet.start, end, end)
                        for _, site, host in fleet.host_names()])
    cursor.execute(sql("SELECT name, id FROM hosts"))
    host_ids = dict(cursor.fetchall())
    conn.commit()
    insert = sql("INSERT INTO installs (host_id, package_id, installed, removed) "
                 "VALUES (?, ?, ?, ?)")
    indexes = []
    if dialect.name == "sqlite":
        # a bulk load is much faster into a bare table, indexed afterwards
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' "
                       "AND tbl_name = 'installs' AND sql IS NOT NULL")
        indexes = [row[0] for row in cursor.fetchall()]
        for statement in indexes:
            cursor.execute("DROP INDEX %s" % statement.split()[2])
    insert_report = sql("INSERT INTO reports (host_id, digest, received, collected, sender, "
                        "packages, changed, applied) VALUES (?, ?, ?, ?, 'bench', ?, 1, 1)")
    batch, reports = [], []
    for index, site, host in fleet.host_names():
        host_id = host_ids[host]
        change_days = {0}
        for package in fleet.packages:
            base = ids[package]
            if package in staged:
                day = fleet.upgrade_day(index, staged[package])
                if day is not None:
                    when = fleet.start + day * DAY
                    change_days.add(day)
                    batch.append((host_id, base, fleet.start, when))
                    batch.append((host_id, ids[(package[0], upgraded(package[1], 1),
                                                package[2])], when, None))
                    continue
            batch.append((host_id, base, fleet.start, None))
        # the reports that made those changes (unchanged days left out)
        for day in sorted(change_days):
            when = fleet.start + day * DAY
            reports.append((host_id, hashlib.sha256(("%s/%d" % (host, day)).encode()).digest(),
                            when, when, len(fleet.packages)))
        if len(batch) >= 200000 or index == fleet.hosts - 1:
            dialect.begin(conn, True)
            if dialect.name == "sqlite":
                cursor.executemany(insert, batch)
                cursor.executemany(insert_report, reports)
            else:
                # PyMySQL escapes a parameter at a time: one JSON string a batch
                # instead (JSON_TABLE, as the collector does for a new host)
                for rows in (batch[i:i + 50000] for i in range(0, len(batch), 50000)):
                    cursor.execute(INSERT_INSTALLS_JSON, (json.dumps(rows),))
                cursor.execute(INSERT_REPORTS_JSON, (json.dumps(
                    [(h, d.hex(), r, c, n) for h, d, r, c, n in reports]),))
            conn.commit()
            del batch[:], reports[:]
            if progress:
                progress(index + 1)
    for statement in indexes:
        cursor.execute(statement)
    if dialect.name != "sqlite":
        cursor.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")
    cursor.close()

"""The SQL of the officer's reads over the whole fleet (fleet.py), shared
by both dialects (each dialect's SQL class takes FleetSQL beside
SharedSQL, and may write one of them its own way), and the records of
the rows they yield."""

from collections import namedtuple

from .statements import SITE_ORDER, _select


class FleetSQL(object):
    SELECT_HOSTS_AT = ("SELECT id, site, name, packager, system, set_report FROM hosts "
                       "WHERE last_report >= 0 AND first_report <= {p}{where} "
                       "ORDER BY " + SITE_ORDER + ", name")
    # the systems the hosts report (a baseline's scopes are checked against them)
    SELECT_SYSTEMS = ("SELECT DISTINCT system FROM hosts WHERE last_report >= 0 "
                      "AND system IS NOT NULL")
    SELECT_SITE_SYSTEMS = ("SELECT DISTINCT system FROM hosts WHERE last_report >= 0 "
                           "AND system IS NOT NULL AND site = {p}")
    SELECT_PACKAGES_NAMED = ("SELECT id, packager, name, version, arch FROM packages "
                             "WHERE name IN ({marks})")
    # each host's set_report, of the hosts known now (compliance_cache)
    SELECT_SET_REPORTS = "SELECT id, set_report FROM hosts WHERE last_report >= 0"
    # compare's silent hosts: those reporting whose last report is older
    # than a time (one read of hosts, returning only them); at a past time,
    # each host's last applied report then (reports_host: by host, collected)
    SELECT_SILENT_HOSTS = ("SELECT id, last_report FROM hosts WHERE last_report >= 0 "
                           "AND last_report < {p}")
    SELECT_SILENT_HOSTS_AT = ("SELECT host_id, MAX(collected) FROM reports WHERE applied = 1 "
                              "AND collected <= {p} GROUP BY host_id HAVING MAX(collected) < {p}")
    # each host's first report, of the hosts known (where exposure's knowledge starts)
    SELECT_FIRST_REPORTS = "SELECT id, first_report FROM hosts WHERE last_report >= 0"
    # The intervals of package rows at a time or over a span are two ranges of
    # installs_package: the open ones, and the ones closed after the start.
    # (SQLite does not make two ranges of "removed IS NULL OR removed > ?".)
    # Who had which package at T: one string of host ids per package and range,
    # far fewer rows for the driver to build.
    SELECT_OPEN_HOLDERS = (
        "SELECT package_id, GROUP_CONCAT(host_id) FROM installs WHERE package_id IN ({marks}) "
        "AND removed IS NULL AND installed <= {p} GROUP BY package_id")
    SELECT_PAST_HOLDERS = (
        "SELECT package_id, GROUP_CONCAT(host_id) FROM installs WHERE package_id IN ({marks}) "
        "AND removed > {p} AND installed <= {p} GROUP BY package_id")
    # the package rows of a few hosts held at T: through the primary key,
    # host by host (a site's compliance need not scan a whole grid's holders)
    SELECT_HOST_HOLDINGS = (
        "SELECT package_id, host_id FROM installs WHERE host_id IN ({hosts}) "
        "AND package_id IN ({marks}) AND installed <= {p} AND (removed IS NULL OR removed > {p})")
    # (no join: the package rows are known, and a planner with stale
    # statistics would start from packages)
    SELECT_OPEN_PACKAGE_INTERVALS = (
        "SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE package_id IN ({marks}) AND removed IS NULL AND installed <= {p}")
    SELECT_CLOSED_PACKAGE_INTERVALS = (
        "SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE package_id IN ({marks}) AND removed > {p} AND installed <= {p}")
    HostSite = namedtuple("HostSite", "id site packager")
    SELECT_HOST_SITES = _select(HostSite, "FROM hosts WHERE last_report >= 0{where}")
    # Every change of a host's set came with a report marked changed.
    SELECT_CHANGED_HOSTS = (
        "SELECT DISTINCT r.host_id FROM reports r JOIN hosts h ON h.id = r.host_id "
        "WHERE r.collected >= {p} AND r.changed = 1{where}")
    # a package changed on a host since T: an interval of it opened since T and
    # still open, or one closed since T
    SELECT_HOSTS_CHANGING_PACKAGE = (
        "SELECT host_id FROM installs WHERE package_id IN ({marks}) AND removed IS NULL "
        "AND installed >= {p} "
        "UNION SELECT host_id FROM installs WHERE package_id IN ({marks}) AND removed >= {p}")
    # the same at one site (hosts joined only then)
    SELECT_SITE_HOSTS_CHANGING_PACKAGE = (
        "SELECT i.host_id FROM installs i JOIN hosts h ON h.id = i.host_id "
        "WHERE i.package_id IN ({marks}) AND i.removed IS NULL AND i.installed >= {p} "
        "AND h.site = {p} "
        "UNION SELECT i.host_id FROM installs i JOIN hosts h ON h.id = i.host_id "
        "WHERE i.package_id IN ({marks}) AND i.removed >= {p} AND h.site = {p}")
    # the intervals opened or closed since T, of a few hosts: each host's
    # rows, a range of the primary key (no join with packages: their rows
    # are read once, apart)
    SELECT_CHANGED_INSTALLS = (
        "SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE host_id IN ({marks}) AND removed IS NULL AND installed >= {p} "
        "UNION ALL SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE host_id IN ({marks}) AND removed >= {p}")
    # the same over many hosts, package row by package row: two ranges of
    # installs_package a row (a host's ranges would be its whole history, as
    # installs has no index by host and removed: schema 13)
    SELECT_ALL_PACKAGE_IDS = "SELECT id FROM packages"
    COUNT_ALL_HOSTS = "SELECT COUNT(*) FROM hosts"
    SELECT_CHANGED_INSTALLS_BY_PACKAGE = (
        "SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE package_id IN ({marks}) AND removed IS NULL AND installed >= {p} "
        "UNION ALL SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE package_id IN ({marks}) AND removed >= {p}")
    # the same, of some package rows only
    SELECT_CHANGED_INSTALLS_OF = (
        "SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE host_id IN ({marks}) AND package_id IN ({packages}) AND removed IS NULL "
        "AND installed >= {p} "
        "UNION ALL SELECT host_id, package_id, installed, removed FROM installs "
        "WHERE host_id IN ({marks}) AND package_id IN ({packages}) AND removed >= {p}")
    SELECT_PACKAGES_BY_ID = ("SELECT id, packager, name, version, arch FROM packages "
                             "WHERE id IN ({marks})")
    SELECT_HOST_NAMES = ("SELECT id, site, name, packager, system, set_report FROM hosts "
                         "WHERE id IN ({marks})")


HostSite = FleetSQL.HostSite

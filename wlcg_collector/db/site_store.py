"""The sites the officer expects, and the officer's repairs of site names:
the imported list (listed, retired, accepted), what ingest asks of a
reported site, renames and merges (every host, interval, report and pin
moves, in one transaction) and the aliases they leave."""

import hashlib
import json
import time
from collections import namedtuple

from .. import trust
from ..limits import MAX_OFFICER, MAX_REASON, MAX_SENDER, MAX_SITE_SOURCE
from ..report import SITE_RULE, is_site_name
from ..site_names import same_site, site_key, site_order
from ..statuses import ACCEPTED, LISTED, RETIRED, SET_ASIDE
from ..topology import suggestions
from .database import Part, chunks
from .errors import StoreError
from .open_sets import rebuild as rebuild_open_sets
from .records import (SetAside, Site, SiteAlias, SiteHost, SiteImport, SiteList, SiteMove,
                      SitePlan, SiteRename, SiteResolution, SiteRow, host_order)
from .statements import HostPinOf, MovingHost

RENAME, MERGE = "rename", "merge"

# what _plan_move read and decided: the SitePlan; the names as given; the
# old site's list status; the new site's name as listed (None: not
# listed); the sites' pinned keys ({site: bytes or
# None}); the hosts to join ((earlier id, first), (later id, first)); the
# twins to set aside (old host, new host, twin pin, keeper pin)
_PlannedMove = namedtuple("_PlannedMove", "plan old new listed old_status new_name keys pairs "
                                          "twins")
# how long a process keeps the official names it suggests from (a
# suggestion is a hint: one a few minutes old is as good)
SUGGESTION_NAMES_TTL = 300


class SiteError(StoreError):
    """A rename or merge that cannot be done: nothing changed."""


class ListedSiteRefused(SiteError):
    """A listed site that a rename or merge (`kind`) would move to a name
    not on the list, unless forced: `listed` and `other` as named."""

    def __init__(self, message, listed, other, kind):
        SiteError.__init__(self, message)
        self.listed, self.other, self.kind = listed, other, kind


class SiteStore(Part):
    """The sites (tables: sites, site_lists, site_renames, site_aliases,
    and the hosts' site names): what is expected, what reported, renames
    and merges."""

    def __init__(self, db):
        Part.__init__(self, db)
        # (monotonic time read, [(name, [GOCDB name])]) of the names
        # suggestions are made from, or None: read again
        self._official_names = None

    # -- reads

    def reported(self, sites=None):
        """[Site] of the hosts' sites (of these sites only, if given: a site
        reader's), in name order."""
        if sites is None:
            return self.db.read(self.sql.SELECT_SITES.format(where=""), (), Site)
        found = []
        for chunk in chunks(sorted(sites)):
            found += self.db.read(self.sql.SELECT_SITES.format(
                where=" AND site IN (%s)" % self.db.marks(len(chunk))), chunk, Site)
        return sorted(found, key=lambda row: site_order(row.site))

    def overview(self, silent_before, sites=None):
        """[(site, hosts, last report, hosts silent since silent_before)]
        of the sites with a host that has reported (of these sites only,
        if given: a site reader's), in one read a few hundred sites."""
        if sites is None:
            found = self.db.read(self.sql.SELECT_SITE_OVERVIEW.format(where=""), (silent_before,))
        else:
            found = []
            for chunk in chunks(sorted(sites)):
                found += self.db.read(self.sql.SELECT_SITE_OVERVIEW.format(
                    where=" WHERE site IN (%s)" % self.db.marks(len(chunk))),
                    [silent_before] + chunk)
            found.sort(key=lambda row: site_order(row[0]))
        return [(site, int(hosts), last, int(silent)) for site, hosts, last, silent in found
                if hosts]

    def exists(self, site):
        """Whether a host has that site."""
        return self.db.read_one(self.sql.SELECT_SITE_EXISTS, (site,)) is not None

    def closest_to(self, site):
        """The names closest to a site name that names no site
        (closest.closest_names): of the sites hosts report under and those
        on the list (listed or accepted, with their GOCDB names)."""
        known = {site_key(row.name): (row.name, [row.gocdb] if row.gocdb else [])
                 for row in self.rows() if row.status in (LISTED, ACCEPTED)}
        for reported in self.reported():
            known.setdefault(site_key(reported.site), (reported.site, []))
        return suggestions(site, sorted(known.values()))

    def rows(self):
        """[SiteRow] of every site the officer expects or expected, by name."""
        return self.db.read(self.sql.SELECT_SITE_ROWS, (), SiteRow)

    def lists(self):
        """[SiteList] of every import, oldest first."""
        return self.db.read(self.sql.SELECT_SITE_LISTS, (), SiteList)

    def renames(self):
        """[SiteRename] oldest first."""
        return self.db.read(self.sql.SELECT_SITE_RENAMES, (), SiteRename)

    def aliases(self):
        return self.db.read(self.sql.SELECT_SITE_ALIASES, (), SiteAlias)

    def hosts(self, sites=None):
        """[SiteHost] of every host (of these sites, if given), in site and
        name order."""
        if sites is None:
            return self.db.read(self.sql.SELECT_HOSTS_BY_SITE.format(where=""), (), SiteHost)
        found = []
        for chunk in chunks(sorted(sites)):
            found += self.db.read(self.sql.SELECT_HOSTS_BY_SITE.format(
                where=" WHERE site IN (%s)" % self.db.marks(len(chunk))), chunk, SiteHost)
        return sorted(found, key=host_order)

    def quarantined(self, kind):
        """[(site, host, sender, received)] of the quarantined reports of one kind."""
        return self.db.read(self.sql.SELECT_QUARANTINED_SITES, (kind,))

    # -- the list

    def import_list(self, listed, source, fmt, now, who):
        """Make `listed` ([topology.ListedSite]) the list of sites: new ones
        are added, known ones updated, listed ones missing from it retired
        (kept, never deleted), retired ones on it listed again; the hosts
        of a listed site take its spelling. One transaction; returns a
        SiteImport."""
        sql = self.sql

        def work(cursor):
            cursor.execute(sql.SELECT_SITE_ROWS)
            current = {site_key(row[0]): SiteRow(*row) for row in cursor.fetchall()}
            added = returned = updated = 0
            for site in listed:
                old = current.pop(site_key(site.name), None)
                values = (site.name, LISTED, site.tier, site.country, site.gocdb, site.state,
                          source[:MAX_SITE_SOURCE])
                if old is None:
                    cursor.execute(sql.INSERT_SITE, values + (now, now))
                    added += 1
                elif tuple(old[:6]) != values[:6]:  # (the same site from elsewhere: no change)
                    since = old.since if old.status == LISTED else now
                    cursor.execute(sql.UPDATE_SITE, values + (since, now, old.name))
                    if old.status == RETIRED:
                        returned += 1
                    else:
                        updated += 1
                cursor.execute(sql.SET_SITE_SPELLING, (site.name, site.name, site.name))
            retired = 0
            for old in current.values():
                if old.status == LISTED:
                    cursor.execute(sql.UPDATE_SITE, (old.name, RETIRED) + tuple(old[2:7])
                                   + (now, now, old.name))
                    retired += 1
            cursor.execute(sql.INSERT_SITE_LIST, (now, source[:MAX_SITE_SOURCE], fmt, len(listed),
                                                  added, retired, who[:MAX_OFFICER]))
            return SiteImport(len(listed), added, retired, returned, updated)
        result = self.db.transaction(work)
        self._official_names = None
        return result

    # -- ingest

    def check_site(self, cursor, site):
        """(a list is loaded, the site's name as listed or None, its status
        or None, the site a rename made of it or None), read in the
        report's transaction."""
        cursor.execute(self.sql.SELECT_SITE_CHECK, (site, site, site))
        lists, name, status, alias = cursor.fetchone()
        return bool(lists), name, status, alias

    def resolve_site(self, cursor, sent, received, accept):
        """Where a report's site name `sent` leads: its SiteResolution (the
        site's name as the list spells it, or the site a rename made of
        it; whether a list is loaded and the site is not on it). A report
        the officer accepts makes its unknown site an accepted one."""
        listed, name, _, alias = self.check_site(cursor, sent)
        renamed = alias is not None
        if renamed:
            listed, name, _, _ = self.check_site(cursor, alias)
        site = name or alias or sent
        if not listed or name is not None:
            return SiteResolution(sent, site, renamed, False, ())
        if accept:
            self.accept_site(cursor, site, received, "officer")
            return SiteResolution(sent, site, renamed, False, ())
        # (renamed to a name not on the list: the rename is the news)
        closest = () if renamed else tuple(suggestions(site, self._official_names_in(cursor)))
        return SiteResolution(sent, site, renamed, True, closest)

    def _official_names_in(self, cursor):
        """official_names(), read with the report's cursor when not cached."""
        cached = self._official_names
        if cached is None or time.monotonic() - cached[0] >= SUGGESTION_NAMES_TTL:
            cursor.execute(self.sql.SELECT_SITE_ROWS)
            rows = [SiteRow(*row) for row in cursor.fetchall()]
            self._official_names = (time.monotonic(), [
                (row.name, [row.gocdb] if row.gocdb else []) for row in rows
                if row.status in (LISTED, ACCEPTED)])
        return self._official_names[1]

    def accept_site(self, cursor, site, now, who):
        """The officer accepted a report of a site not on the list: the
        site is known from now on (its later reports are not held)."""
        cursor.execute(self.sql.INSERT_SITE, (site, ACCEPTED, None, None, None, None,
                                              ("accepted by %s" % who)[:MAX_SITE_SOURCE], now,
                                              now))
        self._official_names = None

    # -- renames and merges

    def move(self, old, new, kind, now, who, force=False, dry_run=False):
        """Move every host of site `old` to `new` (kind RENAME: `new` has no
        hosts; MERGE: it has, or is listed), with their intervals, reports,
        pins and quarantined reports, in one transaction. A host name at
        both sites becomes one host when the two reported in turn (the
        later keeps its row, the intervals join where they meet), and the
        whole move is refused when they reported in the same period. `old`
        becomes an alias of `new`. A listed site is moved to a name that
        is not listed only with `force` (the arguments swapped would make
        a typo official). Returns the SiteRename; with `dry_run`, the
        SitePlan of what it would do, nothing written. SiteError (one
        line, nothing changed) when it cannot be done."""
        if not is_site_name(new):  # (old may be one: this is how it is repaired)
            raise SiteError("%r is not a site name (%s)" % (new[:120], SITE_RULE))
        if same_site(old, new):
            raise SiteError("%s and %s are the same site (names are compared without regard to "
                            "case)" % (old, new))

        def work(cursor):
            planned = self._plan_move(cursor, old, new, kind, force, lock=not dry_run)
            return planned.plan if dry_run else self._apply_move(cursor, planned, now, who)
        result = self.db.transaction(work, write=not dry_run)
        if not dry_run:
            self._official_names = None
        return result

    def _plan_move(self, cursor, old, new, kind, force, lock):
        """What moving `old` to `new` would do (a _PlannedMove), read in the
        move's transaction (its hosts locked, unless only a plan is asked);
        SiteError when it cannot, or must not, be done. Nothing written."""
        sql = self.sql
        listed, old_name, old_status, _ = self.check_site(cursor, old)
        _, new_name, new_status, new_alias = self.check_site(cursor, new)
        if new_alias is not None and not same_site(new_alias, old):
            # (a name renamed away may be taken back: the undo of a rename)
            raise SiteError("%s was renamed or merged into %s: name %s instead"
                            % (new, new_alias, new_alias))
        hosts_of = sql.LOCK_SITE_HOSTS if lock else sql.SELECT_SITE_HOSTS
        cursor.execute(hosts_of, (old,))
        old_hosts = list(map(MovingHost._make, cursor.fetchall()))
        cursor.execute(hosts_of, (new,))
        new_hosts = {host.name: host for host in map(MovingHost._make, cursor.fetchall())}
        quarantined = {}
        for site in (old, new):
            cursor.execute(sql.SELECT_QUARANTINED.format(where=" WHERE site = "
                                                         + self.dialect.placeholder), (site,))
            quarantined[site] = len(cursor.fetchall())
        if not old_hosts and not quarantined[old]:
            raise SiteError("site %s has no hosts and no quarantined reports: nothing to %s"
                            % (old, kind))
        if old_status == LISTED and new_status != LISTED and not force:
            raise swap_refusal(old_name, new, kind, bool(new_hosts or quarantined[new]))
        if kind == RENAME and new_hosts:
            raise SiteError("site %s already has %d host(s): to join %s to it, use sites "
                            "merge %s %s" % (new, len(new_hosts), old, old, new))
        if kind == MERGE and not new_hosts and new_name is None:
            raise SiteError("site %s has no hosts and is not on the list of sites: to give "
                            "%s a new name, use sites rename %s %s" % (new, old, old, new))
        keys = {}
        for site in (old, new):
            cursor.execute(sql.SELECT_SITE_KEY, (site,))
            found = cursor.fetchone()
            keys[site] = bytes(found[0]) if found else None
        if keys[old] is not None and keys[new] is not None and keys[old] != keys[new]:
            raise SiteError("sites %s and %s have different site keys pinned: the hosts of "
                            "one would no longer match their site's key; nothing changed"
                            % (old, new))
        pairs, overlapping, twins = [], [], []
        for host in old_hosts:
            other = new_hosts.get(host.name)
            if other is None:
                continue
            pins = self._pins_if_they_differ(cursor, host.id, other.id)
            if pins is not None:
                twins.append((host, other) + pins)
                continue
            if host.last_report < other.first_report:
                pairs.append(((host.id, host.first_report), (other.id, other.first_report)))
            elif other.last_report < host.first_report:
                pairs.append(((other.id, other.first_report), (host.id, host.first_report)))
            else:
                overlapping.append(host.name)
        if overlapping:
            raise SiteError("host %s is at both %s and %s and reported to both in the same "
                            "period%s: nothing changed" % (
                                overlapping[0], old, new,
                                " (and %d more host(s))" % (len(overlapping) - 1)
                                if len(overlapping) > 1 else ""))
        # the twins set aside take their reports and intervals with them
        cursor.execute(sql.COUNT_SITE_REPORTS, (old,))
        reports = int(cursor.fetchone()[0])
        cursor.execute(sql.COUNT_SITE_INTERVALS, (old,))
        intervals = int(cursor.fetchone()[0])
        for twin in twins:
            cursor.execute(sql.COUNT_HOST_REPORTS, (twin[0].id,))
            reports -= int(cursor.fetchone()[0])
            cursor.execute(sql.COUNT_HOST_INTERVALS, (twin[0].id,))
            intervals -= int(cursor.fetchone()[0])
        target = new_name or new
        twin_ids = {twin[0].id for twin in twins}
        # a key pinned on first use at a typo site (anyone may have made it)
        # never answers for the hosts of a target that has its own
        key_moves = keys[old] is not None and keys[new] is None and not new_hosts
        plan = SitePlan(kind, old_name or old, target, len(old_hosts), len(pairs), reports,
                        intervals, quarantined[old],
                        sum(1 for host in old_hosts
                            if host.trust != trust.UNSIGNED and host.id not in twin_ids),
                        keys[old], key_moves,
                        tuple(SetAside(host.name, keeper.pin, twin.pin, None)
                              for host, _, twin, keeper in twins))
        return _PlannedMove(plan, old, new, listed, old_status, new_name, keys, pairs, twins)

    def _apply_move(self, cursor, planned, now, who):
        """Do what _plan_move planned, in its transaction: the SiteMove."""
        sql = self.sql
        plan, old, new = planned.plan, planned.old, planned.new
        target = plan.new_name
        set_aside = [self._set_aside(cursor, host, other, twin, keeper, old, target, plan.kind)
                     for host, other, twin, keeper in planned.twins]
        for earlier, later in planned.pairs:
            self._merge_host(cursor, earlier, later)
        cursor.execute(sql.MOVE_SITE_HOSTS, (target, old))
        cursor.execute(sql.MOVE_QUARANTINE, (target, old))
        dropped_key = None
        if planned.keys[old] is not None:
            if plan.site_key_moves:
                cursor.execute(sql.MOVE_SITE_KEY, (target, old))
            else:
                # its hosts' next reports signed with it wait for the officer
                cursor.execute(sql.DELETE_SITE_KEY, (old,))
                dropped_key = planned.keys[old] if planned.keys[new] is None else None
        if planned.new_name is None and planned.listed:
            # the officer vouches for the new name: it is no unknown site
            if planned.old_status == ACCEPTED:
                cursor.execute(sql.MOVE_SITE_ROW, (target, old, ACCEPTED))
            else:
                made = ("%s of %s by %s" % (plan.kind, old, who))[:MAX_SITE_SOURCE]
                cursor.execute(sql.INSERT_SITE, (target, ACCEPTED, None, None, None, None,
                                                 made, now, now))
        elif planned.old_status == ACCEPTED:
            cursor.execute(sql.DELETE_ACCEPTED_SITE, (old, ACCEPTED))
        record = (now, plan.kind, plan.old_name, target, plan.hosts, plan.merged, plan.reports,
                  plan.intervals, who[:MAX_OFFICER])
        cursor.execute(sql.INSERT_SITE_RENAME, record)
        rename_id = cursor.lastrowid
        cursor.execute(sql.DELETE_SITE_ALIAS, (target,))
        cursor.execute(sql.REDIRECT_SITE_ALIASES, (target, old))
        cursor.execute(sql.DELETE_SITE_ALIAS, (old,))
        cursor.execute(sql.INSERT_SITE_ALIAS, (plan.old_name, target, rename_id))
        moved = SiteMove(rename_id, *record)
        moved.set_aside, moved.site_key_dropped = tuple(set_aside), dropped_key
        return moved

    def _pins_if_they_differ(self, cursor, twin_id, keeper_id):
        """(twin, keeper) HostPinOf of a host name at both sites whose two
        hosts are pinned to different keys (or one unsigned), else None. A
        merge must not choose between them: keeping the later pin hands
        the real host to whoever reported under the typo."""
        cursor.execute(self.sql.SELECT_HOST_PIN_OF, (twin_id,))
        twin = HostPinOf.of(cursor.fetchone())
        cursor.execute(self.sql.SELECT_HOST_PIN_OF, (keeper_id,))
        keeper = HostPinOf.of(cursor.fetchone())
        return None if twin.pin == keeper.pin else (twin, keeper)

    def _set_aside(self, cursor, host, other, twin, keeper, old, new, kind):
        """A host whose pins differ (_pins_if_they_differ): the new site's
        host (`other`) keeps its row and pin; the other's latest state goes
        to the quarantine as a key change (the officer accepts it or drops
        it), its reports stay in the audit trail of the kept host, marked
        set aside, and its rows go. Its SetAside."""
        sql = self.sql
        cursor.execute(sql.SELECT_STATE_NOW, (host.id,))
        text = state_as_report(json.loads(twin.facts), twin.last_report, cursor.fetchall())
        digest = hashlib.sha256(text).digest()
        cursor.execute(sql.SELECT_QUARANTINED_DIGEST, (digest,))
        entry = None
        if cursor.fetchone() is None:
            cursor.execute(sql.INSERT_QUARANTINE, (
                digest, twin.last_received, twin.created_by[:MAX_SENDER], old, host.name,
                trust.KEY_CHANGE,
                ("set aside by sites %s %s %s: pinned to another key than the host at %s"
                 % (kind, old, new, new))[:MAX_REASON], twin.key_fingerprint,
                trust.KIND_OF_TRUST.get(twin.trust), twin.key_subject, text, len(text)))
            entry = cursor.lastrowid
        cursor.execute(sql.SET_REPORTS_ASIDE, (other.id, SET_ASIDE, host.id))
        cursor.execute(sql.DELETE_HOST_INSTALLS, (host.id,))
        cursor.execute(sql.DELETE_HOST_SET, (host.id,))
        cursor.execute(sql.DELETE_HOST_FACTS, (host.id,))
        cursor.execute(sql.DELETE_HOST, (host.id,))
        return SetAside(host.name, keeper.pin, twin.pin, entry)

    def _merge_host(self, cursor, earlier, later):
        """One host under two sites, reported to in turn: `earlier` and
        `later` are (host id, first report). The later keeps its row (its
        latest facts and pin) and takes the earlier's intervals and
        reports: an interval still open on the earlier that the later's
        first report opened again is one interval; the others end at the
        later's first report."""
        sql = self.sql
        earlier_id, earlier_first = earlier
        later_id, later_first = later
        cursor.execute(sql.SELECT_OPEN_INTERVALS_OF, (earlier_id,))
        still_open = {row[0] for row in cursor.fetchall()}
        cursor.execute(sql.SELECT_INTERVALS_OPENED_AT, (later_id, later_first))
        reopened = {package_id: removed for package_id, removed in cursor.fetchall()}
        joined = still_open & set(reopened)
        for package_id in sorted(joined):
            cursor.execute(sql.DELETE_INTERVAL, (later_id, package_id, later_first))
            if reopened[package_id] is not None:
                cursor.execute(sql.EXTEND_INTERVAL, (reopened[package_id], earlier_id,
                                                     package_id))
        for chunk in chunks(sorted(still_open - joined)):
            cursor.execute(sql.CLOSE_INSTALLS.format(marks=self.db.marks(len(chunk))),
                           [later_first, earlier_id] + chunk)
        cursor.execute(sql.REASSIGN_INSTALLS, (later_id, earlier_id))
        cursor.execute(sql.MOVE_REPORTS, (later_id, earlier_id))
        cursor.execute(sql.MOVE_HOST_FACTS, (later_id, earlier_id))
        cursor.execute(sql.DELETE_HOST_SET, (earlier_id,))
        cursor.execute(sql.DELETE_HOST, (earlier_id,))
        rebuild_open_sets(sql, cursor, [later_id])
        cursor.execute(sql.SET_FIRST_REPORT, (earlier_first, later_id))


def swap_refusal(listed, other, kind, other_has_hosts):
    """The ListedSiteRefused of moving listed site `listed` to `other`, a
    name not on the list: the arguments were probably swapped (a typo twin
    with hosts or held reports: merge it into the listed site), or the
    list that names the new name is not imported yet."""
    if other_has_hosts:
        meant = "did you mean sites merge %s %s (the typo first)?" % (other, listed)
    else:
        meant = "import a list that names %s first;" % other
    return ListedSiteRefused("%s is on the list of sites and %s is not: %s nothing changed"
                             % (listed, other, meant), listed, other, kind)


def state_as_report(facts, ts, packages):
    """A protocol-5 text of a host's present state: its stored headers
    (facts) with ts, and its packages as (name, version, arch). Its headers
    and lines were validated when they were received."""
    headers = dict(facts, ts=str(ts))
    lines = ["#"] + ["%s: %s" % (key, headers[key]) for key in sorted(headers)] + ["#"]
    lines += ["%s\t%s\t%s" % tuple(package) for package in packages] + ["#"]
    return ("\n".join(lines) + "\n").encode("utf-8")

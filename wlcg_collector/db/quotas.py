"""Bounds that junk cannot use against genuine reports: the new-host
quotas, the per-day bounds on changes, the quarantine's bounds, and the
events the officer reads when one of them refused a report.

A report *proves who sent it* when it is signed by its site's pinned site
key, by a grid host certificate that verified, or by the key already
pinned to its very host (proves_sender). Anybody holding the public
collector certificate can send one that proves nothing (unsigned, or
signed by a key of their own), so:

- new hosts made by reports that prove nothing count against the junk
  quotas of their site and sender; new hosts of a pinned site key or a
  host certificate count against a separate quota of their site that junk
  never touches;
- a host's changed reports and the install intervals they open are counted
  per UTC day per host and per sender; per site, only those of reports
  that prove nothing (a site's pinned hosts are not blocked by a
  stranger's writes to its unsigned ones). A host's first set is left to
  the new-host quotas and max_packages;
- the quarantine holds one entry per host and signer (unsigned is one
  signer): a newer one of the same signer replaces it (junk replaces
  junk), and no entry is ever evicted to make room for another. Past a
  host's, site's, sender's or the global bound the new report is refused.

Every refusal is a QuotaExceeded (HTTP 429, Retry-After until the next UTC
day) carrying the QuotaEvent that the writer counts on quota_events, in a
transaction of its own, once the refused report's has rolled back."""

from collections import namedtuple

from .. import trust
from ..dates import DAY
from ..site_names import site_key, site_order
from ..limits import MAX_SENDER
from .database import Part
from .errors import QuotaExceeded, StoreError
from .records import QuotaEventRow

MIB = 1024 * 1024
# quota_usage scopes
HOST, SENDER, SITE = "host", "sender", "site"
# quota_events rows a UTC day keeps apart (by setting, site, host and
# sender), of one site and in all; beyond, a refusal counts on its
# setting's row of the site (or of no site) with no host or sender: a flood
# from rotating addresses cannot grow the table without bound either
EVENT_ROWS_PER_SITE = 100
EVENT_ROWS_PER_DAY = 10000
EVENT_RETENTION_DAYS = 90
# the trust of a host its first report made proving who sent it (a site
# key or a host certificate): the new-host quotas count those hosts apart
PROVEN_TRUST = (trust.SITE, trust.VERIFIED)

# [collector] setting, Limits attribute, default, what it bounds
SETTINGS = (
    ("max_new_hosts_per_site", "new_hosts_per_site", 2500,
     "new hosts a UTC day of one site, made by reports that prove nothing"),
    ("max_new_hosts_per_sender", "new_hosts_per_sender", 2500,
     "new hosts a UTC day from one sender address, made by reports that prove nothing"),
    ("max_new_proven_hosts_per_site", "new_proven_hosts_per_site", 50000,
     "new hosts a UTC day of one site, made by its pinned site key or host certificates"),
    ("max_changed_reports_per_host", "changed_reports_per_host", 4,
     "reports a UTC day that change one host's package set (its first set aside)"),
    ("max_new_rows_per_host", "new_rows_per_host", 5000,
     "install intervals a UTC day that changed reports open on one host (its first set "
     "aside)"),
    ("max_changed_reports_per_sender", "changed_reports_per_sender", 20000,
     "changed reports a UTC day from one sender address"),
    ("max_new_rows_per_sender", "new_rows_per_sender", 10000000,
     "install intervals a UTC day opened by the changed reports of one sender address"),
    ("max_changed_reports_per_site", "changed_reports_per_site", 100000,
     "changed reports a UTC day of one site that prove nothing"),
    ("max_new_rows_per_site", "new_rows_per_site", 20000000,
     "install intervals a UTC day opened by a site's changed reports that prove nothing"),
    ("quarantine_max_reports", "quarantine_reports", 10000, "quarantined reports in all"),
    ("quarantine_max_bytes", "quarantine_bytes", 256 * MIB, "bytes of quarantined reports"),
    ("quarantine_max_per_host", "quarantine_per_host", 4,
     "quarantined reports of one host (one a signer)"),
    ("quarantine_max_per_site", "quarantine_per_site", 1000, "quarantined reports of one site"),
    ("quarantine_max_bytes_per_site", "quarantine_bytes_per_site", 32 * MIB,
     "bytes of quarantined reports of one site"),
    ("quarantine_max_per_sender", "quarantine_per_sender", 1000,
     "quarantined reports from one sender address"),
    ("quarantine_max_bytes_per_sender", "quarantine_bytes_per_sender", 16 * MIB,
     "bytes of quarantined reports from one sender address"),
)
SETTING_OF = {attribute: setting for setting, attribute, _, _ in SETTINGS}

# setting: the one line of a refusal; the refused report's site, host and
# sender, the number reached and the bound fill it in
MESSAGES = {
    "max_new_hosts_per_site": "site {site} has made {count} new hosts today, the most a day "
                              "for reports that prove no sender",
    "max_new_hosts_per_sender": "sender {sender} has made {count} new hosts today, the most a "
                                "day for reports that prove no sender",
    "max_new_proven_hosts_per_site": "site {site} has made {count} new hosts today with its "
                                     "site key or host certificates, the most a day",
    "max_changed_reports_per_host": "host {host} of site {site} has sent {count} changed "
                                    "reports today, the most a day",
    "max_new_rows_per_host": "host {host} of site {site} would open {count} install intervals "
                             "today, more than {bound} a day",
    "max_changed_reports_per_sender": "sender {sender} has sent {count} changed reports "
                                      "today, the most a day",
    "max_new_rows_per_sender": "sender {sender} would open {count} install intervals today, "
                               "more than {bound} a day",
    "max_changed_reports_per_site": "site {site} has had {count} changed reports today that "
                                    "prove no sender, the most a day",
    "max_new_rows_per_site": "site {site} would have {count} install intervals opened today "
                             "by reports that prove no sender, more than {bound} a day",
    "quarantine_max_reports": "the quarantine holds {count} reports, the most it keeps",
    "quarantine_max_bytes": "the quarantine would hold {count} bytes, more than {bound}",
    "quarantine_max_per_host": "the quarantine holds {count} reports of host {host} of site "
                               "{site} from other signers, the most a host",
    "quarantine_max_per_site": "the quarantine holds {count} reports of site {site}, the most "
                               "a site",
    "quarantine_max_bytes_per_site": "the quarantine would hold {count} bytes of site {site}, "
                                     "more than {bound}",
    "quarantine_max_per_sender": "the quarantine holds {count} reports from sender {sender}, "
                                 "the most a sender",
    "quarantine_max_bytes_per_sender": "the quarantine would hold {count} bytes from sender "
                                       "{sender}, more than {bound}",
}

# what a refusal is counted as: the setting that refused it, and the
# report's site, host ('' for a bound of the site or sender) and sender
QuotaEvent = namedtuple("QuotaEvent", "setting site host sender")


class Limits(object):
    """What nobody may exceed, so that nobody can fill the disk, and what
    junk may not use up for genuine reports: one attribute a [collector]
    setting of SETTINGS, its default unless given."""

    def __init__(self, **given):
        for setting, attribute, default, _ in SETTINGS:
            setattr(self, attribute, given.pop(attribute, default))
        if given:
            raise TypeError("unknown limit(s): %s" % ", ".join(sorted(given)))


DEFAULT_LIMITS = Limits()


def proves_sender(pin, site_pin, signer):
    """Whether a report proves who sent it: signed by its site's pinned site
    key (site_pin), by a grid host certificate (trust.identify verified it
    and found the host's name in it), or by the key already pinned to its
    very host (pin: its trust.HostPin, None for a new host). Unsigned, or
    signed by a key nobody pinned, it proves nothing."""
    if signer is None:
        return False
    if signer.kind == trust.HOST_CERTIFICATE:
        return True
    if signer.kind == trust.SITE_KEY:
        return site_pin is not None and bytes(signer.fingerprint) == bytes(site_pin)
    return pin is not None and pin.trust == trust.PINNED and pin.fingerprint is not None \
        and bytes(pin.fingerprint) == bytes(signer.fingerprint)


def day_of(received):
    return received - received % DAY


def refusal(limits, attribute, count, received, site, host, sender, counts_host=True):
    """The QuotaExceeded of a bound reached: its line names the setting."""
    setting = SETTING_OF[attribute]
    message = MESSAGES[setting].format(site=site, host=host, sender=sender, count=count,
                                       bound=getattr(limits, attribute))
    return QuotaExceeded("%s (%s)" % (message, setting), day_of(received) + DAY - received,
                         QuotaEvent(setting, site, host if counts_host else "",
                                    sender[:MAX_SENDER]))


def usage_keys(host_id, site, sender, proven):
    """The quota_usage rows a changed report counts on, in the order they
    are locked (always the same: no deadlock between two reports)."""
    keys = [(HOST, str(host_id)), (SENDER, sender[:MAX_SENDER])]
    if not proven:
        keys.append((SITE, site_key(site)))
    return keys


def usage_read(site, sender):
    """The parameters of the rows usage_keys names, the host's by its id in
    the statement (a dialect's LOCK_HOST_SET_AND_USAGE): its scope, then
    the sender's scope and name, the site's scope and name."""
    return (HOST, SENDER, sender[:MAX_SENDER], SITE, site_key(site))


def usage_of_text(text, keys):
    """The usage ({(scope, name): (day, reports, new_rows)}) of `keys` in
    the text a dialect's LOCK_HOST_SET_AND_USAGE reads: "scope day reports
    new_rows" of each row there is, joined by commas ("" or None: none)."""
    names = dict(keys)
    usage = {}
    for row in (text or "").split(","):
        if row:
            scope, day, reports, rows = row.split(" ")
            if scope in names:
                usage[(scope, names[scope])] = (int(day), int(reports), int(rows))
    return usage


def over_change_bounds(limits, today, usage, keys, rows):
    """The first (attribute, count) that one more changed report opening
    `rows` intervals passes, or None: usage {(scope, name): (day, reports,
    new_rows)} without it (a row of another day counts as nothing)."""
    for scope, name in keys:
        day, done, opened = usage.get((scope, name), (today, 0, 0))
        if day != today:
            done, opened = 0, 0
        if done + 1 > getattr(limits, "changed_reports_per_" + scope):
            return "changed_reports_per_" + scope, done
        if opened + rows > getattr(limits, "new_rows_per_" + scope):
            return "new_rows_per_" + scope, opened + rows
    return None


def over_quarantine_bounds(limits, usage, size):
    """The first (attribute, count) a new quarantined entry of `size` bytes
    passes, or None: usage as SELECT_QUARANTINE_USAGE reads it (the
    entry's host, site and sender, and everything), the entry in it. The
    count is the entries there were, or the bytes there would be."""
    of_host, of_site, site_bytes, of_sender, sender_bytes, total, total_bytes = (
        int(value or 0) for value in usage)
    for attribute, held, is_bytes in (
            ("quarantine_per_host", of_host, False), ("quarantine_per_site", of_site, False),
            ("quarantine_bytes_per_site", site_bytes, True),
            ("quarantine_per_sender", of_sender, False),
            ("quarantine_bytes_per_sender", sender_bytes, True),
            ("quarantine_reports", total, False), ("quarantine_bytes", total_bytes, True)):
        if held > getattr(limits, attribute):
            return attribute, held if is_bytes else held - 1
    return None


class Quotas(Part):
    """The bounds (tables: quota_usage, quota_events), checked by the
    writer inside a report's transaction (with its cursor), and the
    events of the refusals."""

    def check_new_host(self, cursor, pending, site, limits, proven):
        """QuotaExceeded when a new host at `site` (of a PendingReport)
        would pass a day's quota: the junk quotas of its site and sender,
        or, for a report that proves its sender, its site's own quota."""
        received, sender = pending.received, pending.sender
        day = day_of(received)
        if proven:
            cursor.execute(self.sql.COUNT_NEW_PROVEN_HOSTS_OF_SITE, (site, day) + PROVEN_TRUST)
            counts = zip(("new_proven_hosts_per_site",), cursor.fetchone())
        else:  # (both in one statement)
            cursor.execute(self.sql.COUNT_NEW_HOSTS_OF_SITE_AND_SENDER, (site, day) + PROVEN_TRUST
                           + (sender[:MAX_SENDER], day) + PROVEN_TRUST)
            counts = zip(("new_hosts_per_site", "new_hosts_per_sender"), cursor.fetchone())
        for attribute, count in counts:
            if count >= getattr(limits, attribute):
                raise refusal(limits, attribute, count, received, site, pending.report.host,
                              sender, counts_host=False)

    def check_room(self, cursor, host, proven, pending, site, limits, rows):
        """QuotaExceeded when a report the rules would apply has no room
        left today (host: its statements.HostState, None for a new host;
        rows: no more intervals than it would open)."""
        if host is None:
            self.check_new_host(cursor, pending, site, limits, proven)
        elif host.set_hash is not None:  # (a host's first set is the new-host quotas')
            self.check_changes(cursor, host.id, pending, site, limits, proven, rows)

    def _read_usage(self, cursor, keys):
        return {(scope, name): (day, reports, rows) for scope, name, day, reports, rows
                in self._read_usage_rows(cursor, keys)}

    def _read_usage_rows(self, cursor, keys):
        cursor.execute(self.sql.SELECT_QUOTA_USAGE, [part for key in keys for part in key]
                       + [""] * (2 * (3 - len(keys))))
        return cursor.fetchall()

    def check_changes(self, cursor, host_id, pending, site, limits, proven, rows=0,
                      read=None):
        """Before a changed report's work: QuotaExceeded when its host,
        sender or (proving nothing) site has sent the day's most changed
        reports already, or would pass the day's new intervals with `rows`
        more (an estimate no larger than what the report opens). read: the
        rows as read with the host's (usage_of_text's text, "" for none),
        None: they are read here."""
        keys = usage_keys(host_id, site, pending.sender, proven)
        usage = self._read_usage(cursor, keys) if read is None else usage_of_text(read, keys)
        over = over_change_bounds(limits, day_of(pending.received), usage, keys, rows)
        if over is not None:
            raise refusal(limits, over[0], over[1], pending.received, site, pending.report.host,
                          pending.sender, counts_host=over[0].endswith("host"))

    def count_changes(self, cursor, host_id, pending, site, limits, proven, opened):
        """Count a changed report that opened `opened` intervals on its
        host's, sender's and (proving nothing) site's rows of the day;
        QuotaExceeded (its transaction rolls back: nothing stored) when
        that passes a bound. The rows are locked from here to the commit,
        so two collectors cannot both take the last place."""
        today = day_of(pending.received)
        keys = usage_keys(host_id, site, pending.sender, proven)
        marks = "(%s)" % self.db.marks(5)
        returning = self.dialect.returning  # (the rows as counted, without a read after)
        statement = self.sql.COUNT_QUOTA_USAGE_RETURNING if returning \
            else self.sql.COUNT_QUOTA_USAGE
        statement = statement.format(rows=", ".join([marks] * len(keys)))
        params = [value for scope, name in keys for value in (scope, name, today, 1, opened)]

        def check(rows):
            # (the report is counted already: compare without it)
            usage = {(scope, name): (day, reports, made) for scope, name, day, reports, made
                     in rows}
            before = {key: (day, done - 1, made - opened) for key, (day, done, made) in
                      usage.items()}
            over = over_change_bounds(limits, today, before, keys, opened)
            if over is not None:
                raise refusal(limits, over[0], over[1], pending.received, site,
                              pending.report.host, pending.sender,
                              counts_host=over[0].endswith("host"))
        defer_checked = getattr(cursor, "defer_checked", None)
        if returning and defer_checked is not None:
            # checked when it has gone, with the report's next statement that
            # has an answer (deferred.py): the refusal fails the transaction
            # all the same, a round trip later
            defer_checked(statement, params, check)
            return
        cursor.execute(statement, params)
        check(cursor.fetchall() if returning else self._read_usage_rows(cursor, keys))

    def bound_quarantine(self, cursor, pending, site, limits):
        """A report (a PendingReport) just quarantined at `site` replaces
        the entry of its host and signer (junk replaces junk; an entry of
        another signer never goes); QuotaExceeded (nothing kept) when the
        host, its site, the sender or the quarantine would hold more than
        it may."""
        sql, report, signer, sender = self.sql, pending.report, pending.signer, pending.sender
        if signer is None:
            cursor.execute(sql.DELETE_QUARANTINED_UNSIGNED, (site, report.host, report.digest))
        else:
            cursor.execute(sql.DELETE_QUARANTINED_OF_SIGNER, (site, report.host,
                                                              signer.fingerprint, report.digest))
        cursor.execute(sql.SELECT_QUARANTINE_USAGE, (site, report.host, site, site,
                                                     sender[:MAX_SENDER], sender[:MAX_SENDER]))
        over = over_quarantine_bounds(limits, cursor.fetchone(), len(report.plaintext))
        if over is not None:
            raise refusal(limits, over[0], over[1], pending.received, site, report.host, sender,
                          counts_host=over[0] == "quarantine_per_host")

    # -- the events

    def record_event(self, event, at):
        """Count a refusal on quota_events, in a transaction of its own
        (the refused report's has rolled back): one row a UTC day, setting,
        site, host and sender, with the first and last time. A database
        that fails here loses the count, never the refusal."""
        sql = self.sql
        day = day_of(at)

        def work(cursor):
            key = (day, event.setting, event.site, event.host, event.sender)
            cursor.execute(sql.ADD_QUOTA_EVENT, (at,) + key)
            if cursor.rowcount:
                return
            cursor.execute(sql.COUNT_QUOTA_EVENTS_OF_DAY, (day, event.site, day))
            of_site, of_day = cursor.fetchone()
            if of_day >= EVENT_ROWS_PER_DAY:
                key = (day, event.setting, "", "", "")
            elif of_site >= EVENT_ROWS_PER_SITE:
                key = (day, event.setting, event.site, "", "")
            cursor.execute(sql.DELETE_QUOTA_EVENTS_BEFORE, (day - EVENT_RETENTION_DAYS * DAY,))
            cursor.execute(sql.INSERT_QUOTA_EVENT, key + (at, at))
            cursor.execute(sql.ADD_QUOTA_EVENT, (at,) + key)
        try:
            self.db.transaction(work, refused="quota_events")
        except StoreError:
            pass

    def events(self, site=None, since=0):
        """[QuotaEventRow] of the UTC days from `since` on (of one site, if
        given), newest day first, the most refused first."""
        if site is None:
            rows = self.db.read(self.sql.SELECT_QUOTA_EVENTS, (day_of(since),), QuotaEventRow)
        else:
            rows = self.db.read(self.sql.SELECT_QUOTA_EVENTS_OF_SITE, (site, day_of(since)),
                                QuotaEventRow)
        return sorted(rows, key=lambda e: (-e.day, -e.refused, e.setting, site_order(e.site),
                                           e.host, e.sender))

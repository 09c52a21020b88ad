"""What the storage package raises: every message is one line, and none
holds a statement or a value the database was given. No exception of a
database driver leaves the package: Database.transaction turns each into
one of these."""

from ..closest import did_you_mean, stored_ones


class StoreError(Exception):
    """A storage problem that is not the database being away."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is overloaded: try again later."""


class ReadAgain(StoreUnavailable):
    """What a transaction read before it held the lock that guards it has
    changed since: Database.transaction runs it again, as after a deadlock
    (and says the database is busy if that keeps happening)."""


class DuplicateRow(StoreError):
    """A row that a unique key already holds (the same report again, a
    baseline revision written at the same time): the driver's integrity
    error, as storage's own (see dialect.execute_unique)."""


class DatabaseRefused(StoreError):
    """The database refused what a part asked (a row larger than it takes,
    say), where the part goes on without it: one line naming what."""


class ValueRefused(StoreError):
    """A value too long or out of range for its column (the driver's data
    error), which the limits of limits.py should have refused first: one
    line naming the column where the database names it, never the value."""


class StoreFault(Exception):
    """Anything else the database raised: a statement it does not take, a
    table or column that is not there, a constraint broken. A bug, or a
    database that is not this collector's schema: one line naming what
    failed, raised from the driver's exception (whose traceback the WSGI
    application writes to the server log, answering 500). Not a StoreError,
    which the front ends answer as a known condition (no such host: 404):
    a fault must never pass for one."""


class UnknownName(StoreError):
    """A name that names nothing stored (a site, a host, a baseline). The
    message says only that; apart from it, `suggestions` are the closest
    names that are there (closest.closest_names) and, where the officer is
    better told every one when none is close (baselines), `stored` holds
    them all (else None). They may name other sites: a front end shows
    them only to whom may read them (line() is the officer's)."""

    def __init__(self, message, suggestions=(), stored=None):
        StoreError.__init__(self, message)
        self.suggestions = tuple(suggestions)
        self.stored = None if stored is None else tuple(stored)

    def line(self):
        """The message with what was probably meant: "unknown site 'X':
        did you mean Y?" (or the stored ones)."""
        if self.suggestions:
            return "%s: %s" % (self, did_you_mean(self.suggestions))
        if self.stored is not None:
            return "%s: %s" % (self, stored_ones(self.stored))
        return str(self)


class UnknownHost(UnknownName):
    """No such host (or site), or a host name known at several sites."""


class AmbiguousHost(UnknownHost):
    """A host name known at several sites (`sites`): which one is meant is
    the caller's to ask."""

    def __init__(self, name, sites):
        UnknownHost.__init__(self, "host %r is known at several sites (%s)"
                             % (name, ", ".join(sites)))
        self.sites = list(sites)


class SchemaNotCurrent(StoreError):
    """The database has no schema (version None) or another version than
    this collector's (needed)."""

    def __init__(self, version, needed):
        StoreError.__init__(self, "database has no schema" if version is None else
                            "database schema version is %s, this collector needs %d"
                            % (version, needed))
        self.version = version
        self.needed = needed


class UnknownBaseline(UnknownName):
    """No stored baseline of that name (or revision)."""


class RetiredBaseline(UnknownBaseline):
    """A baseline `baseline delete` retired, named without a revision (or
    the revision that retired it): its revisions are read as NAME@REVISION."""


class QuotaExceeded(StoreError):
    """A bound of quotas.py reached (new hosts, changes of a day, the
    quarantine): the report is refused (HTTP 429) until retry_after seconds
    from now (the next UTC day); event: the quotas.QuotaEvent it counts as."""

    def __init__(self, message, retry_after, event=None):
        StoreError.__init__(self, message)
        self.retry_after = retry_after
        self.event = event


class UnknownQuarantined(StoreError):
    """No quarantined report of that id."""


class RepairRefused(StoreError):
    """An officer's repair that would hide a host or hand over its pin
    silently: nothing changed."""

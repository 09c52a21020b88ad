"""What a dialect is: the one place that says what every database back end
must provide (sqlite.SQLiteDialect, mysql.MySQLDialect), as Django's
database backends do. Capabilities (what the database can do, which
changes how the store uses it) come first, apart from the operations (what
it must do when asked). An operation every dialect must write raises
NotImplementedError here; one with a sensible default has it here, and a
dialect overrides it only where it differs.

Only the dialects know their driver: what the driver raises is turned here
into storage's own errors (errors.py) before any other part sees it."""

from .errors import DuplicateRow

# how much of a database's message an error keeps
MESSAGE_LIMIT = 200


def first_line(exc):
    """The first line of an exception's message, bounded: one line to show."""
    lines = str(exc).splitlines()
    return lines[0][:MESSAGE_LIMIT] if lines else type(exc).__name__


class Dialect(object):
    """The contract of a database back end. A dialect module subclasses it,
    sets the class attributes and implements every NotImplementedError."""

    # -- what it is

    # the name of its schema file (schema/NAME.sql) and upgrades directory
    name = None
    # a statement's parameter mark (for text built per call, see Database.marks)
    placeholder = None
    # the dialect's SQL: statements.compile_statements of its SharedSQL subclass
    sql = None
    # the driver's exceptions: a unique or foreign key refused, a value too
    # long or out of range for its column, and anything the database
    # refuses (never seen outside the dialect and Database)
    integrity_errors = ()
    value_errors = ()
    errors = ()

    # -- capabilities

    # A writer holds the whole database (True), or only its host's row
    # (False): with a global lock a report's lines are read before its
    # transaction, so a bad one never holds the lock.
    lock_is_global = False
    # The server has JSON_TABLE: many rows travel as one JSON parameter
    # (None until a connection has asked the server).
    json_table = False
    # The server returns the rows an INSERT wrote, ON DUPLICATE KEY UPDATE
    # too (MariaDB's RETURNING): a statement that counts or makes rows says
    # what they hold, without a read after it (None until asked).
    returning = False
    # Writes nothing waits for may be sent later, several as one statement
    # (deferred.py: MariaDB's compound statements; None until asked)
    defers = False

    @staticmethod
    def compile(text):
        """A statement of statements.SharedSQL's form ({p} where a
        parameter goes) in the driver's form; nothing else changes."""
        raise NotImplementedError

    # -- connections and transactions

    def connect(self):
        """A new connection, set up for the store (isolation, time zone,
        strictness); StoreUnavailable with one line if the database
        cannot be reached."""
        raise NotImplementedError

    def begin(self, conn, write):
        """Open a transaction on conn (write: one that will write). The
        default does nothing: the driver opens one with the first statement."""

    def snapshot(self, cursor):
        """Make the read-only transaction just begun on cursor's connection
        see one snapshot in all its statements (a question read in several
        statements must not see half of a report stored meanwhile). The
        default does nothing: SQLite's read transaction is one snapshot."""

    def cursor(self, conn):
        """A cursor for one transaction's work on conn."""
        return conn.cursor()

    def defer(self, cursor, statement, params, unique_key=None):
        """Run a write whose answer nobody reads (its row count, its row's
        id): now by default, or later with the next statement that has one
        where the dialect's cursor defers (deferred.py). unique_key: a
        duplicate of that key is DuplicateRow, as execute_unique's."""
        defer = getattr(cursor, "defer", None)
        if defer is not None:
            defer(statement, params, unique_key)
        elif unique_key is None:
            cursor.execute(statement, params)
        else:
            execute_unique(self, cursor, statement, params)

    def finish(self, cursor):
        """Send what the transaction's work left deferred, before its
        commit (errors as the statements' own)."""

    def release_memory(self, conn):
        """Give back what a large write made the connection cache. The
        default does nothing (a server holds its own cache)."""

    def is_retryable(self, exc):
        """Whether exc is a deadlock or lock timeout, which Database.transaction
        runs again."""
        raise NotImplementedError

    def is_unavailable(self, exc):
        """Whether exc means the database is away or overloaded (the client
        should come back later: HTTP 503)."""
        raise NotImplementedError

    def is_duplicate(self, exc):
        """Whether exc is the database refusing a row a unique key already holds."""
        return isinstance(exc, tuple(self.integrity_errors))

    def is_refusal(self, exc):
        """Whether exc is anything the database refused (a statement, a row
        too large, a constraint): raised by the driver, not by the store."""
        return isinstance(exc, tuple(self.errors))

    def is_value_refusal(self, exc):
        """Whether exc is the database refusing a value its column cannot
        hold (too long, out of range)."""
        return isinstance(exc, tuple(self.value_errors))

    def error_line(self, exc):
        """What the database refused, in one line to show: never the
        statement nor a value it was given (a value may be anything a
        stranger sent). The default: the first line of its message."""
        return first_line(exc)

    def describe(self):
        """The database as a URL without its password, for messages."""
        raise NotImplementedError

    def answers(self, statement, timeout):
        """Whether the database runs `statement` (a trivial read) within
        about `timeout` seconds, on a connection of its own with every
        wait bounded by `timeout` (the store's connections wait as long as
        the work needs), opened for it or kept from the last call. Never
        raises: a database that is away, hangs or refuses is False."""
        raise NotImplementedError

    def close(self):
        """Close what the dialect keeps of its own (answers' connection).
        The default does nothing."""

    # -- the database itself

    def exists(self):
        """Whether the database is there to be filled. The default: yes (a
        server database is made by its operator; init-db fills it)."""
        return True

    def check_writable(self):
        """StoreError with one line unless this user may write the
        database. The default does nothing: the server's grants decide,
        and a refused write is an error at once."""

    def after_create(self):
        """What creating the database did besides (a line to show), or None."""
        return None

    def discard_new(self):
        """Remove what a failed creation left. The default does nothing
        (init-db never makes a server's database)."""

    def run_script(self, conn, text):
        """Run a schema file (statements ending with ';') and commit."""
        raise NotImplementedError

    def table_exists(self, cursor, table):
        """Whether the table is there."""
        raise NotImplementedError

    # -- what is written and read differently

    def insert_packages(self, cursor, packager, rows):
        """Insert package rows (name, version, arch, key, source) of this
        packager, leaving those there already as they are."""
        raise NotImplementedError

    def select_package_ids(self, cursor, keys):
        """{key: id} of the package rows there are of these keys (bytes)."""
        raise NotImplementedError

    def find_package_ids(self, cursor, packager, packages):
        """{package: id} of the package rows there are of these packages
        ((name, version, arch) of this packager), their keys made by the
        database; None where the dialect does not (then select_package_ids
        of the keys made in Python)."""
        return None

    def find_or_make_package_ids(self, cursor, packager, packages, sources):
        """({package: id} of `packages`, [id of the rows made now]): the
        rows not there made (with their source from {name: source}) and
        all found at once; None where the dialect does not (then
        find_package_ids, and the rows missing made after)."""
        return None

    def insert_package_ids(self, cursor, packager, rows):
        """insert_packages, and {key: id} of every row (made now or there
        already) in the same statement; None where the dialect cannot, or
        would build too many result rows (then select_package_ids)."""
        return None

    def insert_installs(self, cursor, host_id, package_ids, installed):
        """Open an interval of each package id on the host, from `installed`."""
        raise NotImplementedError

    def hosts_at(self, cursor, at, site):
        """[records.HostAt] of the hosts known at `at` (of one site, if
        given), ordered by site then name (records.host_order)."""
        raise NotImplementedError

    def set_reports(self, cursor):
        """{host id: set_report or 0} of the hosts known now."""
        raise NotImplementedError

    def holder_bitmaps(self, cursor, package_ids, at):
        """{package id: bitmap (bytes; bit i of byte i // 8 is host id i)
        of the hosts that held the package row at `at`}."""
        raise NotImplementedError

    # -- bulk loads (store.testing: benchmarks and tests)

    def bulk_begin(self, cursor):
        """Ready a bulk load of installs; returns what bulk_end needs."""
        return None

    def bulk_installs(self, cursor, rows):
        """Insert (host id, package id, installed, removed) rows."""
        cursor.executemany(self.sql.INSERT_INTERVAL, rows)

    def bulk_end(self, cursor, state):
        """Undo what bulk_begin did (state: what it returned)."""

    # -- the schema as it is

    def storage_bytes(self, conn):
        """The bytes the database takes on disk, once compacted."""
        raise NotImplementedError

    def schema_shape(self, cursor):
        """The tables, columns, indexes and foreign keys as the database
        reports them: two databases of one dialect with equal shapes have
        the same schema."""
        raise NotImplementedError


def execute_unique(dialect, cursor, statement, params):
    """Run an INSERT whose row a unique key may already hold: DuplicateRow
    (storage's own error) if it does, instead of the driver's exception."""
    try:
        cursor.execute(statement, params)
    except Exception as exc:
        if dialect.is_duplicate(exc):
            raise DuplicateRow(dialect.error_line(exc))
        raise

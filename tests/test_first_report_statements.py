"""A new host's first report of 1,500 packages is written in a bounded
number of statements on both back ends: its interval rows and package rows
go in multi-row statements, and its package ids are found in one pass, not
a statement (nor a prepared statement's step) a row."""

from helpers import make_report
from wlcg_collector.report import parse_report
from wlcg_collector.statuses import CHANGED

T0 = 1767225600
PACKAGES = 1500
# site, host, lock, report row, host's state, facts, package ids and rows,
# intervals, the resolve-first pass: far fewer than the rows
BOUND = 30


def packages(prefix, count=PACKAGES):
    return [("%s-%04d" % (prefix, i), "0:1.%d-1.el9" % i, "x86_64") for i in range(count)]


def spy_statements(store, monkeypatch):
    """The statements the store's cursors send from now on: one for an
    execute, one for each row of an executemany."""
    sent = []
    transaction = store.db.transaction

    class Counting(object):
        def __init__(self, cursor):
            self._cursor = cursor

        def execute(self, statement, params=None):
            sent.append(statement)
            return self._cursor.execute(statement, params) if params is not None \
                else self._cursor.execute(statement)

        def executemany(self, statement, rows):
            rows = list(rows)
            sent.extend([statement] * len(rows))
            return self._cursor.executemany(statement, rows)

        def __getattr__(self, name):
            found = getattr(self._cursor, name)
            if name == "defer":
                def defer(statement, params=None, unique_key=None):  # (sent later)
                    sent.append(statement)
                    return found(statement, params, unique_key)
                return defer
            if name == "defer_checked":
                def defer_checked(statement, params, check):  # (sent later, then checked)
                    sent.append(statement)
                    return found(statement, params, check)
                return defer_checked
            if name == "execute_together":
                def execute_together(statements):  # (several in one block)
                    statements = list(statements)
                    sent.extend(statement for statement, _ in statements)
                    return found(statements)
                return execute_together
            return found

    def spy(work, write=True, refused=None):
        return transaction(lambda cursor: work(Counting(cursor)), write, refused)
    monkeypatch.setattr(store.db, "transaction", spy)
    return sent


def first_report(store, host, rows, day=0):
    report = parse_report(make_report("T2_TEST", host, rows, ts=T0 + day * 86400))
    return store.writer.store_report(report, T0 + day * 86400 + 60, "192.0.2.1")


def test_a_first_report_of_new_packages_is_a_few_statements(store, monkeypatch):
    sent = spy_statements(store, monkeypatch)
    assert first_report(store, "wn01.example.org", packages("new")).outcome == CHANGED
    assert len(sent) <= BOUND, len(sent)
    assert store.db.read_one("SELECT COUNT(*) FROM installs")[0] == PACKAGES
    assert store.db.read_one("SELECT COUNT(*) FROM packages")[0] == PACKAGES


def test_a_new_hosts_report_of_known_and_new_packages_is_a_few_statements(store,
                                                                          monkeypatch):
    assert first_report(store, "wn01.example.org", packages("shared")).outcome == CHANGED
    store.writer.package_ids = type(store.writer.package_ids)()  # another process
    sent = spy_statements(store, monkeypatch)
    mixed = packages("shared")[:1000] + packages("own", 500)
    assert first_report(store, "wn02.example.org", mixed, day=1).outcome == CHANGED
    assert len(sent) <= BOUND, len(sent)
    assert store.db.read_one("SELECT COUNT(*) FROM installs")[0] == 2 * PACKAGES
    assert store.db.read_one("SELECT COUNT(*) FROM packages")[0] == 2000
    held = store.db.read_one(
        "SELECT COUNT(*) FROM installs i JOIN hosts h ON h.id = i.host_id "
        "WHERE h.name = 'wn02.example.org' AND i.removed IS NULL")[0]
    assert held == PACKAGES


# a new host on a fleet whose package rows are made, with a few of its own:
# site, host and open set, alias, the new-host quotas (one statement), the
# host's row (MariaDB: read back by the insert), its own package rows looked
# for and made (MariaDB: their ids answered by the insert), intervals, open
# set, report, facts, host's state
NEW_HOST_BOUND = {"sqlite": 14, "mysql": 12}


def test_a_new_hosts_first_report_on_a_known_fleet_is_a_dozen_statements(store, monkeypatch):
    assert first_report(store, "wn01.example.org", packages("shared")).outcome == CHANGED
    sent = spy_statements(store, monkeypatch)  # (the process knows the fleet's ids)
    mixed = packages("shared")[:1450] + packages("own", 50)
    assert first_report(store, "wn02.example.org", mixed, day=1).outcome == CHANGED
    assert len(sent) <= NEW_HOST_BOUND[store.db.dialect.name], sent
    assert store.db.read_one("SELECT COUNT(*) FROM packages")[0] == PACKAGES + 50
    assert sorted(store.hosts.state(store.hosts.find("wn02.example.org").id)) == sorted(mixed)

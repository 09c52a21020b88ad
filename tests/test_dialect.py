"""The dialect contract (db/dialect.py): each back end provides every
operation the base declares, and what the driver raises stays inside
storage, as storage's own errors."""

import inspect

import pytest

from wlcg_collector.db import StoreError
from wlcg_collector.db.dialect import Dialect
from wlcg_collector.db.errors import DatabaseRefused, DuplicateRow, StoreFault
from wlcg_collector.db.mysql import MySQLDialect
from wlcg_collector.db.sqlite import SQLiteDialect


def required_operations():
    """The operations every dialect must write itself (no default)."""
    names = []
    for name, member in vars(Dialect).items():
        function = member.__func__ if isinstance(member, staticmethod) else member
        if callable(function) and "raise NotImplementedError" in inspect.getsource(function):
            names.append(name)
    return names


@pytest.mark.parametrize("dialect", [SQLiteDialect, MySQLDialect])
def test_each_dialect_provides_every_operation_the_base_declares(dialect):
    assert issubclass(dialect, Dialect)
    required = required_operations()
    assert "connect" in required and "hosts_at" in required
    missing = [name for name in required if getattr(dialect, name) is getattr(Dialect, name)]
    assert missing == []
    for name in ("name", "placeholder", "sql"):
        assert getattr(dialect, name) is not None


def test_a_row_a_unique_key_holds_is_storage_s_own_error(store):
    def work(cursor):
        store.db.execute_unique(cursor, store.db.sql.INSERT_BASELINE, ("b", 1, 0, "t"))
        store.db.execute_unique(cursor, store.db.sql.INSERT_BASELINE, ("b", 1, 0, "t"))
    with pytest.raises(DuplicateRow) as raised:
        store.db.transaction(work)
    assert isinstance(raised.value, StoreError)
    assert "\n" not in str(raised.value)
    assert store.baselines.latest() == []  # rolled back


def test_a_baseline_revision_written_at_the_same_time_is_one_line(store, monkeypatch):
    """Two `baseline add` of one name at once: the second one's revision is
    taken; it is told so in one line, not with the driver's exception."""
    store.baselines.add("b", "text", 1)
    monkeypatch.setattr(store.db.sql, "SELECT_BASELINE_REVISION",
                        store.db.dialect.compile("SELECT 0 FROM baselines WHERE name = {p}"))
    with pytest.raises(StoreError, match=r"^baseline 'b' was changed at the same time"):
        store.baselines.add("b", "text", 2)


def test_what_the_database_refuses_is_named_when_the_caller_goes_on(store):
    def work(cursor):
        cursor.execute("SELECT * FROM no_such_table")
    with pytest.raises(DatabaseRefused, match=r"^holders_cache: ") as raised:
        store.db.transaction(work, refused="holders_cache")
    assert "\n" not in str(raised.value)
    with pytest.raises(StoreFault) as raised:  # unnamed: a fault, never a known condition
        store.db.transaction(work)
    assert not isinstance(raised.value, StoreError)
    assert "\n" not in str(raised.value) and "SELECT" not in str(raised.value)


def test_rows_are_read_by_name_not_by_position():
    """A row of more than one column is read as a named record (defined
    beside its statement), not as row[4] or row[8:10]."""
    import glob
    import os
    import re
    from helpers import ROOT
    positional = re.compile(r"(?<![`\w])row\[(-|[1-9]|:|0:)")
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "wlcg_collector", "db", "*.py"))):
        with open(path, encoding="utf-8") as source:
            for number, line in enumerate(source, 1):
                code = line.split("#")[0]
                if positional.search(code):
                    found.append("%s:%d" % (os.path.basename(path), number))
    assert found == []


def test_a_host_s_row_read_by_name_has_its_hashes_and_key_as_bytes():
    from wlcg_collector.db.statements import HostState, SharedSQL
    assert SharedSQL.PEEK_HOST.startswith("SELECT " + ", ".join(HostState._fields) + " FROM")
    row = HostState.of((7, memoryview(b"s"), 3, 1, "signed", bytearray(b"k"), 5, 6,
                        memoryview(b"b"), 2, None))
    assert (row.id, row.set_hash, row.key_fingerprint, row.block_hash, row.facts_hash) == (
        7, b"s", b"k", b"b", None)
    assert HostState.of(None) is None

"""Statements on one host's interval of one package row search the primary
key (host_id, package_id, ...): since schema 13 installs has no index by
host, and SQLite, left to itself, chose installs_package (package_id,
removed, ...), which holds every host that has that package row open (a
site merge ran one such statement an interval it joins)."""


def test_extending_an_interval_searches_the_primary_key(store):
    sql, dialect = store.db.sql, store.db.dialect
    statement = sql.EXTEND_INTERVAL

    def work(cursor):
        if dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, (1, 2, 3))
            return [row[3] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN " + statement, (1, 2, 3))
        return [row[5] for row in cursor.fetchall()]  # the key chosen
    plan = store.db.transaction(work, write=False)
    if dialect.name == "sqlite":
        assert plan == ["SEARCH installs USING PRIMARY KEY (host_id=? AND package_id=?)"], plan
    else:
        assert plan == ["PRIMARY"], plan

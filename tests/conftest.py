import os
import sys

import pytest

from helpers import (ScriptedCollector, build_rpm_db, load_reporter, make_key_pair, run_cli,
                     run_reporter_in_process, write_config, wsgi_call)


@pytest.fixture(scope="session")
def collector_keys(tmp_path_factory):
    """(key, cert) of a throwaway collector key pair."""
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def rpm_dbpath(tmp_path_factory):
    return build_rpm_db(tmp_path_factory.mktemp("rpm"))


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def reporter_module():
    """The reporter script imported as a module (its main and pure functions)."""
    return load_reporter()


@pytest.fixture
def reporter_run(reporter_module, home, monkeypatch):
    """Run the reporter's main() in this process on a fake clock, in the
    environment of a cron job (see helpers.clean_env): run(args)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name.startswith("XDG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    return lambda args: run_reporter_in_process(reporter_module, args)


@pytest.fixture
def collector():
    """A factory of scripted local collectors, all closed at the end."""
    made = []

    def make(script=None, tls=None):
        server = ScriptedCollector(script, tls)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


def pytest_configure(config):
    os.environ.pop("http_proxy", None)
    os.environ.pop("https_proxy", None)
    from databases import share_ssl_contexts
    share_ssl_contexts()


# Files of few tests that take long (builds, servers of their own, fuzzing,
# waiting out deadlines), in the order they start: pytest-xdist hands out
# the files with the most tests first, so these came last, and a worker
# began one when the others were done. make test keeps this order
# (--no-loadscope-reorder); the other files follow, the most tests first.
SLOW_FILES = ("test_deployment.py", "test_hardening.py", "test_galera.py", "test_replica.py",
              "test_end_to_end.py", "test_serve.py", "test_devserver.py", "test_report_cost.py",
              "test_browser.py", "test_demo.py")


def pytest_collection_modifyitems(items):
    files = [item.nodeid.split("::")[0].rsplit("/", 1)[-1] for item in items]
    tests = {name: files.count(name) for name in set(files)}

    def rank(name):
        if name in SLOW_FILES:
            return 0, SLOW_FILES.index(name)
        return 1, -tests[name]
    order = {id(item): rank(name) for item, name in zip(items, files)}
    items.sort(key=lambda item: order[id(item)])  # (stable: a file's order is kept)


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import ScratchMySQL, mysql_available  # noqa: E402


def _require_mysql():
    if mysql_available():
        return
    if os.environ.get("CI"):
        pytest.fail("MariaDB is not reachable on 127.0.0.1:3306 (root, no password); in CI "
                    "the MySQL tests must run")
    pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")


def _scratch_mysql_url():
    _require_mysql()
    scratch = ScratchMySQL()
    try:
        yield scratch.url
    finally:
        scratch.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A new SQLite database, copied for each test that asks for one."""
    from databases import SQLiteTemplate
    return SQLiteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def mysql_pool():
    """This process's MariaDB databases, each like a new one when handed out."""
    from databases import MySQLPool
    pool = MySQLPool()
    yield pool
    pool.close()


def _pooled_mysql_url(pool):
    _require_mysql()
    name, url = pool.acquire()
    try:
        yield url
    finally:
        pool.release(name)


@pytest.fixture(params=["sqlite", "mysql"])
def database_url(request, tmp_path, sqlite_template, mysql_pool):
    """A database URL of each back end, the database as a new one after
    init-db: the schema of this version and nothing else (see databases.py;
    fresh_database_url for one without the schema)."""
    if request.param == "sqlite":
        yield sqlite_template.url(tmp_path / "collector.db")
    else:
        yield from _pooled_mysql_url(mysql_pool)


@pytest.fixture(params=["sqlite", "mysql"])
def fresh_database_url(request, tmp_path):
    """A database URL of each back end with nothing in it yet, not even
    the schema: for init-db itself and schema upgrades."""
    if request.param == "sqlite":
        yield "sqlite:///%s" % (tmp_path / "collector.db")
    else:
        yield from _scratch_mysql_url()


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def module_database_url(request, tmp_path_factory, sqlite_template, mysql_pool):
    """A database URL of each back end as database_url's, shared by the
    tests of one module that only read it."""
    if request.param == "sqlite":
        yield sqlite_template.url(tmp_path_factory.mktemp("db") / "collector.db")
    else:
        yield from _pooled_mysql_url(mysql_pool)


@pytest.fixture(scope="session")
def built_databases(tmp_path_factory, sqlite_template, mysql_pool):
    """Databases built once a process (a module's fleet) and copied into
    a test's database_url: built_databases.copy(build, url)."""
    from databases import BuiltDatabases
    return BuiltDatabases(tmp_path_factory.mktemp("built"), sqlite_template, mysql_pool)


@pytest.fixture
def mysql_url(mysql_pool):
    """A MariaDB database as database_url's, for what only the MySQL
    dialect does."""
    yield from _pooled_mysql_url(mysql_pool)


def _new_store(url):
    from wlcg_collector.db import open_store
    store = open_store(url)
    store.schema.init()
    return store


@pytest.fixture
def store(database_url):
    store = _new_store(database_url)
    yield store
    store.close()


@pytest.fixture
def mysql_store(mysql_url):
    """A store on a MariaDB database (mysql_url's), for what only the
    MySQL dialect does."""
    store = _new_store(mysql_url)
    yield store
    store.close()


@pytest.fixture
def wsgi_collector(tmp_path, database_url, collector_keys):
    """A collector on the test's database, driven as a stranger and the
    officer would: (make_app(**options), the store, post(app, body, sender)
    -> (status, headers, text), cli(args))."""
    from wlcg_collector import create_app
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()

    def make_app(**options):
        return create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys],
                                       **options))

    def post(app, body, sender="192.0.2.7"):
        status, headers, out, _ = wsgi_call(app, body, environ_extra={"REMOTE_ADDR": sender})
        return status, headers, out.decode()

    def cli(*args):
        return run_cli(["--db", database_url] + list(args))
    yield make_app, store, post, cli
    store.close()


@pytest.fixture
def app_and_store(tmp_path, database_url, collector_keys):
    """(the WSGI application taking plaintext reports, its store)."""
    from wlcg_collector import create_app
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.schema.init()
    app = create_app(write_config(tmp_path / "c.conf", database_url, [collector_keys],
                                  allow_plaintext="yes"))
    yield app, store
    store.close()

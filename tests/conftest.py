import os
import sys

import pytest

from helpers import ScriptedCollector, build_rpm_db, make_key_pair


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


@pytest.fixture(params=["sqlite", "mysql"])
def database_url(request, tmp_path):
    """A fresh, empty database URL of each back end."""
    if request.param == "sqlite":
        yield "sqlite:///%s" % (tmp_path / "collector.db")
    else:
        yield from _scratch_mysql_url()


@pytest.fixture
def mysql_url():
    """A fresh, empty MariaDB database, for what only the MySQL dialect does."""
    yield from _scratch_mysql_url()


@pytest.fixture
def store(database_url):
    from wlcg_collector.db import open_store
    store = open_store(database_url)
    store.init_schema()
    yield store
    store.close()

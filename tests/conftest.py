import os

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

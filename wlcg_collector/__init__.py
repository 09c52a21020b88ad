"""wlcg_collector: receives the encrypted package reports of WLCG hosts,
keeps them with their history, and answers the middleware officer's
questions about them."""

import sys

__version__ = "0.9.1"


def check_schema(store):
    """StoreError, saying what to run, unless the database has this
    collector's schema: the start-up check of the command line and of the
    WSGI application (storage says which version it found, not what to
    run)."""
    from .db.errors import SchemaNotCurrent, StoreError
    try:
        store.schema.check()
    except SchemaNotCurrent as exc:
        raise StoreError("%s: run wlcg-collector init-db" % exc)


def check_site_readers(store, config):
    """ConfigError naming the file and line of a site reader's site that
    the collector does not know (a typo reads nothing, silently)."""
    from .config import ConfigError
    problem = config.site_readers.unknown_site(store)
    if problem:
        raise ConfigError("config file %s: [officer] site_readers %s" % (config.path, problem))


def create_app(config_path=None, database=None, keys=None, certs=None, officer_token=None):
    """The WSGI application, configured from the INI file (config_path, else
    $WLCG_COLLECTOR_CONFIG, else /etc/wlcg-collector/collector.conf) and
    the overrides. Configuration problems raise ConfigError at once.
    officer_token, when given, also lets a browser holding it read the
    officer's pages (the development server's way in)."""
    from .config import ConfigError, check_key_pairs, load_config
    from .db import StoreError, StoreUnavailable, open_store
    from .web import CollectorApp

    config = load_config(config_path, database=database, keys=keys, certs=certs)
    check_key_pairs(config)
    store = open_store(config.database, config.package_cache, config.read_connections)
    try:
        store.schema.check_writable()
        check_schema(store)
        check_site_readers(store, config)
    except StoreUnavailable as exc:
        # Start anyway: ingest answers 503 until the database is back.
        sys.stderr.write("wlcg-collector: warning: %s\n" % exc)
    except StoreError as exc:
        raise ConfigError(str(exc))
    finally:
        store.close()
    read_store = None
    if config.read_database:  # the officer's pages read from the replica
        read_store = open_store(config.read_database, config.package_cache,
                                config.read_connections)
    return CollectorApp(config, store, officer_token, read_store)

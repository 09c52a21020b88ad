"""The collector for Apache mod_wsgi (WSGIScriptAlias / .../wlcg-collector.wsgi).

The configuration is /etc/wlcg-collector/collector.conf, or the file named
by $WLCG_COLLECTOR_CONFIG in the daemon process's environment.
"""
from wlcg_collector import create_app

application = create_app()

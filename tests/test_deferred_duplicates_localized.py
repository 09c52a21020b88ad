"""A duplicate digest found when a deferred write goes (MariaDB) is
"stored already" whatever language the server speaks: the key is read
from the server's message, which an operator's lc_messages would
otherwise translate (before deferral, any duplicate of the report's
insert was, whatever its words)."""


from helpers import make_report
from wlcg_collector.db.records import PendingReport
from wlcg_collector.report import parse_report
from wlcg_collector.statuses import CHANGED, DUPLICATE

T0 = 1767225600


def pending(host):
    text = make_report("T2_TEST", host, [("bash", "0:5.1.8-9.el9", "x86_64")], ts=T0)
    return PendingReport(parse_report(text, lazy=True), T0 + 60, "192.0.2.1")


def _server_speaks_german(store):
    """As a server configured with lc_messages = de_DE: every new session
    starts in German (the global setting is the whole server's, so the
    test's sessions start so instead)."""
    dialect = store.db.dialect
    driver = dialect.pymysql

    class German(object):
        def __getattr__(self, name):
            return getattr(driver, name)

        @staticmethod
        def connect(**params):
            return driver.connect(init_command="SET SESSION lc_messages = 'de_DE'", **params)
    dialect.pymysql = German()
    store.db.drop_connection()


def test_the_same_report_twice_in_a_batch_is_stored_once_in_any_language(mysql_store):
    _server_speaks_german(mysql_store)
    results = mysql_store.writer.store_reports([pending("wn1.example.org"),
                                                 pending("wn1.example.org")])
    assert [r.outcome for r in results] == [CHANGED, DUPLICATE]


def test_a_report_stored_already_is_a_duplicate_in_any_language(mysql_store):
    _server_speaks_german(mysql_store)
    assert mysql_store.writer.store_report(*pending("wn2.example.org")).outcome == CHANGED
    assert mysql_store.writer.store_report(*pending("wn2.example.org")).outcome == DUPLICATE

"""A batch of reports (`wlcg-collector ingest`) whose bodies are stored
already, as pakiti-client's unchanged report is (the same text every day,
no ts), costs a statement to find them and one to count them, in the
batch's one transaction: not a rolled-back batch and two transactions a
report. And where its site name leads is read once a batch."""

from helpers import make_report
from test_first_report_statements import spy_statements
from wlcg_collector.db.records import PendingReport
from wlcg_collector.report import parse_report
from wlcg_collector.statuses import CHANGED, DUPLICATE

T0 = 1767225600
HOSTS = 10


def body(index, version=1):
    """pakiti-client's report: no ts, the same text while nothing changes."""
    return make_report("T2_TEST", "wn%02d.example.org" % index,
                       [("bash", "0:5.1.8-%d.el9" % version, "x86_64"),
                        ("kernel", "0:5.14.0-427.el9", "x86_64")])


def pending(text, day):
    return PendingReport(parse_report(text, lazy=True), T0 + day * 86400, "192.0.2.1")


def duplicates(store):
    return sorted(row[0] for row in store.db.read("SELECT duplicates FROM reports"))


def test_reports_sent_again_are_counted_in_the_batchs_transaction(store, monkeypatch):
    first = [pending(body(i), 0) for i in range(HOSTS)]
    assert [r.outcome for r in store.writer.store_reports(first)] == [CHANGED] * HOSTS
    transactions = []
    transaction = store.db.transaction
    monkeypatch.setattr(store.db, "transaction", lambda work, *args, **kwargs: (
        transactions.append(work), transaction(work, *args, **kwargs))[1])
    sent = spy_statements(store, monkeypatch)
    again = [pending(body(i), 1) for i in range(HOSTS)] + [pending(body(0), 1)]
    again.append(pending(body(HOSTS), 1))  # a new host among them
    results = store.writer.store_reports(again)
    assert [r.outcome for r in results] == [DUPLICATE] * (HOSTS + 1) + [CHANGED]
    assert len(transactions) == 1
    resends = [s for s in sent if "digest" in s and not s.startswith(("INSERT", "UPDATE hosts"))]
    assert len(resends) == 3, resends  # found, counted once, counted twice
    assert duplicates(store) == [0] + [1] * (HOSTS - 1) + [2]
    # the new host's report is stored as ever
    assert store.hosts.find("wn%02d.example.org" % HOSTS) is not None



def test_a_batch_asks_where_its_site_name_leads_once(store, monkeypatch):
    """A batch of one site's reports (a relay's spool) reads the site's
    list entry and aliases once, in the batch's transaction."""
    sent = spy_statements(store, monkeypatch)
    results = store.writer.store_reports([pending(body(i), 0) for i in range(HOSTS)])
    assert [r.outcome for r in results] == [CHANGED] * HOSTS
    assert len([s for s in sent if "site_lists" in s]) == 1
    assert {r.site.site for r in results} == {"T2_TEST"}

"""The officer's web pages, in-process: every page, the access rules, the
downloads, the security headers, and hostile text from hosts."""

import csv
import html.parser
import io
import json
import re
import urllib.parse

import pytest

from helpers import make_report, write_config, wsgi_call
from test_officer import BASELINE, DAY, T0, date, store_advisory, store_fleet
from wlcg_collector import create_app
from wlcg_collector.access import normalise_dn
from wlcg_collector.baselines import parse_baseline
from wlcg_collector.report import parse_report
from wlcg_collector.db import open_store

DN_2253 = "CN=Jane Officer,OU=Users,OU=Organic Units,DC=cern,DC=ch"
DN_LEGACY = "/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=Jane Officer"
HOSTILE = "<script>document.body.setAttribute('data-pwned','1')</script>"


def get(app, path, query="", **environ_extra):
    status, headers, body, _ = wsgi_call(app, method="GET", path=path, query=query,
                                         content_length=False, environ_extra=environ_extra)
    return status, headers, body.decode("utf-8")


@pytest.fixture(scope="module")
def app(tmp_path_factory, module_database_url, collector_keys):
    """The collector application over the test fleet: built once a module
    and back end, since the pages only read."""
    database_url = module_database_url
    tmp_path = tmp_path_factory.mktemp("pages")
    store = open_store(database_url)
    store.schema.init()
    store_fleet(store)
    # a host whose report is made of HTML and script
    store.writer.store_report(parse_report(make_report(
        "T2_EVIL", "evil.example.org", [("<img_src=x_onerror=alert(1)>", "0:1-1", "x86_64"),
                                        ("bash", "0:5.1-1", "x86_64")],
        ts=T0 + 4 * DAY, system=HOSTILE, tag="<b>bold</b>")), T0 + 4 * DAY, "192.0.2.1")
    store.baselines.add("osg", BASELINE, T0)
    # applies to T2_C's EL7 host only; its alma9 line to no host
    store.baselines.add("el7only", "[system: alma9]\nxrootd >= 1:5.7.1\n[system: el7]\n"
                                   "xrootd >= 1:4.12.6\n", T0)
    store_advisory(store, "Important: " + HOSTILE)
    # a campaign on the fleet's advisory, by someone whose name is script
    campaign = store.campaigns.add("xrootd", "advisory", "ALSA-2026:0001", None, T0 + 7200,
                                   T0 + 2 * DAY, T0, HOSTILE)
    store.campaigns.record_notice(campaign, "T2_D", "notice", T0 + DAY,
                                  ["csirt@d.example.org"], "<%s@example.org>" % HOSTILE, "jdoe")
    store.close()
    config = tmp_path / "collector.conf"
    write_config(config, database_url, [collector_keys])
    with open(str(config), "a") as handle:
        handle.write("[officer]\nallow = %s\n    jdoe\nstale_days = 2\n" % DN_2253)
    return create_app(str(config), officer_token="s3cret-token")


OFFICER = {"SSL_CLIENT_S_DN": DN_LEGACY, "SSL_CLIENT_VERIFY": "SUCCESS"}

PAGES = [
    ("/officer/", ""), ("/officer/", "baseline=osg&sort=compliance&order=desc"),
    ("/officer/site/T2_A", "baseline=osg"), ("/officer/host/T2_A/a1.example.org", ""),
    ("/officer/host/T2_A/a1.example.org", "at=%s&q=xroot" % date(0)),
    ("/officer/baseline/osg", ""), ("/officer/baseline/osg@1", "site=T2_B&at=%s" % date(2)),
    ("/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s" % (date(0), date(4))),
    ("/officer/adoption", ""), ("/officer/site/T2_EVIL", ""), ("/officer/quarantine", ""),
    ("/officer/quarantine", "site=T2_A"),
    ("/officer/host/T2_EVIL/evil.example.org", ""), ("/officer/static/style.css", ""),
    ("/officer/advisories", ""), ("/officer/advisories", "sort=hosts&order=desc"),
    ("/officer/advisories", "severity=low"), ("/officer/advisory/ALSA-2026:0001", ""),
    ("/officer/campaigns", ""), ("/officer/campaign/xrootd", ""),
]


@pytest.mark.parametrize("path,query", PAGES)
def test_every_page_for_an_officer(app, path, query):
    status, headers, body = get(app, path, query, **OFFICER)
    assert status == 200, body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    if path.endswith(".css"):
        assert headers["Content-Type"] == "text/css"
        return
    assert body.startswith("<!DOCTYPE html>")
    assert "<script" not in body  # no script at all, ours or theirs


@pytest.mark.parametrize("environ", [
    {},                                                       # no identity
    {"SSL_CLIENT_S_DN": "CN=Mallory,OU=Users,DC=cern,DC=ch"},  # not on the list
    {"REMOTE_USER": "mallory"},
    {"SSL_CLIENT_S_DN": DN_2253, "SSL_CLIENT_VERIFY": "FAILED:expired"},
    {"SSL_CLIENT_S_DN": DN_2253},                             # no word that it verified
    {"SSL_CLIENT_S_DN": DN_2253, "SSL_CLIENT_VERIFY": "success"},
    {"REMOTE_USER": DN_2253},                                 # a user name is not a DN
    {"HTTP_COOKIE": "wlcg_officer=wrong"},
])
def test_who_may_not_read(app, environ):
    for path, query in PAGES:
        status, _, body = get(app, path, query, **environ)
        assert status == 403
        assert "T2_A" not in body and "xrootd" not in body and "a1.example" not in body


@pytest.mark.parametrize("environ", [
    {"SSL_CLIENT_S_DN": DN_2253, "SSL_CLIENT_VERIFY": "SUCCESS"},
    {"SSL_CLIENT_S_DN": DN_LEGACY, "SSL_CLIENT_VERIFY": "SUCCESS"}, {"REMOTE_USER": "jdoe"},
    {"HTTP_COOKIE": "other=1; wlcg_officer=s3cret-token"},
])
def test_who_may_read(app, environ):
    status, _, body = get(app, "/officer/", **environ)
    assert status == 200 and "T2_A" in body


MOUNT = "/wlcg-collector"  # where the RPM's Apache snippet mounts the application


class PageLinks(html.parser.HTMLParser):
    """What a page points at: every href, src and action as written, and
    each form as a browser submits it with its fields as they are, or with
    another option of one of its lists picked."""

    def __init__(self):
        html.parser.HTMLParser.__init__(self)
        self.written, self.forms = [], []
        self._form = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.written += [attrs[name] for name in ("href", "src", "action")
                         if attrs.get(name) is not None]
        if tag == "form":
            assert attrs.get("method") == "get", attrs  # the pages change nothing
            self._form = {"action": attrs.get("action") or "", "fields": [], "lists": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attrs.get("name"):
            self._form["fields"].append((attrs["name"], attrs.get("value") or ""))
        elif tag == "select" and self._form is not None:
            self._select = {"name": attrs.get("name"), "options": [], "chosen": None}
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attrs.get("value") or "")
            if "selected" in attrs:
                self._select["chosen"] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            self._form["lists"].append(self._select)
            self._select = None
        elif tag == "form":
            self._form = None

    def urls(self):
        """Every URL a person can reach from the page: its links and its
        forms submitted."""
        found = list(self.written)
        for form in self.forms:
            shown = [(s["name"], s["chosen"] if s["chosen"] is not None else s["options"][0])
                     for s in form["lists"] if s["options"]]
            choices = [shown]
            for index, select in enumerate(form["lists"]):
                choices += [shown[:index] + [(select["name"], option)] + shown[index + 1:]
                            for option in select["options"]]
            for fields in choices:
                query = urllib.parse.urlencode(form["fields"] + fields)
                found.append(form["action"] + ("?" + query if query else ""))
        return found


def crawl(fetch, starts, cap=1000):
    """Every page of this site reachable from `starts`, each fetched once
    (fetch(url) -> (status, content type, body)), following its links and
    submitting its forms: {url: (status, the links as written)}. Links to
    other sites are not followed; past `cap` pages the crawl fails."""
    seen, queue = {}, list(starts)
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        assert len(seen) < cap, "more than %d pages from %s" % (cap, starts)
        status, kind, body = fetch(url)
        parser = PageLinks()
        if kind.startswith("text/html"):
            parser.feed(body)
        seen[url] = (status, parser.written)
        for link in parser.urls():
            target = urllib.parse.urlsplit(urllib.parse.urljoin(url, link))
            if not target.scheme and not target.netloc:
                queue.append(urllib.parse.urlunsplit(("", "", target.path, target.query, "")))
    return seen


def mounted_fetch(app, mount, **environ):
    """fetch for crawl: the application mounted at `mount`, as a server
    hands a request over (PATH_INFO decoded, its bytes as Latin-1)."""
    def fetch(url):
        parts = urllib.parse.urlsplit(url)
        assert parts.path.startswith(mount + "/"), url
        path = urllib.parse.unquote_to_bytes(parts.path[len(mount):]).decode("latin-1")
        status, headers, body, _ = wsgi_call(app, method="GET", path=path, query=parts.query,
                                             content_length=False,
                                             environ_extra=dict(environ, SCRIPT_NAME=mount))
        return status, headers.get("Content-Type", ""), body.decode("utf-8")
    return fetch


def test_every_link_starts_at_the_mount_point(app):
    """Behind Apache at /wlcg-collector every link, form and stylesheet
    of every page reachable from the overview is under it, and works."""
    pages = crawl(mounted_fetch(app, MOUNT, **OFFICER), [
        MOUNT + "/officer/", MOUNT + "/officer/search?q=example&per_page=1",
        MOUNT + "/officer/search?q=bash&per_page=2"])
    for url, (status, written) in pages.items():
        assert status == 200, url
        for link in written:
            assert link.startswith(MOUNT + "/officer/"), (url, link)
    kinds = {urllib.parse.urlsplit(url).path[len(MOUNT + "/officer/"):].split("/")[0]
             for url in pages}
    assert kinds == {"", "site", "host", "baseline", "adoption", "quarantine", "advisories",
                     "advisory", "campaigns", "campaign", "static", "search"}
    assert any("format=csv" in url for url in pages)
    assert any("baseline=osg" in url and "/site/" in url for url in pages)
    # and so do the links of an error page
    for path, query in (("/officer/nope", ""), ("/officer/", "stale=soon")):
        status, _, body = get(app, path, query, SCRIPT_NAME=MOUNT, **OFFICER)
        links = PageLinks()
        links.feed(body)
        assert status in (400, 404) and links.written
        assert all(link.startswith(MOUNT + "/officer/") for link in links.written), path


@pytest.mark.parametrize("mount,quoted", [
    ("", ""),
    ("/wlcg-collector/", "/wlcg-collector"),
    # PEP 3333: the request's bytes as Latin-1 (UTF-8 "é" arrives as "Ã©")
    ("/tools/wlcg coll\u00c3\u00a9ctor", "/tools/wlcg%20coll%C3%A9ctor"),
    ('/x"><script>alert(1)</script>', "/x%22%3E%3Cscript%3Ealert%281%29%3C/script%3E"),
])
def test_the_mount_point_is_quoted(app, mount, quoted):
    status, headers, body = get(app, "/officer/site/T2_A", SCRIPT_NAME=mount, **OFFICER)
    assert status == 200
    written = PageLinks()
    written.feed(body)
    assert written.written and all(link.startswith(quoted + "/officer/")
                                   for link in written.written), written.written
    assert "<script" not in body
    status, headers, _ = get(app, "/officer/host/T2_A/a1.example.org", "token=s3cret-token",
                             SCRIPT_NAME=mount)
    assert headers["Location"] == quoted + "/officer/host/T2_A/a1.example.org"
    assert "; Path=%s/officer;" % quoted in headers["Set-Cookie"]


def test_token_link_sets_a_cookie(app):
    status, headers, _ = get(app, "/officer/site/T2_A", "token=s3cret-token")
    assert status == 303 and headers["Location"] == "/officer/site/T2_A"
    assert headers["Set-Cookie"].startswith("wlcg_officer=s3cret-token;")
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    status, headers, _ = get(app, "/officer/site/T2_A", "baseline=osg&token=s3cret-token")
    assert headers["Location"] == "/officer/site/T2_A?baseline=osg"
    assert get(app, "/officer/", "token=guess")[0] == 403
    # compared in constant time, and text that is not ASCII is only a wrong token
    for wrong in ("s3cret-tok%C3%A9n", "%FF", "s3cret-token%00"):
        assert get(app, "/officer/", "token=" + wrong)[0] == 403


def test_dn_forms():
    assert normalise_dn(DN_2253) == normalise_dn(DN_LEGACY)
    assert normalise_dn("CN=a\\,b,DC=ch") == normalise_dn("/DC=ch/CN=a,b")
    assert normalise_dn("CN=x,DC=ch") != normalise_dn("/DC=ch/CN=y")
    # what cannot be read for sure is refused, never read as another name
    for dn in ("/DC=ch/CN=a/b=c", "CN=a+UID=b,DC=ch", "CN=#0403616263,DC=ch", "CN=a\\",
               "CN=\\C3,DC=ch", "CN", ""):
        assert normalise_dn(dn) == (), dn


@pytest.mark.parametrize("subject", [
    "/DC=org/DC=example/O=Grid/CN=Jane, Officer",   # a comma in a value
    "/DC=org/CN=Jos\u00e9 Officer",                 # UTF-8
    "/DC=org/CN=a\\/b=c",                           # a slash in a value
])
def test_dns_of_real_certificates_in_both_forms(tmp_path, subject):
    """What openssl prints of real certificates, RFC 2253 and the legacy
    form (an allow list may hold either), reads as one name, and not as
    any other; and so does what mod_ssl gives (RFC 2253 in UTF-8) as a
    server hands it over (PEP 3333: its bytes as Latin-1)."""
    import subprocess
    from helpers import OPENSSL, make_host_key
    from wlcg_collector.access import Access
    cert, _ = make_host_key(tmp_path, "dn", subject, ["-utf8"])

    def printed(form):
        out = subprocess.run([OPENSSL, "x509", "-in", cert, "-noout", "-subject", "-nameopt",
                              form], stdout=subprocess.PIPE, check=True).stdout.decode()
        return out.strip()[len("subject="):]
    rfc, legacy = printed("RFC2253"), printed("compat")
    mod_ssl = printed("RFC2253,-esc_msb")  # as mod_ssl sets SSL_CLIENT_S_DN
    served = mod_ssl.encode("utf-8").decode("latin-1")
    assert normalise_dn(rfc) and normalise_dn(rfc) == normalise_dn(legacy), (rfc, legacy)
    assert normalise_dn(mod_ssl) == normalise_dn(rfc)
    for allowed in (rfc, legacy, mod_ssl):
        access = Access([allowed])
        for presented in (rfc, legacy, mod_ssl, served):
            found = access.identity({"SSL_CLIENT_S_DN": presented,
                                     "SSL_CLIENT_VERIFY": "SUCCESS"})
            assert found and normalise_dn(found) == normalise_dn(rfc), presented
        assert access.identity({"SSL_CLIENT_S_DN": rfc.replace("DC=org", "DC=com"),
                                "SSL_CLIENT_VERIFY": "SUCCESS"}) is None


def test_names_with_accents_as_a_server_hands_them_over():
    """PEP 3333: the bytes of a variable as Latin-1. A name with accents
    matches the allow list written with its characters as they are; the
    same letters in Latin-1, sent as UTF-8, do not."""
    from wlcg_collector.access import Access
    access = Access(["CN=J\u00e9r\u00f4me Test,DC=ch", "j\u00e9r\u00f4me@example.org"])

    def served(text):
        return text.encode("utf-8").decode("latin-1")
    assert access.identity({"SSL_CLIENT_S_DN": served("CN=J\u00e9r\u00f4me Test,DC=ch"),
                            "SSL_CLIENT_VERIFY": "SUCCESS"}) == "CN=J\u00e9r\u00f4me Test,DC=ch"
    assert access.identity({"REMOTE_USER": served("j\u00e9r\u00f4me@example.org")})
    for dn in ("CN=J\u00c3\u00a9r\u00c3\u00b4me Test,DC=ch",    # the look-alike, as served
               "CN=J\u00e9r\u00f4me Test\u00ff,DC=ch"):         # not UTF-8: not recovered
        assert access.identity({"SSL_CLIENT_S_DN": served(dn),
                                "SSL_CLIENT_VERIFY": "SUCCESS"}) is None
    lookalike = served("j\u00c3\u00a9r\u00c3\u00b4me@example.org")
    assert access.identity({"REMOTE_USER": lookalike}) is None


def test_overview_shows_sites_stale_and_compliance(app):
    _, _, body = get(app, "/officer/", "baseline=osg&sort=site", **OFFICER)
    rows = body.split('<tbody>')[1].split('</tbody>')[0].split("<tr")[1:]
    assert [r.split("</a>")[0].rsplit(">", 1)[1] for r in rows] == [
        "T2_A", "T2_B", "T2_C", "T2_D", "T2_EVIL"]
    assert 'class="stale"' in rows[3] and "silent" in rows[3]      # T2_D: every host silent
    assert 'band-poor">50.0%' in rows[0] and 'band-low">0.0%' in rows[1]


def test_sites_no_requirement_applies_to_are_not_applicable_and_the_scope_is_warned_of(app):
    """A site with no host a baseline applies to shows n/a, on the overview
    and the baseline page; a scope that matches no system is a warning
    there, naming the systems known (as text)."""
    _, _, body = get(app, "/officer/", "baseline=el7only&sort=site", **OFFICER)
    rows = body.split('<tbody>')[1].split('</tbody>')[0].split("<tr")[1:]
    assert '>n/a</td>' in rows[0] and '>0.0%</td>' in rows[2]    # T2_A; T2_C's EL7 host
    warning = ("el7only: line 2: [system: alma9] matches none of the systems the hosts report "
               "(known: &lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)"
               "&lt;/script&gt;, AlmaLinux 9.4, CentOS Linux 7, Debian GNU/Linux 12, Rocky Linux "
               "9.3): its lines apply to no host")
    assert warning in body
    _, _, body = get(app, "/officer/baseline/el7only", **OFFICER)
    assert table_rows(body, "summary")[0] == ["T2_A", "2", "0", "0", "n/a"]
    assert warning in body


def test_sorting(app):
    _, _, body = get(app, "/officer/", "sort=hosts&order=desc", **OFFICER)
    order = [r.split("</a>")[0].rsplit(">", 1)[1]
             for r in body.split('<tbody>')[1].split("<tr")[1:]]
    assert order[-2:] == ["T2_D", "T2_EVIL"] and set(order[:3]) == {"T2_A", "T2_B", "T2_C"}


def test_host_page_filter_and_date(app):
    _, _, body = get(app, "/officer/host/T2_A/a1.example.org", "q=kern", **OFFICER)
    table = body.split('id="packages"')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # header + two kernels
    assert "upgraded xrootd.x86_64 1:5.6.9-1.el9 → 1:5.7.1-1.el9" in body
    _, _, body = get(app, "/officer/host/T2_A/a1.example.org", "at=%s" % date(1), **OFFICER)
    assert "1:5.6.9-1.el9" in body.split('id="packages"')[1].split("</table>")[0]
    assert get(app, "/officer/host/T2_A/a1.example.org", "at=yesterday", **OFFICER)[0] == 400
    # before its first report (day 0, 01:00): said, not an empty table
    status, _, body = get(app, "/officer/host/T2_A/a1.example.org", "at=%s" % date(0), **OFFICER)
    assert status == 200 and 'id="packages"' not in body
    assert "first reported at %sT01:00:00Z: nothing is known of it at %sT00:00:00Z" % (
        date(0), date(0)) in body.split('id="before-first">')[1]
    assert 'id="timeline"' in body
    assert get(app, "/officer/host/T2_A/nowhere.org", **OFFICER)[0] == 404


def test_baseline_downloads(app):
    status, headers, body = get(app, "/officer/baseline/osg", "format=csv", **OFFICER)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert 'filename="osg-1.csv"' in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["status"] for r in rows} == {"ok", "behind"}
    status, headers, body = get(app, "/officer/baseline/osg", "format=json", **OFFICER)
    data = json.loads(body)
    assert set(data[0]) == {"site", "host", "package", "arch", "installed", "requirement",
                            "status", "stale"}
    assert len(data) == len(rows)
    _, _, page = get(app, "/officer/baseline/osg", **OFFICER)
    behind = page.split('id="behind"')[1].split("</table>")[0]
    assert behind.count("<tr>") == 1 + sum(r["status"] == "behind" for r in rows)


def test_adoption_chart(app):
    _, _, body = get(app, "/officer/adoption", "requirement=xrootd+>%%3D+1:5.7.1&from=%s&to=%s"
                     % (date(0), date(4)), **OFFICER)
    assert '<svg id="chart"' in body and body.count("<polyline") == 2
    table = body.split('id="adoption"')[1].split("</table>")[0]
    assert table.count("<tr>") == 6
    _, _, body = get(app, "/officer/adoption", "requirement=xrootd+%3D>+1", **OFFICER)
    assert "unknown operator" in body


def test_hostile_text_is_shown_as_text(app):
    for path in ("/officer/site/T2_EVIL", "/officer/host/T2_EVIL/evil.example.org"):
        _, _, body = get(app, path, **OFFICER)
        assert "<script" not in body and "<img" not in body
        assert "&lt;script&gt;" in body or "&lt;img_src" in body


def test_read_only(app):
    environ = dict(OFFICER)
    status, headers, _ = get(app, "/officer/", REQUEST_METHOD="POST", CONTENT_LENGTH="0",
                             **environ)
    assert status == 405 and headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path,query,status,message", [
    ("/officer/host/T2_A/a1.example.org", "at=yesterday", 400, "not an ISO 8601"),
    ("/officer/", "stale=soon", 400, "stale=&#39;soon&#39; is not a number"),
    ("/officer/", "stale=-1", 400, "is not a number"),
    ("/officer/", "stale=nan", 400, "is not a number"),
    ("/officer/", "stale=%D9%A3", 400, "is not a number"),
    ("/officer/", "stale=0", 400, "positive number of days"),
    ("/officer/", "baseline=nope", 404, "unknown baseline"),
    ("/officer/baseline/osg@x", "", 400, "bad baseline revision"),
    ("/officer/baseline/osg@99999999999999999999999", "", 400, "bad baseline revision"),
    ("/officer/baseline/osg@%D9%A1", "", 400, "bad baseline revision"),
    ("/officer/baseline/osg@9", "", 404, "revision 9"),
    ("/officer/baseline/osg", "format=xml", 400, "csv or json"),
    ("/officer/baseline/osg", "site=T2_NOWHERE", 404, "unknown site"),
    ("/officer/adoption", "requirement=xrootd+>%3D+1&from=2026-02-01&to=2026-01-01", 400,
     "first day is after the last"),
    ("/officer/adoption", "requirement=xrootd+>%3D+1&from=1990-01-01&to=2026-01-01", 400,
     "more than 3660 days"),
    ("/officer/adoption", "requirement=xrootd+>%3D+1&site=T2_NOWHERE", 404, "unknown site"),
    ("/officer/site/T2_NOWHERE", "", 404, "unknown site"),
    ("/officer/host/T2_A/nowhere.example.org", "", 404, "unknown host"),
    ("/officer/nope", "", 404, "no such page"),
    ("/officer/site", "", 404, "no such page"),
    ("/officer/host/T2_A", "", 404, "no such page"),
    ("/officer/static/../../config.py", "", 404, "no such page"),
])
def test_bad_parameters_and_unknown_pages(app, path, query, status, message):
    """A clear page with the right status, never a 500 or a traceback."""
    got, headers, body = get(app, path, query, **OFFICER)
    assert got == status, body
    assert message in body and "Traceback" not in body
    assert headers["Content-Type"].startswith("text/html")


def test_database_down_is_503(tmp_path, collector_keys):
    config = tmp_path / "down.conf"
    write_config(config, "mysql://root@127.0.0.1:1/nowhere", [collector_keys])
    with open(str(config), "a") as handle:
        handle.write("[officer]\nallow = %s\n" % DN_2253)
    app = create_app(str(config))  # starts anyway: the database may come back
    for path in ("/officer/", "/officer/site/T2_A", "/officer/baseline/osg"):
        status, _, body = get(app, path, **OFFICER)
        assert status == 503 and "the database is unavailable, try again later" in body


def test_trust_is_shown(tmp_path, collector_keys):
    """A host's trust and key on its page and its site's; unsigned hosts
    marked; the quarantine listed, read-only."""
    from helpers import make_host_key
    from wlcg_collector.crypto import encrypt, sign
    from wlcg_collector.ingest import ingest
    url = "sqlite:///%s" % (tmp_path / "trust.db")
    store = open_store(url)
    store.schema.init()
    cert, key = make_host_key(tmp_path, "h", "/CN=signed.example.org")
    packages = [("bash", "0:5.1-1", "x86_64")]
    signed = make_report("T2_T", "signed.example.org", packages, ts=T0)
    ingest(store, encrypt(sign(signed, cert, key), collector_keys[1]), [collector_keys],
           "192.0.2.1", received=T0 + 10)
    ingest(store, encrypt(make_report("T2_T", "plain.example.org", packages, ts=T0),
                          collector_keys[1]), [collector_keys], "192.0.2.1", received=T0 + 10)
    forged = make_report("T2_T", "signed.example.org", packages + [("evil", "0:1-1", "x86_64")],
                         ts=T0 + 60)
    assert ingest(store, encrypt(forged, collector_keys[1]), [collector_keys], "203.0.113.9",
                  received=T0 + 70).outcome == "quarantined"
    fingerprint = bytes(store.hosts.find("signed.example.org").key_fingerprint).hex()[:16]
    store.close()
    config = tmp_path / "c.conf"
    write_config(config, url, [collector_keys])
    with open(str(config), "a") as handle:
        handle.write("[officer]\nallow = %s\n" % DN_2253)
    app = create_app(str(config))
    _, _, body = get(app, "/officer/host/T2_T/signed.example.org", **OFFICER)
    trust_line = body.split('id="trust"')[1].split("</p>")[0]
    assert "pinned" in trust_line and fingerprint in trust_line and "192.0.2.1" in trust_line
    _, _, body = get(app, "/officer/host/T2_T/plain.example.org", **OFFICER)
    assert "anybody holding the collector certificate" in body.split('id="trust"')[1]
    _, _, body = get(app, "/officer/site/T2_T", **OFFICER)
    rows = body.split('id="hosts"')[1].split("</table>")[0]
    assert rows.count(">unsigned<") == 1 and rows.count(">pinned<") == 1
    _, _, body = get(app, "/officer/quarantine", **OFFICER)
    table = body.split('id="quarantine"')[1].split("</table>")[0]
    assert "203.0.113.9" in table and "unsigned" in table and "signed.example.org" in table
    assert get(app, "/officer/quarantine", "site=T2_OTHER", **OFFICER)[2].count(
        "Nothing is waiting for review.") == 1


def test_advisory_pages(app):
    status, _, body = get(app, "/officer/advisories", "", **OFFICER)
    assert status == 200
    assert 'href="/officer/advisory/ALSA-2026%3A0001"' in body
    row = body[body.index('<tr class="important">'):]
    row = row[:row.index("</tr>")]
    assert "<td>important</td>" in row and "CVE-2026-0001" in row
    assert '<td class="num">1</td><td class="num">1</td>' in row  # d1, at T2_D
    assert "&lt;script&gt;" in row and "<script" not in body
    status, _, body = get(app, "/officer/advisories", "severity=low", **OFFICER)
    assert "1 stored advisories" not in body and "No host is exposed" in body
    status, _, body = get(app, "/officer/advisory/ALSA-2026%3A0001", "", **OFFICER)
    assert status == 200
    assert '<p id="counts">1 host(s) exposed now, 3 ever.</p>' in body
    assert "javascript:" not in body  # a feed's link that is not https is not a link
    assert '<polyline class="behind" points="' in body
    exposed = body[body.index('<table id="exposed">'):]
    assert ">d1.example.org</a>" in exposed and "a1.example.org" not in exposed
    sites = body[body.index('<table id="sites">'):body.index('<table id="exposed">')]
    # (both hosts were exposed in their first reports, after the publication: at least)
    assert '<td class="num">2</td><td class="num">0</td><td class="num">&ge; 1.0</td>' in sites
    status, _, body = get(app, "/officer/advisory/NO-SUCH-1", "", **OFFICER)
    assert status == 404 and "no advisory NO-SUCH-1" in body
    status, _, body = get(app, "/officer/advisories", "severity=dire", **OFFICER)
    assert status == 400 and "severity=&#39;dire&#39;" in body


def test_the_overview_summary_is_never_stale_and_reads_only_the_changed_hosts(
        database_url, tmp_path, collector_keys, monkeypatch):
    """The overview's compliance is compare's, from the holders compare
    keeps: a host is read again only when its set changed (a new host, a
    changed set, a rollback); an unchanged report, or nothing, reads none;
    a new revision of the baseline is judged at once."""
    from wlcg_collector import analysis, compliance_cache
    from test_officer import K_NEW, K_OLD, BASE9, X_NEW, X_OLD
    store = open_store(database_url)
    store.schema.init()
    store.baselines.add("osg", "xrootd >= 1:5.7.1\n", T0)

    def put(host, packages, day):
        return store.writer.store_report(parse_report(make_report(
            "T2_C", host, packages, ts=T0 + day * DAY)), T0 + day * DAY, "192.0.2.1")
    put("c1.example.org", BASE9 + [K_OLD, X_OLD], 0)
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    app = create_app(str(config), officer_token="tok")
    read_again = []
    real, real_current = analysis.compliance, compliance_cache.current_compliance
    monkeypatch.setattr(analysis, "compliance", lambda *a, **k: read_again.append("full") or
                        real(*a, **k))

    def current(*args, **kwargs):
        answer = real_current(*args, **kwargs)
        read_again.append(answer.recomputed)
        return answer
    monkeypatch.setattr(compliance_cache, "current_compliance", current)

    def compliant():
        del read_again[:]
        status, _, body = get(app, "/officer/", "baseline=osg",
                              HTTP_COOKIE="wlcg_officer=tok")
        assert status == 200
        row = body.split("<tbody>")[1].split("</tr>")[0]
        return compliance_cell(row), read_again
    assert compliant() == ("0.0%", [None])                        # the first: the whole fleet
    # what it worked out is kept for the next process (compliance_cache)
    assert store.db.read("SELECT COUNT(*) FROM holders_cache")[0][0] == 1
    assert compliant() == ("0.0%", [[]])                            # nothing changed
    assert put("c1.example.org", BASE9 + [K_OLD, X_OLD], 1).outcome == "unchanged"
    assert compliant() == ("0.0%", [[]])
    assert put("c1.example.org", BASE9 + [K_NEW, X_NEW], 2).outcome == "changed"
    c1 = ("T2_C", "c1.example.org")
    assert compliant() == ("100.0%", [[c1]])                        # never stale
    put("c2.example.org", BASE9 + [X_OLD], 2)                       # a new host
    assert compliant() == ("50.0%", [[("T2_C", "c2.example.org")]])
    store.review.rollback(store.hosts.find("c1.example.org"), T0 + DAY)
    assert compliant() == ("0.0%", [[c1]])
    store.baselines.add("osg", "xrootd >= 1:5.6\n", T0)            # a new revision
    assert compliant() == ("100.0%", [[]])
    store.close()


def test_the_pages_and_compare_decide_now_alike(database_url, tmp_path, collector_keys):
    """The pages and `compare` work a question out the same way: the whole
    fleet now from compare's kept holders, a site or a past time in full.
    The kept row is made to say what a full read does not (c1 up to date),
    so that the way each went shows in its numbers; it is stale too (c2's
    set changed since), as a page load meets it."""
    from wlcg_collector import compliance_cache
    from wlcg_collector.analysis import FAR_FUTURE
    from helpers import run_cli
    from test_officer import BASE9, K_OLD, X_NEW, X_OLD
    store = open_store(database_url)
    store.schema.init()
    store.baselines.add("osg", "xrootd >= 1:5.7.1\n", T0)

    def put(site, host, packages, day):
        return store.writer.store_report(parse_report(make_report(
            site, host, packages, ts=T0 + day * DAY)), T0 + day * DAY, "192.0.2.1")
    put("T2_C", "c1.example.org", BASE9 + [X_OLD], 0)
    put("T2_C", "c2.example.org", BASE9 + [X_NEW], 0)
    put("T2_D", "d1.example.org", BASE9 + [X_OLD], 0)
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    app = create_app(str(config), officer_token="tok")
    cookie = {"HTTP_COOKIE": "wlcg_officer=tok"}

    def overview():
        status, _, body = get(app, "/officer/", "baseline=osg", **cookie)
        assert status == 200
        rows = body.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
        return {r.split("</a>")[0].rsplit(">", 1)[1]: compliance_cell(r)
                for r in rows}

    def page_rows(query):
        status, _, body = get(app, "/officer/baseline/osg", "format=json&" + query, **cookie)
        assert status == 200
        return json.loads(body)

    def command(*args):
        code, out, err = run_cli(["--config", config, "compare", "osg"] + list(args))
        assert code == 0 and err == "", err
        return out
    assert overview() == {"T2_C": "50.0%", "T2_D": "0.0%"}    # the kept row made
    key = compliance_cache.names_hash(parse_baseline("xrootd >= 1:5.7.1\n"))
    kept = store.holders.cached(key)
    won = compliance_cache.decode_holders(kept.holders)
    packages = {(row.name, row.version, row.arch): row.id
                for row in store.fleet.packages_named({"xrootd"}).values()}
    c1 = 1 << 8 * store.hosts.find("c1.example.org").id
    won[packages[X_OLD]] &= ~c1
    won[packages[X_NEW]] |= c1
    size = max(host.id for host in store.fleet.hosts_at(FAR_FUTURE)) + 1
    store.holders.keep(key, kept._replace(holders=compliance_cache.encode_holders(won, size)))
    assert put("T2_C", "c2.example.org", BASE9 + [X_NEW, K_OLD], 1).outcome == "changed"
    # the whole fleet now: both from the kept row (c1 counted up to date)
    assert overview() == {"T2_C": "100.0%", "T2_D": "0.0%"}
    assert ["T2_C", "2", "2", "0", "100.0%"] in [line.split()[:5]
                                                 for line in command().splitlines()]
    assert page_rows("") == json.loads(command("--format", "json"))
    # a site, or a past time: both read in full (c1 behind)
    assert ["c1.example.org", "behind"] in [[row["host"], row["status"]]
                                            for row in page_rows("site=T2_C")]
    assert page_rows("site=T2_C") == json.loads(command("--site", "T2_C", "--format", "json"))
    at = date(2)
    assert page_rows("at=" + at) == json.loads(command("--at", at, "--format", "json"))
    assert ["c1.example.org", "behind"] in [[row["host"], row["status"]]
                                            for row in page_rows("at=" + at)]
    store.close()


def test_the_overview_reads_again_only_the_hosts_that_changed(database_url, tmp_path,
                                                              collector_keys, monkeypatch):
    """A changed set at one site costs that host's holders only; the
    summary is always what a full compare gives; a merge of sites costs
    one read of the whole fleet."""
    from wlcg_collector import analysis, compliance_cache
    from test_officer import BASE9, X_NEW, X_OLD
    store = open_store(database_url)
    store.schema.init()
    store.baselines.add("osg", "xrootd >= 1:5.7.1\n", T0)

    def put(site, host, packages, day):
        return store.writer.store_report(parse_report(make_report(
            site, host, packages, ts=T0 + day * DAY)), T0 + day * DAY, "192.0.2.1")
    for n in range(30):
        put("T2_S%d" % (n % 3), "h%02d.example.org" % n, BASE9 + [X_OLD if n % 2 else X_NEW], 0)
    config = write_config(tmp_path / "c.conf", database_url, [collector_keys])
    app = create_app(str(config), officer_token="tok")
    read_again = []
    real, real_current = analysis.compliance, compliance_cache.current_compliance

    def current(*args, **kwargs):
        answer = real_current(*args, **kwargs)
        read_again.append(answer.recomputed)
        return answer
    monkeypatch.setattr(compliance_cache, "current_compliance", current)

    def overview():
        status, _, body = get(app, "/officer/", "baseline=osg", HTTP_COOKIE="wlcg_officer=tok")
        assert status == 200
        rows = body.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
        shown = {r.split("</a>")[0].rsplit(">", 1)[1]: compliance_cell(r)
                 for r in rows}
        full = {s.site: "%.1f%%" % s.compliant for s in real(
            store, parse_baseline("xrootd >= 1:5.7.1\n"), None).summary()}
        assert shown == full
        return shown
    assert overview() == {"T2_S0": "50.0%", "T2_S1": "50.0%", "T2_S2": "50.0%"}
    assert read_again == [None]                          # the first: one pass over the fleet
    put("T2_S1", "h01.example.org", BASE9 + [X_NEW], 1)
    assert overview()["T2_S1"] == "60.0%"
    assert read_again == [None, [("T2_S1", "h01.example.org")]]   # that host only
    overview()
    assert read_again == [None, [("T2_S1", "h01.example.org")], []]  # nothing changed
    store.sites.move("T2_S2", "T2_S0", "merge", T0 + 2 * DAY, "officer")
    assert overview() == {"T2_S0": "50.0%", "T2_S1": "60.0%"}
    assert read_again[3:] == [None]                      # sites moved: the whole fleet again
    store.close()


def compliance_cell(row):
    """The Compliant cell's text of an overview row (its HTML): the last
    number but one (its class names its band)."""
    return re.findall(r'<td class="num[^"]*">([^<]*)<', row)[-2]


def table_rows(body, table_id):
    """The cells' text of each body row of table `table_id`."""
    class Rows(html.parser.HTMLParser):
        def __init__(self):
            html.parser.HTMLParser.__init__(self)
            self.inside, self.rows, self.cell = False, [], None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.inside = dict(attrs).get("id") == table_id
            elif self.inside and tag == "tr":
                self.rows.append([])
            elif self.inside and tag == "td":
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "table":
                self.inside = False
            elif self.inside and tag == "td":
                self.rows[-1].append(self.cell.strip())
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data
    parser = Rows()
    parser.feed(body)
    return [row for row in parser.rows if row]


def test_the_campaign_pages(app):
    """Each campaign with its sites' states; a campaign's sites (the one
    only silent hosts are left at: unknown), its burn-down with the
    deadline marked, the notices sent; everything escaped."""
    status, _, body = get(app, "/officer/campaigns", **OFFICER)
    assert status == 200 and 'href="/officer/campaign/xrootd"' in body
    assert "advisory ALSA-2026:0001" in body
    status, _, body = get(app, "/officer/campaign/xrootd", **OFFICER)
    assert status == 200
    rows = [row for row in table_rows(body, "sites")]
    assert rows == [["T2_D", "unknown", "1", "0", "0", "0", "1", ""],
                    ["T2_A", "done", "2", "2", "0", "0", "0", ""]]
    assert 'id="deadline"' in body and body.count("<polyline") == 2
    assert HOSTILE not in body and "&lt;script&gt;" in body
    assert [row[1:3] for row in table_rows(body, "notices")] == [["T2_D", "notice"]]
    status, _, body = get(app, "/officer/campaign/nope", **OFFICER)
    assert status == 404 and "unknown campaign" in body


def test_a_summary_looks_for_no_silent_host(app, monkeypatch):
    """The overview with a baseline (HTML and JSON) shows each site's
    share, no host: the silent hosts compare marks are not read for it;
    the baseline page, which lists the hosts behind, reads them once."""
    from wlcg_collector.db.fleet import FleetQueries
    asked = []
    real = FleetQueries.silent_since
    monkeypatch.setattr(FleetQueries, "silent_since",
                        lambda part, *args, **kw: asked.append(args) or real(part, *args, **kw))
    for query in ("baseline=osg", "baseline=osg&format=json"):
        assert get(app, "/officer/", query, **OFFICER)[0] == 200
    assert asked == []
    assert get(app, "/officer/baseline/osg", **OFFICER)[0] == 200
    assert len(asked) == 1

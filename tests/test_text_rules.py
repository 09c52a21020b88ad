"""The rules for text a stranger controls: the one invisible-character rule
(text.py) in report headers and advisory titles, and site names that are
no name ('.', '..') in reports, site lists and renames, on SQLite and
MariaDB."""

import json
import re
import sys
import unicodedata

import pytest

from helpers import make_report, post_plaintext as post, run_cli
from wlcg_collector import text, trust
from wlcg_collector.advisories import formats
from wlcg_collector.db import SiteError, open_store
from wlcg_collector.report import ReportError, is_site_name, parse_report
from wlcg_collector.topology import SiteListError, parse_site_list

PACKAGES = [("bash", "0:5.1.8-9.el9", "x86_64")]
T0 = 1767225600
# what the header filter refused before the rule was Unicode's categories
OLD_RULE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# each passed that filter, and none shows as anything
SLIPPED_THROUGH = {
    "\u061c": "Arabic letter mark (Cf)",
    "\U000e0041": "tag latin capital letter A (Cf)",
    "\U000e007f": "cancel tag (Cf)",
    "\u00ad": "soft hyphen (Cf)",
    "\u180e": "Mongolian vowel separator (Cf)",
    "\ufff9": "interlinear annotation anchor (Cf)",
    "\ue000": "private use (Co)",
    "\U000f0000": "supplementary private use (Co)",
    "\ud800": "lone surrogate (Cs)",
    "\uffff": "noncharacter (Cn)",
    "\U0010ffff": "last code point, a noncharacter (Cn)",
}
VISIBLE = ["AlmaLinux 9.4 (Seafoam Ocelot)", "J\u00e9r\u00f4me", "\u0395\u03bb\u03bb\u03ac\u03b4\u03b1",
           "\u65e5\u672c\u8a9e", "Ubuntu\u00a024.04", "\u05e2\u05d1\u05e8\u05d9\u05ea",
           "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "caf\u0065\u0301", "\U0001f600"]


# ---------------------------------------------------------------- the rule

@pytest.mark.parametrize("char", sorted(SLIPPED_THROUGH), ids=lambda c: "U+%04X" % ord(c))
def test_invisible_characters_the_old_filter_let_through_are_refused(char):
    assert text.has_invisible("Alma" + char + "Linux")
    assert text.without_invisible("Alma" + char + "Linux") == "Alma Linux"
    if unicodedata.category(char) == "Cs":
        return  # no UTF-8 text holds one: the report is refused as not UTF-8
    with pytest.raises(ReportError) as caught:
        parse_report(make_report(packages=PACKAGES, system="Alma%sLinux" % char))
    assert str(caught.value) == ("header system holds a control character or an invisible "
                                 "formatting one")


def test_the_rule_refuses_all_the_old_filter_did_and_every_character_of_its_categories():
    categories = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        refused = text.has_invisible(char)
        assert refused == (unicodedata.category(char) in categories), "U+%04X" % code
        if OLD_RULE.match(char):
            assert refused, "U+%04X" % code


@pytest.mark.parametrize("value", VISIBLE)
def test_visible_text_of_any_script_passes(value):
    assert not text.has_invisible(value)
    assert text.without_invisible(value) == value
    report = parse_report(make_report(packages=PACKAGES, system=value))
    assert report.headers["system"] == value


def test_line_and_paragraph_separators_stay_refused():
    for char in ("\u2028", "\u2029", "\x85", "\n", "\t"):
        assert text.has_invisible("a%sb" % char)


def test_an_advisory_title_keeps_none_of_them():
    record = {"id": "ALSA-2025:0001", "summary": "Important: open\u00adssl \u061cupdate\U000e0041"
              "\ufff9x\ufffa\ufffb \u180e\ue000(fix)\u2029", "modified": "2025-01-02T00:00:00Z",
              "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "openssl"},
                            "ranges": [{"type": "ECOSYSTEM", "events": [
                                {"introduced": "0"}, {"fixed": "1:3.0.7-27.el9"}]}]}]}
    [advisory] = formats.parse(json.dumps(record).encode())
    assert advisory.title == "Important: open ssl update x (fix)"
    assert not text.has_invisible(advisory.title)


def test_ingest_answers_400_for_each_and_stores_nothing(app_and_store):
    app, store = app_and_store
    for char in sorted(SLIPPED_THROUGH):
        if unicodedata.category(char) == "Cs":
            continue  # (no UTF-8 text holds one)
        status, out = post(app, make_report(packages=PACKAGES, system="Alma%sLinux" % char))
        assert status == 400 and out.count("\n") == 1, (char, out)
        assert "header system holds a control character or an invisible" in out
    assert post(app, make_report(packages=PACKAGES, system="J\u00e9r\u00f4me OS")) == (200, "OK")
    assert store.testing.row_counts()["reports"] == 1


# ---------------------------------------------------------------- site names

NO_NAMES = [".", "..", "...", "...."]


@pytest.mark.parametrize("name", NO_NAMES)
def test_dots_are_no_site_name(name):
    assert not is_site_name(name)
    with pytest.raises(ReportError) as caught:
        parse_report(make_report(site=name, packages=PACKAGES))
    assert str(caught.value) == ("header site %r is not a site name (printable ASCII without "
                                 "spaces or / %% ? #, not only dots)" % name)
    with pytest.raises(SiteListError) as caught:
        parse_site_list(("T2_CH_CERN\n%s\n" % name).encode(), "plain", "sites.txt")
    assert "sites.txt line 2: %r is not a site name" % name in str(caught.value)


def test_names_with_dots_in_them_still_are():
    for name in ("T2.X", ".T2", "T2..", "a.", "._"):
        assert is_site_name(name)
        assert parse_report(make_report(site=name, packages=PACKAGES)).site == name


def test_a_report_naming_dots_is_400(app_and_store):
    app, store = app_and_store
    for name in NO_NAMES:
        status, out = post(app, make_report(site=name, packages=PACKAGES))
        assert status == 400 and "is not a site name" in out and out.count("\n") == 1
    assert store.testing.row_counts()["hosts"] == 0


def test_a_cric_export_keyed_by_dots_is_refused():
    export = json.dumps({"T2_CH_CERN": {"rc_site": "CERN-PROD"}, "..": {"rc_site": "X"}})
    with pytest.raises(SiteListError) as caught:
        parse_site_list(export.encode(), "cric", "cric.json")
    assert "'..' is not a site name" in str(caught.value)


def test_no_site_is_renamed_or_merged_to_dots(database_url):
    store = open_store(database_url)
    store.schema.init()
    report = parse_report(make_report(site="T2_OLD", packages=PACKAGES, ts=T0))
    store.writer.store_report(report, T0 + 60, "192.0.2.1", rules=trust.Rules())
    for new in ("..", ".", "a/b", "T2 X"):
        with pytest.raises(SiteError) as caught:
            store.sites.move("T2_OLD", new, "rename", T0, "officer")
        assert "%r is not a site name" % new in str(caught.value)
    store.close()
    for kind in ("rename", "merge"):
        code, out, err = run_cli(["--db", database_url, "sites", kind, "T2_OLD", ".."])
        assert code == 1 and err.count("\n") == 1 and "'..' is not a site name" in err, err
    store = open_store(database_url)
    try:
        assert [h.site for h in store.hosts.listed()] == ["T2_OLD"] and store.sites.renames() == []
    finally:
        store.close()


def test_tables_never_drive_the_terminal():
    """What a sender or an old row wrote (an escape sequence, a newline, a
    bidi override, a byte that is not UTF-8) is shown escaped in a table,
    on one line; CSV and JSON keep the value as it is."""
    import json as json_module
    from wlcg_collector.output import render
    hostile = "\x1b]0;OWNED\x07\x1b[2J10.0.0.1\r\nwn\u202egnp.exe \udcff"
    table = render([{"sender": hostile, "n": 1}], ["sender", "n"], "table")
    assert table.count("\n") == 2 and "\x1b" not in table and "\r" not in table
    assert "\\x1b]0;OWNED\\x07\\x1b[2J10.0.0.1\\r\\nwn\\u202egnp.exe \\xff" in table
    assert json_module.loads(render([{"sender": "a\x1bb"}], ["sender"], "json")) == [
        {"sender": "a\x1bb"}]

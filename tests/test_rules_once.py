"""Rules kept in one place: numbers as a person or a file writes them,
the limits on a report, the lengths of time every question shares, the
status words, when two site names are one site."""

import ast
import os
import re

import pytest

from helpers import make_report, run_cli, write_config, wsgi_call
from wlcg_collector import limits, numerals, statuses
from wlcg_collector.dates import parse_date
from wlcg_collector.report import TooManyPackages
from wlcg_collector.trust import TRUST_LEVELS

# 2026-01-01 in digits int() and strptime read but nobody types into a date:
# Arabic-Indic, Devanagari, full width
OTHER_SCRIPTS_DATES = ["\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661",
                       "\u0968\u0966\u0968\u096c-\u0966\u0967-\u0966\u0967",
                       "\uff12\uff10\uff12\uff16-\uff10\uff11-\uff10\uff11",
                       "2026-01-01T\u0661\u0668:00:00Z"]


def one_line_usage_error(code, err):
    return code == 2 and err.strip().count("\n") == 0 and "Traceback" not in err


@pytest.mark.parametrize("text", OTHER_SCRIPTS_DATES)
def test_dates_in_other_scripts_digits_are_no_date(text):
    with pytest.raises(ValueError) as err:
        parse_date(text)
    assert "is not an ISO 8601 UTC date" in str(err.value)


def test_dates_in_ascii_digits_still_read():
    assert parse_date("2026-01-01") == 1767225600
    assert parse_date("2026-01-01T18:00:00Z") == 1767225600 + 18 * 3600
    assert parse_date(" 2026-01-01 18:00+00:00 ") == 1767225600 + 18 * 3600


@pytest.mark.parametrize("args", [
    ["vulnerable", "--at"], ["state", "wn1.example.org", "--at"],
    ["changes", "--since"], ["changes", "--until"], ["history", "wn1.example.org", "--until"],
    ["adoption", "bash >= 0:1-1", "--from"],
    ["adoption", "bash >= 0:1-1", "--to"]])
def test_date_options_refuse_other_scripts_digits(tmp_path, args):
    code, out, err = run_cli(["--db", "sqlite:///%s" % (tmp_path / "none.db")] + args
                             + [OTHER_SCRIPTS_DATES[0]])
    assert one_line_usage_error(code, err.splitlines()[-1] + "\n") and out == ""
    assert "is not an ISO 8601 UTC date" in err


def officer_config(tmp_path, stale_days):
    path = tmp_path / "collector.conf"
    path.write_text("[collector]\ndatabase = sqlite:///%s\n[officer]\nstale_days = %s\n"
                    % (tmp_path / "none.db", stale_days), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e3", "0", "\u0663", "+2", "7 days"])
def test_stale_days_must_be_a_number_of_days(tmp_path, value):
    code, out, err = run_cli(["--config", officer_config(tmp_path, value), "stale",
                              "--days", "1"])
    assert one_line_usage_error(code, err) and out == ""
    assert "[officer] stale_days = %s: a number of days, more than 0" % value in err


def test_stale_days_in_ascii_digits_still_read(tmp_path):
    from wlcg_collector.config import load_config
    assert load_config(officer_config(tmp_path, "2.5")).stale_days == 2.5
    assert load_config(officer_config(tmp_path, "7")).stale_days == 7


def test_clock_skew_has_no_sign(tmp_path):
    """A negative clock_skew made every signed report dated now "in the
    future"."""
    path = write_config(tmp_path / "c.conf", "sqlite:///%s" % (tmp_path / "none.db"), [],
                        clock_skew="-300")
    code, out, err = run_cli(["--config", path, "stale", "--days", "1"])
    assert one_line_usage_error(code, err) and out == ""
    assert "clock_skew = '-300': not a whole number" in err


@pytest.mark.parametrize("args", [["stale", "--days"], ["hosts", "--stale"]])
def test_a_number_too_long_for_a_float_is_no_number(tmp_path, args):
    """float() reads 400 digits as inf: a day count of inf made the
    commands end in a traceback."""
    code, out, err = run_cli(["--db", "sqlite:///%s" % (tmp_path / "none.db")] + args
                             + ["1" * 400])
    assert one_line_usage_error(code, err.splitlines()[-1] + "\n") and out == ""
    assert "is not a number" in err


@pytest.mark.parametrize("text", ["+5", "1_000", "\u0663", "\u00b2", "", "5.0", "-5", "0x10",
                                  "\uff15"])
def test_whole_numbers_are_ascii_digits(text):
    with pytest.raises(ValueError):
        numerals.whole_number(text)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e3", "-1", "+1", "\u0663.\u0665",
                                  "1.", ".5", "1" * 400, "1_0.5", ""])
def test_decimal_numbers_are_ascii_digits_and_a_fraction(text):
    with pytest.raises(ValueError):
        numerals.decimal_number(text)


def test_numbers_in_ascii_digits_still_read():
    assert numerals.whole_number(" 42 ") == 42
    assert numerals.whole_number("-3", signed=True) == -3
    assert numerals.decimal_number("1.5") == 1.5 and numerals.decimal_number("7") == 7.0
    assert numerals.is_digits("0042") and not numerals.is_digits("4\u0662")


@pytest.mark.parametrize("length", ["\u0663\u0663", "+33", "3_3"])
def test_content_length_is_ascii_digits(wsgi_collector, length):
    """int() read '\u0663\u0663' as 33 and the body was read by it."""
    make_app, _, _, _ = wsgi_collector
    body = make_report(packages=[("bash", "0:5.1-1", "x86_64")], ts=1767225600)
    status, _, out, _ = wsgi_call(make_app(allow_plaintext="yes"), body,
                                  environ_extra={"CONTENT_LENGTH": length}, validate=False)
    assert (status, out) == (400, b"bad Content-Length\n")


def many_packages(count):
    return make_report(packages=[("p%06d" % i, "0:1.0-1", "x86_64") for i in range(count)])


def test_the_parser_honours_the_limit_it_is_given():
    """It refused more than its own 100,000 packages whatever the
    collector's max_packages said."""
    from wlcg_collector.report import parse_report
    assert len(parse_report(many_packages(100001), max_packages=100001).packages) == 100001
    with pytest.raises(TooManyPackages) as err:
        parse_report(many_packages(100001), max_packages=100000)
    assert str(err.value) == "report lists more than 100000 packages"


def test_one_default_limit_of_packages():
    """The parser's default is ingest's and the config's: 20,000."""
    from wlcg_collector import config, ingest, report
    assert limits.MAX_PACKAGES == 20000
    assert config.Config().max_packages == limits.MAX_PACKAGES
    with pytest.raises(TooManyPackages) as err:
        report.parse_report(many_packages(limits.MAX_PACKAGES + 1))
    assert str(err.value) == "report lists more than 20000 packages"
    with pytest.raises(ingest.Rejected) as err:
        ingest.parse(many_packages(limits.MAX_PACKAGES + 1))
    assert (err.value.status, err.value.reason) == (
        413, "report lists more than 20000 packages: this collector takes 20000 at most")
    assert len(report.parse_report(many_packages(limits.MAX_PACKAGES)).packages) == 20000


def test_the_table_of_limits_is_the_schema(mysql_url):
    """Every length in limits.COLUMNS is its column's in sql/mysql.sql, and
    the parsers check those lengths."""
    import pymysql
    from urllib.parse import urlsplit
    from wlcg_collector import package_lines, report
    from wlcg_collector.advisories import records
    assert run_cli(["--db", mysql_url, "init-db"])[0] == 0
    url = urlsplit(mysql_url)
    conn = pymysql.connect(host=url.hostname, port=url.port, user=url.username,
                           password=url.password or "")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT table_name, column_name, data_type, character_maximum_length "
                           "FROM information_schema.columns WHERE table_schema = %s",
                           (url.path.lstrip("/"),))
            columns = {(table, column): (kind, length) for table, column, kind, length in cursor}
    finally:
        conn.close()
    for (table, column), limit in limits.COLUMNS.items():
        kind, length = columns[table, column]
        assert (kind, length) in (("varchar", limit), ("text", limit)), (table, column)
    assert report.HEADER_LIMITS == {"site": columns["hosts", "site"][1],
                                    "arch": columns["hosts", "arch"][1]}
    assert (package_lines.MAX_NAME, package_lines.MAX_VERSION, package_lines.MAX_ARCH) == (
        columns["packages", "name"][1], columns["packages", "version"][1],
        columns["packages", "arch"][1])
    assert (records.MAX_IDENT, records.MAX_TITLE, records.MAX_CVE, records.MAX_STREAM,
            records.MAX_MODULE) == (
        columns["advisories", "ident"][1], columns["advisories", "title"][1],
        columns["advisory_cves", "cve"][1], columns["advisory_packages", "stream"][1],
        columns["advisory_packages", "module"][1])


# ---------------------------------------------------------------- defined once

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "wlcg_collector")
# the names each rule's module alone assigns
DEFINED_IN = {"limits.py": {"MAX_PACKAGES", "MAX_NAME", "MAX_VERSION", "MAX_ARCH", "MAX_KEY",
                            "MAX_VALUE", "MAX_HEADERS", "MAX_FACTS", "HEADER_LIMITS",
                            "MAX_IDENT", "MAX_TITLE", "MAX_CVE", "MAX_STREAM", "MAX_MODULE",
                            "MAX_SENDER", "MAX_OFFICER", "MAX_SITE_SOURCE", "MAX_REASON",
                            "MAX_TAG_NAME", "MAX_TAG_URL", "MAX_TAG_DESCRIPTION",
                            "MAX_EXCEPTION_REASON", "PER_PAGE", "MAX_PER_PAGE",
                            "MAX_PAGE"},
              "dates.py": {"DAY", "FAR_FUTURE", "EVER", "MAX_DAYS"}}
# (the trust level "site" is also a page's and a column's name: left out)
STATUS_WORDS = set(statuses.SITE_STATUSES + statuses.AUDIT_OUTCOMES
                   + statuses.COUNTED_OUTCOMES + statuses.REJECTION_REASONS) \
    | set(TRUST_LEVELS) - {"site"}


def collector_sources():
    """(path inside the package, its syntax tree) of every module."""
    for directory, subdirectories, names in os.walk(PACKAGE):
        subdirectories[:] = [d for d in subdirectories if d != "__pycache__"]
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    yield os.path.relpath(path, PACKAGE), ast.parse(handle.read(), path)


def test_limits_and_lengths_of_time_are_assigned_once():
    assigned = []
    for path, tree in collector_sources():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and any(
                            name.id in names and path != home
                            for home, names in DEFINED_IN.items()):
                        assigned.append("%s:%d %s" % (path, node.lineno, name.id))
            if path == "dates.py":
                continue
            if isinstance(node, ast.Constant) and node.value in (86400, 2 ** 62):
                assigned.append("%s:%d %r" % (path, node.lineno, node.value))
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and \
                    getattr(node.left, "value", None) == 2 and \
                    getattr(node.right, "value", None) == 62:
                assigned.append("%s:%d 2 ** 62" % (path, node.lineno))
    assert assigned == []


# the columns each value storage writes of its own goes to, by the limit
# of limits.py it is cut to
CUT_TO = {
    "MAX_SENDER": [("reports", "sender"), ("hosts", "created_by"), ("hosts", "pinned_by"),
                   ("site_keys", "pinned_by"), ("quarantine", "sender"),
                   ("quota_events", "sender")],
    "MAX_OFFICER": [("hosts", "pinned_by"), ("site_lists", "imported_by"),
                    ("site_renames", "done_by"), ("advisory_exceptions", "added_by"),
                    ("contact_imports", "imported_by")],
    "MAX_SITE_SOURCE": [("sites", "source"), ("site_lists", "source"),
                        ("contact_imports", "source")],
    "MAX_REASON": [("quarantine", "reason")],
}


def test_storage_cuts_its_own_values_to_the_named_limits():
    """What storage writes of its own (who, from where, why) is cut to a
    limit of limits.py that every column it goes to has (and the table is
    the schema: test_the_table_of_limits_is_the_schema), never to a length
    written out again."""
    for name, columns in CUT_TO.items():
        assert {limits.COLUMNS[column] for column in columns} == {getattr(limits, name)}, name
    lengths = set(limits.COLUMNS.values())
    literal = []
    for path, tree in collector_sources():
        if path.startswith("db" + os.sep):
            literal += ["%s:%d [:%d]" % (path, node.lineno, node.upper.value)
                        for node in ast.walk(tree) if isinstance(node, ast.Slice)
                        and isinstance(node.upper, ast.Constant) and node.upper.value in lengths]
    assert literal == []


def test_statements_hold_no_status_word():
    """A status word of statuses.py or trust.py goes into a statement as a
    parameter: written into the SQL, it is one rename away from matching
    nothing."""
    from wlcg_collector.db.mysql_statements import MySQLSQL
    from wlcg_collector.db.sqlite import SQLiteSQL
    words = STATUS_WORDS | set(TRUST_LEVELS)
    literal = ["%s.%s %r" % (sql.__name__, name, word)
               for sql in (MySQLSQL, SQLiteSQL) for name in dir(sql) if name.isupper()
               and isinstance(getattr(sql, name), str) for word in words
               if "'%s'" % word in getattr(sql, name)]
    assert literal == []


def test_status_words_are_compared_as_constants():
    """A status compared as a literal is one typo away from never matching."""
    literal = []
    for path, tree in collector_sources():
        if path in ("statuses.py", "trust.py"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                values = [node.left] + node.comparators
                values += [e for v in values if isinstance(v, (ast.Tuple, ast.List, ast.Set))
                           for e in v.elts]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "IngestResult":
                values = node.args
            else:
                continue
            literal += ["%s:%d %r" % (path, node.lineno, v.value) for v in values
                        if isinstance(v, ast.Constant) and v.value in STATUS_WORDS]
    templates = os.path.join(PACKAGE, "templates")
    for name in sorted(os.listdir(templates)):
        with open(os.path.join(templates, name), encoding="utf-8") as handle:
            text = handle.read()
        literal += ["templates/%s %s" % (name, found) for found in re.findall(
            r"""(?:==|!=|\bin)\s*\(?\s*['"]([a-z ]+)['"]""", text) if found in STATUS_WORDS]
    assert literal == []


def test_storage_words_no_command():
    """Storage says what happened as data; the command line, ingest and
    the pages word it. A sentence in db/ that names a command or one of its
    options ("run wlcg-collector init-db", "give --site") is a front end's
    wording in the wrong place."""
    worded = []
    for path, tree in collector_sources():
        if not path.startswith("db" + os.sep):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.search(r"wlcg-collector \w|(?<![\w-])--[a-z]", node.value):
                worded.append("%s:%d %r" % (path, node.lineno, node.value))
    assert worded == []


def names_a_site(node):
    """Whether an expression reads a site: a variable, an attribute or a
    key with 'site' in its name."""
    for part in ast.walk(node):
        word = part.id if isinstance(part, ast.Name) else \
            part.attr if isinstance(part, ast.Attribute) else \
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else ""
        if "site" in word.lower():
            return True
    return False


def test_site_names_are_compared_and_ordered_by_site_names():
    """When two site names are one site and the order sites are listed in
    are site_names' rules: a site's case changed anywhere else is a second
    rule, one edit away from disagreeing with the first."""
    changed = []
    for path, tree in collector_sources():
        if path == "site_names.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("lower", "upper", "casefold") and \
                    names_a_site(node.func.value):
                changed.append("%s:%d %s" % (path, node.lineno, ast.unparse(node)))
    assert changed == []

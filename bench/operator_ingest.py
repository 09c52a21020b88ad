"""Ingest measured as an operator meets it: `wlcg-collector ingest FILE...`
run as a command on a third of the fleet's files at a time, its start-up
(the same command on a file it cannot read) subtracted, against `openssl
smime -decrypt` alone on the same files (signed reports: decrypt and
`openssl smime -verify`, the two processes the collector runs), the two
alternated from third to third; a kind's ratio is the median of its three
thirds.

The fleet: hosts of 1,500 packages, random EL9-style names and versions
(the same image on every host); unsigned format-1 reports as pakiti-client
sends them (no ts: a report is dated when the command stores it), and
signed format-2 ones as this project's reporter sends them (each host its
own key, each line its source package). Kinds: first reports (into an
empty database: the first host makes the fleet's package rows), unchanged
reports, and 1 % churn (15 of each host's packages at their next build,
the same build on every host that takes it). And a new host's first
report on a varied fleet: EL7, EL8, EL9 and Debian 12 hosts, 1,000 to
1,500 packages each drawn from a pool of 2,000 per family (shared), with
2 % of their own (private), a third of them stored first.

`profile` runs the same commands, a few dozen reports a kind, in a process
that times where each report's time goes: decrypt, verify (openssl, and
the signed data and signer certificate checked in Python), parse (the
headers and the package lines), ids (the package rows found or made),
database (the rest of storing: the host's row, the intervals, the
report's row, commits), other (start-up, reading the files, the rest).
"""

import os
import random
import string
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from helpers import make_host_key  # noqa: E402
from wlcg_collector import crypto  # noqa: E402

KINDS = ("first", "unchanged", "changed")
FAMILIES = (("CentOS Linux 7", "rpm", "el7"), ("AlmaLinux 8.9", "rpm", "el8"),
            ("AlmaLinux 9.4", "rpm", "el9"), ("Debian GNU/Linux 12", "dpkg", "deb12"))


def random_name(rng):
    parts = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
             for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    return rng.choice(("", "", "", "lib", "python3-", "perl-")) + "-".join(parts)


def rpm_version(rng, dist):
    upstream = ".".join(str(rng.randint(0, 30)) for _ in range(rng.choice((2, 3, 3, 4))))
    release = "%d.%s" % (rng.randint(1, 40), dist)
    if dist == "el9" and rng.random() < 0.4:
        release += "_%d" % rng.randint(0, 5)
    return "%d:%s-%s" % (1 if rng.random() < 0.05 else 0, upstream, release)


def dpkg_version(rng):
    upstream = ".".join(str(rng.randint(0, 30)) for _ in range(rng.choice((2, 3))))
    version = "%s-%d" % (upstream, rng.randint(1, 9))
    if rng.random() < 0.15:
        version += "+deb12u%d" % rng.randint(1, 4)
    return ("1:" + version) if rng.random() < 0.05 else version


def pool(rng, count, packager, dist):
    """[(name, version, arch)] of `count` distinct names."""
    names = set()
    while len(names) < count:
        names.add(random_name(rng))
    result = []
    for name in sorted(names):
        if packager == "rpm":
            arch = rng.choice(("x86_64", "x86_64", "x86_64", "noarch"))
            result.append((name, rpm_version(rng, dist), arch))
        else:
            result.append((name, dpkg_version(rng), rng.choice(("amd64", "amd64", "all"))))
    return result


def next_build(version):
    """The package's next build: its release one higher (EL9-style)."""
    head, release = version.rsplit("-", 1)
    number, rest = release.split(".", 1)
    return "%s-%d.%s" % (head, int(number) + 1, rest)


def report_text(site, host, system, packager, packages, ts=None):
    """Format 1 as pakiti-client sends it (its headers, no ts), or with a
    ts format 2 as this project's reporter does (each line naming its
    source package)."""
    signed = ts is not None
    headers = ["arch: x86_64", "cpu: x86_64", "host: " + host,
               "kernel: 5.14.0-427.13.1.el9_4.x86_64", "packager: " + packager, "site: " + site,
               "system: " + system, "tag: bench", "version: 1"]
    if signed:
        headers = [h for h in headers if not h.startswith(("cpu:", "tag:", "version:"))]
        headers += ["ts: %d" % ts, "version: 2"]
        lines = ["%s\t%s\t%s\t%s" % (p + (p[0].split("-")[0],)) for p in packages]
    else:
        lines = ["%s\t%s\t%s" % p for p in packages]
    return ("\n".join(["#"] + sorted(headers) + ["#"] + lines + ["#", ""])).encode()


class Files(object):
    """The encrypted report files of a run, made once for both back ends."""

    def __init__(self, hosts, keydir, log):
        self.hosts = hosts
        self.keydir = keydir
        self.log = log
        self.directory = tempfile.mkdtemp(prefix="wlcg-bench-operator-")
        self.cert = os.path.join(keydir, "collector.pem")
        self.pairs = [(os.path.join(keydir, "collector.key"), self.cert)]
        self._made = {}

    def _write(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, "wb") as handle:
            handle.write(crypto.encrypt(text, self.cert))
        return path

    def fleet(self, signed):
        """{kind: [path]} of the same image's hosts, three days: first,
        unchanged, 1 % churn. A report's ts (signed ones) is its day's
        time: the three days are a minute apart, in the past."""
        key = ("fleet", signed)
        if key in self._made:
            return self._made[key]
        began = time.perf_counter()
        rng = random.Random(29)
        base = pool(rng, 1500, "rpm", "el9")
        files = {kind: [] for kind in KINDS}
        now = int(time.time())
        for index in range(self.hosts):
            host = "op%04d.example.org" % index
            signer = make_host_key(self.keydir, host, "/CN=" + host) if signed else None
            changed = set(random.Random(index).sample(range(len(base)), 15))
            days = (base, base, [(n, next_build(v), a) if i in changed else (n, v, a)
                                 for i, (n, v, a) in enumerate(base)])
            for day, (kind, packages) in enumerate(zip(KINDS, days)):
                text = report_text("T2_OPERATOR", host, "AlmaLinux 9.4", "rpm", packages,
                                   now - 300 + 60 * day if signed else None)
                if signed:
                    text = crypto.sign(text, *signer)
                files[kind].append(self._write("%s%d-%04d.p7m" % ("s" if signed else "u", day,
                                                                   index), text))
        self.log("operator ingest: %d %s hosts' files made in %.0f s" % (
            self.hosts, "signed" if signed else "unsigned", time.perf_counter() - began))
        self._made[key] = files
        return files

    def varied(self):
        """([path] of the fleet stored first, [path] of the new hosts' first
        reports): EL7, EL8, EL9 and Debian 12 hosts in turn."""
        if "varied" in self._made:
            return self._made["varied"]
        rng = random.Random(31)
        pools = [pool(rng, 2000, packager, dist) for _, packager, dist in FAMILIES]
        paths = []
        loaded = max(4, self.hosts // 3)
        for index in range(loaded + self.hosts):
            system, packager, dist = FAMILIES[index % len(FAMILIES)]
            shared = rng.sample(pools[index % len(FAMILIES)], rng.randint(1000, 1500))
            private = [("h%04d-%s" % (index, name), version, arch)
                       for name, version, arch in pool(rng, len(shared) // 50, packager, dist)]
            text = report_text("T2_VARIED", "var%04d.example.org" % index, system, packager,
                               sorted(shared + private))
            paths.append(self._write("v-%04d.p7m" % index, text))
        self._made["varied"] = (paths[:loaded], paths[loaded:])
        return self._made["varied"]

    def close(self):
        import shutil
        shutil.rmtree(self.directory, ignore_errors=True)


def command(config, paths):
    return [sys.executable, "-m", "wlcg_collector", "--config", config, "ingest"] + list(paths)


def run_command(config, paths, expect=0):
    env = dict(os.environ, PYTHONPATH=ROOT)
    began = time.perf_counter()
    proc = subprocess.run(command(config, paths), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env)
    seconds = time.perf_counter() - began
    if proc.returncode != expect:
        raise RuntimeError("ingest failed: %s" % proc.stderr.decode()[-500:])
    return seconds


def decrypt_alone(paths, pairs, signed):
    began = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            plaintext = crypto.decrypt(handle.read(), pairs)
        if signed:
            crypto.verify(plaintext)
    return time.perf_counter() - began


def thirds(paths):
    size = len(paths) // 3
    return [paths[i * size:(i + 1) * size] for i in range(3)]


def timed_thirds(config, paths, pairs, signed, order):
    """[(ingest seconds, decrypt seconds) a report] of each third of
    `paths`, the command's start-up subtracted; order: which goes first in
    the first third (then alternated)."""
    result = []
    for index, third in enumerate(thirds(paths)):
        seconds = {}
        steps = ("ingest", "decrypt") if (index + order) % 2 == 0 else ("decrypt", "ingest")
        for step in steps:
            if step == "ingest":
                startup = run_command(config, [os.path.join(os.path.dirname(config), "none")],
                                      expect=1)
                seconds["ingest"] = run_command(config, third) - startup
            else:
                seconds["decrypt"] = decrypt_alone(third, pairs, signed)
        result.append((seconds["ingest"] / len(third), seconds["decrypt"] / len(third)))
    return result


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def write_config(directory, url, pairs):
    path = os.path.join(directory, "collector-%d.conf" % int(time.perf_counter() * 1e6))
    key, cert = pairs[0]
    with open(path, "w") as handle:
        handle.write("[collector]\ndatabase = %s\nkey = %s\ncert = %s\n" % (url, key, cert))
        # the day's bounds of changes are not what is measured here
        for what in ("changed_reports", "new_rows"):
            for scope in ("host", "sender", "site"):
                handle.write("max_%s_per_%s = 1000000000\n" % (what, scope))
    return path


class Databases(object):
    """New databases of one back end, with the schema; all dropped by close()."""

    def __init__(self, backend):
        self.backend = backend
        self.directory = tempfile.mkdtemp(prefix="wlcg-bench-operator-db-")
        self.made = []

    def new(self):
        from wlcg_collector.db import open_store
        if self.backend == "sqlite":
            url = "sqlite:///%s" % os.path.join(self.directory, "%d.db" % len(self.made))
            self.made.append(None)
        else:
            from helpers import ScratchMySQL
            scratch = ScratchMySQL()
            self.made.append(scratch)
            url = scratch.url
        store = open_store(url)
        store.schema.init()
        store.close()
        return url

    def close(self):
        import shutil
        for scratch in self.made:
            if scratch is not None:
                scratch.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def measure(backend, files, log):
    """{key: ratio} of the operator's ingest on one back end."""
    databases = Databases(backend)
    try:
        return _measure(databases, files, log)
    finally:
        databases.close()


def _measure(databases, files, log):
    results, shown = {}, []
    backend = databases.backend
    for signed in (False, True):
        # each form its own database: a host is unsigned or signed, never both
        config = write_config(files.directory, databases.new(), files.pairs)
        fleet = files.fleet(signed)
        name = "signed_" if signed else ""
        against = "decrypt_verify" if signed else "decrypt"
        for order, kind in enumerate(KINDS):
            times = timed_thirds(config, fleet[kind], files.pairs, signed, order)
            if kind == "first":
                ratio = median([i / d for i, d in times])
                results["cli_%sfirst_report_vs_%s" % (name, against)] = ratio
            else:
                ratio = median([d / i for i, d in times])
                results["cli_%singest_%s_vs_%s" % (name, kind, against)] = ratio
            shown.append("%s%s %.1f / %.1f ms (%.2f)" % (
                "signed " if signed else "", kind, 1000 * median([t[0] for t in times]),
                1000 * median([t[1] for t in times]), ratio))
    loaded, new = files.varied()
    config = write_config(files.directory, databases.new(), files.pairs)
    run_command(config, loaded)
    times = timed_thirds(config, new, files.pairs, False, 0)
    results["cli_first_report_varied_vs_decrypt"] = median([i / d for i, d in times])
    shown.append("varied first %.1f / %.1f ms (%.2f)" % (
        1000 * median([t[0] for t in times]), 1000 * median([t[1] for t in times]),
        results["cli_first_report_varied_vs_decrypt"]))
    log("%s operator ingest, `wlcg-collector ingest` a third of %d hosts at a time, ms a report "
        "(median of three thirds), ingest against decrypt (+ verify) alone: %s"
        % (backend, files.hosts, ", ".join(shown)))
    return results


# -- where the time goes

PROFILE_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
began = time.perf_counter()
from wlcg_collector import cli, crypto, ingest, trust
from wlcg_collector.report import Report
from wlcg_collector.db import set_writer, writer
spent = {}
stack = []

def timed(category, function):
    def wrapper(*args, **kwargs):
        now = time.perf_counter()
        if stack:
            outer, since = stack[-1]
            spent[outer] = spent.get(outer, 0.0) + now - since
        stack.append([category, now])
        try:
            return function(*args, **kwargs)
        finally:
            now = time.perf_counter()
            inner, since = stack.pop()
            spent[inner] = spent.get(inner, 0.0) + now - since
            if stack:
                stack[-1][1] = now
    return wrapper

crypto.decrypt = timed("decrypt", crypto.decrypt)
crypto.verify = timed("verify", crypto.verify)
ingest.check_signed = timed("verify", ingest.check_signed)
trust.identify = timed("verify", trust.identify)
ingest.parse = timed("parse", ingest.parse)
Report._parse = timed("parse", Report._parse)
set_writer.find_or_create_ids = timed("ids", set_writer.find_or_create_ids)
writer.ReportWriter._resolve_first = timed("ids", writer.ReportWriter._resolve_first)
writer.ReportWriter.store_reports = timed("database", writer.ReportWriter.store_reports)
code = cli.main(sys.argv[2:])
spent["total"] = time.perf_counter() - began
print(json.dumps(spent))
"""


def profile_command(config, paths):
    """{category: seconds} of the command (the process exits 0 whatever
    the command answered: a file it cannot read is how its start-up is
    timed)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-c", PROFILE_CHILD, ROOT, "--config", config,
                           "ingest"] + list(paths), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env)
    if proc.returncode != 0:
        raise RuntimeError("ingest failed: %s" % proc.stderr.decode()[-500:])
    import json
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def profile(backend, files, count, log):
    """{kind: {category: ms a report}} of `count` reports a kind."""
    databases = Databases(backend)
    try:
        return _profile(databases, files, count, log)
    finally:
        databases.close()


def _profile(databases, files, count, log):
    table = {}
    backend = databases.backend

    def record(label, paths, spent):
        # the command's start-up (the same command on a file it cannot
        # read, just before) is not a report's: taken out of the total
        startup = profile_command(config, [os.path.join(files.directory, "none")])
        spent["total"] -= startup["total"]
        table[label] = {k: 1000 * v / len(paths) for k, v in spent.items()}
        table[label]["other"] = table[label]["total"] - sum(
            v for k, v in table[label].items() if k != "total")
        table[label]["start-up"] = 1000 * startup["total"]

    for signed in (False, True):
        config = write_config(files.directory, databases.new(), files.pairs)
        fleet = files.fleet(signed)
        for kind in KINDS:
            paths = fleet[kind][:count]
            if kind == "first":
                run_command(config, paths[:1])  # the fleet's package rows: made once
                paths = paths[1:]
            record(("signed " if signed else "") + kind, paths, profile_command(config, paths))
    loaded, new = files.varied()
    config = write_config(files.directory, databases.new(), files.pairs)
    run_command(config, loaded)
    record("varied first", new[:count], profile_command(config, new[:count]))
    categories = ("decrypt", "verify", "parse", "ids", "database", "other", "total",
                  "start-up")
    lines = ["%-18s %s" % ("%s, ms a report" % backend, " ".join("%8s" % c for c in categories))]
    for label, spent in table.items():
        lines.append("%-18s %s" % (label, " ".join("%8.1f" % spent.get(c, 0.0)
                                                   for c in categories)))
    log("where the time of `wlcg-collector ingest` goes, a report (%d reports a kind; first: "
        "the fleet's package rows made before; total without the command's start-up, given "
        "apart, once a command):\n%s" % (count, "\n".join(lines)))
    return table

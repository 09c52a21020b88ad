"""`--cron`: a valid /etc/cron.d file, never root, stable, options carried."""

import collections
import re
import shlex
import subprocess

from helpers import load_reporter, parse_report, run_reporter

reporter = load_reporter()
JOB = re.compile(r"^(\d+) (\d+) \* \* \* (\S+) (.+)$")
ENV = re.compile(r"^[A-Za-z_]+=\S*$")


def cron_file(home, *args):
    proc = run_reporter(["--cron"] + list(args), home)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    return proc.stdout.decode()


def job_of(text):
    """Check cron.d syntax line by line and return (minute, hour, user, command)."""
    assert text.endswith("\n")  # cron ignores a last line without one
    jobs = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if ENV.match(line):
            continue
        match = JOB.match(line)
        assert match, "not a cron.d line: %r" % line
        jobs.append(match.groups())
    assert len(jobs) == 1
    minute, hour, user, command = jobs[0]
    assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24
    return int(minute), int(hour), user, command


def unescape_cron(command):
    # what cron does before handing the line to /bin/sh
    assert not re.search(r"(?<!\\)%", command)
    return command.replace("\\%", "%")


def test_cron_file_is_valid_and_not_root(home):
    minute, hour, user, command = job_of(cron_file(home, "--site", "T2_TEST", "--host", "a.b.c"))
    assert user == "wlcg-reporter"
    words = shlex.split(unescape_cron(command))
    assert words[0].endswith("wlcg-package-reporter")
    assert words[words.index("--site") + 1] == "T2_TEST"
    assert "--random-delay" in words
    assert (minute, hour) == reporter.cron_schedule("a.b.c")


def test_cron_user_root_is_refused(home):
    proc = run_reporter(["--cron", "--site", "S", "--cron-user", "root"], home)
    assert proc.returncode == 2
    assert "never needs root" in proc.stderr.decode()


def test_cron_needs_a_site(home):
    assert run_reporter(["--cron"], home).returncode == 2


def test_cron_line_is_stable_for_a_host(home):
    first = cron_file(home, "--site", "T2_TEST")
    assert cron_file(home, "--site", "T2_TEST") == first
    assert job_of(cron_file(home, "--site", "T2_TEST", "--host", "wn1.example.org"))[:2] != \
        job_of(cron_file(home, "--site", "T2_TEST", "--host", "wn2.example.org"))[:2]


def test_cron_times_spread_over_the_day():
    hours = collections.Counter()
    minutes = collections.Counter()
    for index in range(4800):
        minute, hour = reporter.cron_schedule("wn%04d.example.org" % index)
        hours[hour] += 1
        minutes[minute] += 1
    assert set(hours) == set(range(24)) and set(minutes) == set(range(60))
    assert max(hours.values()) < 2 * min(hours.values())


def test_cron_carries_options_over(home, tmp_path):
    text = cron_file(home, "--site", "T2_TEST", "--tag", "50% of 'wn' nodes", "--url",
                     "https://collector.example.org/", "--retries", "5", "--timeout", "20",
                     "--packager", "rpm", "--random-delay", "120", "--cron-user", "nobody")
    _, _, user, command = job_of(text)
    assert user == "nobody"
    words = shlex.split(unescape_cron(command))
    given = dict(zip(words[1::2], words[2::2]))
    assert given == {"--config": "/dev/null", "--site": "T2_TEST",
                     "--tag": "50% of 'wn' nodes", "--url": "https://collector.example.org/",
                     "--retries": "5", "--timeout": "20", "--packager": "rpm",
                     "--random-delay": "120"}
    assert "--cron" not in words and "--cron-user" not in words


def test_cron_command_runs_as_cron_would(home, tmp_path):
    """The job line, after cron's % handling, through /bin/sh, as a dry run."""
    text = cron_file(home, "--site", "T2_TEST", "--tag", "100% \"quoted\" $HOME `x`",
                     "--host", "wn9.example.org", "--random-delay", "0")
    command = unescape_cron(job_of(text)[3]) + " --dry-run"
    proc = subprocess.run(["/bin/sh", "-c", command], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin",
                                                       "HOME": str(home)})
    assert proc.returncode == 0, proc.stderr.decode()
    headers, packages = parse_report(proc.stdout.decode())
    assert headers["tag"] == "100% \"quoted\" $HOME `x`"
    assert headers["host"] == "wn9.example.org"
    assert packages


def test_cron_file_carries_proxy_settings(home):
    proc = run_reporter(["--cron", "--site", "T2_TEST"], home, env_extra={
        "https_proxy": "http://squid.example.org:3128", "no_proxy": "localhost,.example.org"})
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    assert "https_proxy=http://squid.example.org:3128" in lines
    assert "no_proxy=localhost,.example.org" in lines
    assert not any(line.startswith("http_proxy=") for line in lines)
    job_of(proc.stdout.decode())

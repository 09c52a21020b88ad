#!/usr/bin/python3
"""Render `PROGRAM --help` as a man page (section 1) on stdout.

    python3 spec/help2man.py ./wlcg-package-reporter "report installed packages" > out.1
"""
import os
import subprocess
import sys
import time


def roff(text):
    lines = []
    for line in text.splitlines():
        line = line.replace("\\", "\\e").replace("-", "\\-")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def main(argv):
    program, summary = argv[1], argv[2]
    name = program.rsplit("/", 1)[-1]
    help_text = subprocess.run([sys.executable, program, "--help"], check=True,
                               stdout=subprocess.PIPE).stdout.decode()
    version = subprocess.run([sys.executable, program, "--version"], check=True,
                             stdout=subprocess.PIPE).stdout.decode().split()[-1]
    usage, _, rest = help_text.partition("\n\n")
    sys.stdout.write(
        '.TH %s 1 "%s" "%s %s" "User Commands"\n'
        ".SH NAME\n%s \\- %s\n"
        ".SH SYNOPSIS\n.nf\n%s\n.fi\n"
        ".SH DESCRIPTION\n.nf\n%s\n.fi\n"
        ".SH FILES\n/etc/wlcg-package-reporter/reporter.conf, "
        "/etc/wlcg-package-reporter/collector.pem, /var/spool/wlcg-package-reporter\n"
        % (name.upper(), time.strftime("%Y-%m-%d", time.gmtime(int(
            os.environ.get("SOURCE_DATE_EPOCH", time.time())))),
           name, version, name, roff(summary), roff(usage.strip()), roff(rest.strip())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

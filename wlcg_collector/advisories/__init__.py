"""Security advisories: the vendors' feeds, read into one form, and the
questions the officer asks of them over the install history.

    records.py    the normalised advisory (Advisory, Affected), severities,
                  and the check that every value fits its column
    formats.py    a feed file's format, and the one entry point that reads
                  any format into records, record by record (pure: text
                  in, records out)
    osv.py        reading OSV (AlmaLinux, Rocky, Debian, Ubuntu)
    csaf.py       reading Red Hat CSAF
    debian.py     reading the Debian tracker JSON and the DSA list
    checks.py     what the readers share: the checks every value passes,
                  severity words, times, one record refused alone
    sources.py    where the text comes from: files, directories, zips of
                  OSV records, https URLs (bounded in size and time)
    streams.py    a host's OS stream from its `system` header
    matching.py   whether a package build is inside an affected range
    exposure.py   who is exposed now, exposure windows, patch times
    tags.py       the checks of what the officer writes of a tag or an
                  exception (names, URLs, reasons, advisories, CVEs)
    exceptions.py the rules of exceptions: in force when, covering what,
                  and the spans of time they except a finding
    exchange.py   the JSON document of every tag and exception
    commands.py   the `advisories`, `vulnerable`, `exposure` and
                  `patch-times` commands
    tag_commands.py the `tags` and `exceptions` commands

Storage is db/advisory_store.py (tags and exceptions: db/tag_store.py,
db/exception_store.py). Exposure is computed when asked, from the
install intervals, never inside ingest.
"""

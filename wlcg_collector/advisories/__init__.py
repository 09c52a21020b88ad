"""Security advisories: the vendors' feeds, read into one form, and the
questions the officer asks of them over the install history.

    records.py    the normalised advisory (Advisory, Affected), severities,
                  and the check that every value fits its column
    formats.py    reading OSV and Red Hat CSAF into records, record by
                  record (pure: text in, records out)
    debian.py     the same for the Debian tracker JSON and the DSA list
    sources.py    where the text comes from: files, directories, zips of
                  OSV records, https URLs (bounded in size and time)
    streams.py    a host's OS stream from its `system` header
    matching.py   whether a package build is inside an affected range
    exposure.py   who is exposed now, exposure windows, patch times
    commands.py   the `advisories`, `vulnerable`, `exposure` and
                  `patch-times` commands

Storage is db/advisory_store.py. Exposure is computed when asked, from the
install intervals, never inside ingest.
"""

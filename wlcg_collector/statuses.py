"""The words the collector stores for what became of a thing: a site's
status on the list of sites, a report's outcome. Pages, commands and logs
show them as they are. (A host's trust level is trust.py's.)

Nothing is imported here, so that storage and the pure modules alike use
these names."""

# a site on the list of sites (sites.status, at most 8 characters)
LISTED = "listed"  # on the list the officer imported last
RETIRED = "retired"  # on an earlier list, not on the last one
ACCEPTED = "accepted"  # not on any list, accepted by the officer
SITE_STATUSES = (LISTED, RETIRED, ACCEPTED)

# a report on the audit trail (reports.outcome, at most 12 characters;
# `wlcg-collector reports HOST`)
APPLIED = "applied"  # its packages are the host's state from its time on
OLDER = "older"  # older than the host's latest: on the record, never applied
REPLAYED = "replayed"  # a signed ts not newer than the host's latest signed one
QUARANTINED = "quarantined"  # held for the officer (`quarantine`)
ROLLED_BACK = "rolled back"  # applied, then undone by `rollback`
SET_ASIDE = "set aside"  # moved off its host by a merge that met two pins
AUDIT_OUTCOMES = (APPLIED, OLDER, REPLAYED, QUARANTINED, ROLLED_BACK, SET_ASIDE)

# what storing one report answers (IngestResult.outcome): OLDER, REPLAYED,
# QUARANTINED, or
DUPLICATE = "duplicate"  # the same report is stored already (a retry)
UNCHANGED = "unchanged"  # applied: the host holds the packages it held
CHANGED = "changed"  # applied: the host's packages changed
INGEST_OUTCOMES = (DUPLICATE, OLDER, REPLAYED, QUARANTINED, UNCHANGED, CHANGED)

# what /metrics counts of a report besides what storing it answered
# (ingest_counts.outcome, at most 12 characters)
REJECTED = "rejected"  # refused, for one of the reasons below (4xx)
FAILED = "failed"  # the collector's fault: a bug, a database that refused it (500)
COUNTED_OUTCOMES = INGEST_OUTCOMES + (REJECTED, FAILED)

# why a report was rejected (ingest_counts.reason, at most 20 characters)
BAD_REQUEST = "bad_request"  # no or a bad Content-Length, a short body, another protocol
TOO_LARGE = "too_large"  # over max_body, or more than max_packages packages
TIMED_OUT = "timed_out"  # the body did not arrive in time
PLAINTEXT_REFUSED = "plaintext_refused"  # plaintext while allow_plaintext is off
UNSIGNED_REFUSED = "unsigned_refused"  # unsigned with `unsigned = reject`
NOT_DECRYPTABLE = "not_decryptable"  # by none of the collector's keys
BAD_SIGNATURE = "bad_signature"  # a signature or signer certificate refused
MALFORMED = "malformed"  # not a valid report (a signed one without ts too)
FUTURE_TS = "future_ts"  # signed, dated more than clock_skew ahead
QUOTA = "quota"  # a bound of db/quotas.py reached (429)
REJECTION_REASONS = (BAD_REQUEST, TOO_LARGE, TIMED_OUT, PLAINTEXT_REFUSED, UNSIGNED_REFUSED,
                     NOT_DECRYPTABLE, BAD_SIGNATURE, MALFORMED, FUTURE_TS, QUOTA)

"""The rows the store returns, as named records: callers read `host.site`,
never `row[1]`. (Named tuples: they still unpack like the tuples they are.)"""

from collections import namedtuple

from ..site_names import site_order


def host_order(host):
    """The key of a host (anything with .site and .name) in site and name
    order (ORDER BY statements.SITE_ORDER, name); host names compare as
    bytes (utf8mb4_bin, SQLite's BINARY)."""
    return site_order(host.site), host.name

# sites(): a site, how many hosts it has and its newest report
Site = namedtuple("Site", "site hosts last_report")
# hosts(), host(), find_host(): a host and the facts of its latest report
# (trust: unsigned, pinned, site or verified; key_fingerprint: the sha256 of
# the pinned key, or of the subject of a verified host's certificate)
Host = namedtuple("Host", "id site name packager system kernel arch first_report last_report "
                          "last_received packages trust key_fingerprint key_subject pinned_at "
                          "pinned_by")
# state(): a package installed on a host
Package = namedtuple("Package", "name version arch")
# intervals(): a package on a host from `installed` until `removed` (None: still there)
Interval = namedtuple("Interval", "name version arch installed removed")
# reports(): one row of the audit trail
# (signer: the sha256 of the signing key, None when unsigned; outcome:
# applied, older, replayed or rolled back; duplicates: the times it came again)
ReportRow = namedtuple("ReportRow", "id received collected sender packages changed applied "
                                    "signer outcome duplicates")
# quarantined(): a report kept aside for the officer (report: its text, in
# quarantined_one() only)
Quarantined = namedtuple("Quarantined", "id received sender site host kind reason fingerprint "
                                        "signer_kind signer_subject bytes report")
# site_rows(): a site the officer expects (status listed, retired or
# accepted; see the sites table)
SiteRow = namedtuple("SiteRow", "name status tier country gocdb state source since changed")
# site_lists(): one import of the list
SiteList = namedtuple("SiteList", "id imported source format sites added retired imported_by")
# import_sites(): what an import changed
SiteImport = namedtuple("SiteImport", "sites added retired returned updated")
# site_renames(): one rename or merge
SiteRename = namedtuple("SiteRename", "id done kind old_name new_name hosts merged reports "
                                      "intervals done_by")


class SiteMove(SiteRename):
    """move_site(): the SiteRename it recorded; set_aside: the [SetAside]
    hosts it met at both sites with different pins; site_key_dropped: the
    fingerprint of the old site's key when it was not moved to a target
    that has hosts (None: moved, or there was none)."""
    set_aside = ()
    site_key_dropped = None


# move_site(): a host the merge met at both sites pinned to different keys:
# the new site's host kept its row and pin (target_pin: (trust,
# fingerprint)); the other's (twin_pin) latest state waits in the quarantine
# as entry `entry` (None: the same report was there already), its reports
# stay in the audit trail, marked set aside
SetAside = namedtuple("SetAside", "host target_pin twin_pin entry")
# move(dry_run=True): what a rename or merge would do, nothing written:
# the hosts that would move (merged: joined with a host of the same name
# at the target), their reports and intervals, the quarantined reports,
# the hosts pinned to a key (their pins move with them), the old site's
# key (None: none) and whether it would move (else it is dropped), and the
# hosts met at both sites with two pins, to be set aside ([SetAside],
# entry None)
SitePlan = namedtuple("SitePlan", "kind old_name new_name hosts merged reports intervals "
                                  "quarantined pinned site_key site_key_moves set_aside")
# site_aliases(): a name renamed or merged away, and what it became
SiteAlias = namedtuple("SiteAlias", "alias site rename_id")
# hosts_by_site(): every host's site, name and who made it
SiteHost = namedtuple("SiteHost", "site name created_by first_report last_report")
# site_keys(): a site's pinned key
SiteKey = namedtuple("SiteKey", "site fingerprint pinned_at pinned_by")
# quota_events(): the reports one bound (setting, see quotas.py) refused on
# a UTC day, of a site, host and sender ('': a bound of the site or sender;
# all three '': past the rows a day keeps apart), how many, first and last
QuotaEventRow = namedtuple("QuotaEventRow", "day setting site host sender refused first_at "
                                            "last_at")
# rollback(): what it changed (or, dry, would change)
Rollback = namedtuple("Rollback", "intervals_removed intervals_reopened reports_rolled_back "
                                  "facts_rolled_back")
# baselines(): the latest revision of each stored baseline
# (retired: its latest revision retires it, baseline_store.RETIRED_TEXT)
BaselineInfo = namedtuple("BaselineInfo", "name revision created revisions retired")
# baseline(): one revision's text
Baseline = namedtuple("Baseline", "name revision created text")
# hosts_at(), host_names(): a host known at a time; set_report: the report
# that made its present set (None: none known, as after a bulk load)
HostAt = namedtuple("HostAt", "id site name packager system set_report")
# cached_holders(): compare's holders of a baseline's names as kept (see
# compliance_cache.py): moves when made (site_moves()), computed (Unix
# seconds: when made, or last found current by `baseline keep`), the hosts'
# set_reports and the holders, as bytes
CachedHolders = namedtuple("CachedHolders", "moves computed set_reports holders")
# packages_named(): a package row shared by every host that has it
PackageRow = namedtuple("PackageRow", "id packager name version arch")
# package_intervals(): an interval of one package name on a host
PackageInterval = namedtuple("PackageInterval",
                             "host_id site packager version arch installed removed")
# the rows of bulk_load(): what ingesting a fleet's reports would have left
BulkHost = namedtuple("BulkHost", "site name packager system kernel arch facts packages "
                                  "first_report last_report")
BulkInstall = namedtuple("BulkInstall", "host package installed removed")
BulkReport = namedtuple("BulkReport", "host digest collected packages")


class PendingReport(namedtuple("PendingReport", "report received sender clock_skew signer rules")):
    """A report on its way into the store (the writer's store_reports):
    the parsed report.Report (storage never changes it), when it arrived,
    the address it came from, how far past `received` its ts may be,
    its trust.Signer (None: unsigned), the trust.Rules (None: the
    defaults)."""
    __slots__ = ()

    def __new__(cls, report, received, sender, clock_skew=300, signer=None, rules=None):
        return super().__new__(cls, report, received, sender, clock_skew, signer, rules)

    @property
    def collected(self):
        """When the report says it was made; its arrival when it says
        nothing or a time too far ahead."""
        ts = self.report.ts
        if ts is None or ts > self.received + self.clock_skew:
            return self.received
        return ts


# resolve_site(): where a report's site name led. sent: the name in the
# report; site: the name its host is stored under (as the list spells it,
# or what a rename made of it); renamed: a rename led there; unknown: a
# list is loaded and the site is not on it (nor did the officer accept
# it); suggestions: the listed names closest to an unknown one
SiteResolution = namedtuple("SiteResolution", "sent site renamed unknown suggestions")
# what the writer reads of a host before it decides: its row (a
# statements.HostState, None for a new host), its trust.HostPin (None for
# a new host), the pinned key of its site when a site key signed, and
# whether the site has hosts when that key is the site's first
# (has_set, open_ids: whether the host has a row of host_sets, and its
# value, when read with it: see open_sets.py; usage: the day's counts of
# the report's host, sender and site, when read with it: see
# quotas.usage_of_text)
HostFound = namedtuple("HostFound",
                       "row pin site_pin site_has_hosts has_set open_ids usage",
                       defaults=(False, None, None))
# IngestResult.held, for a quarantined report: why (trust's kind and
# reason) and the fingerprint of the key that signed it (None: unsigned)
Held = namedtuple("Held", "kind reason fingerprint")


class IngestResult(object):
    """What storing one report did: outcome "duplicate", "older",
    "replayed", "quarantined", "unchanged" or "changed"; changes: intervals
    opened + closed; note: a line for the collector's log; parsed: False
    when the report's package block was the host's stored one, not parsed
    again; site: the SiteResolution of its site name (None for a
    duplicate); held: why a quarantined report is held (a Held). What the
    reporter is told of them is ingest's wording, not storage's."""

    def __init__(self, outcome, changes=0, note=None, parsed=True, site=None, held=None):
        self.outcome = outcome
        self.changes = changes
        self.note = note
        self.parsed = parsed
        self.site = site
        self.held = held

    def __repr__(self):
        return "IngestResult(%r, %d)" % (self.outcome, self.changes)
# contact_imports(): one import of GOCDB's contacts or security info
ContactImport = namedtuple("ContactImport", "id imported source layout sites contacts skipped "
                                            "imported_by")
# site_contacts(): whom a site names: its CSIRT address (None: none
# imported) and its contacts ([contacts.Contact], by role and name)
SiteContacts = namedtuple("SiteContacts", "site csirt contacts")

"""The advisory measures of bench/run, on the query fleet (bench/fleet.py):
5,000 OSV records of 3 affected packages each, in the form of AlmaLinux's
feed (one JSON file a record, in a zip), imported the way an operator
does; then `vulnerable` over the fleet, `exposure` of one advisory,
`patch-times`, and `campaign status` of a campaign on a tag of 40 of them.

Most records name versions older than the fleet's (nobody is exposed, as
with most of a real feed); 15 name a fix newer than every host's version
(everybody is exposed until the end), 25 the fleet's staged upgrades
(exposed until each host upgrades, 10 % never do).
"""

import io
import json
import random
import time
import zipfile

from bench.fleet import DAY, upgraded
from wlcg_collector import campaigns
from wlcg_collector.advisories import exposure as judging
from wlcg_collector.advisories.formats import parse
from wlcg_collector.advisories.sources import items_of
from wlcg_collector.advisories.streams import StreamTable

RECORDS = 5000
OPEN_RECORDS = 15
STAGED_RECORDS = 25


def _time(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def osv_records(fleet, count=RECORDS, seed=5):
    """[(file name, OSV JSON bytes)] for the fleet."""
    rng = random.Random(seed)
    staged = list(fleet.staged)
    others = [p for p in fleet.packages if p not in fleet.staged]
    records = []
    for index in range(count):
        if index < STAGED_RECORDS:
            chosen = [staged[(index + k) % len(staged)] for k in range(3)]
            fixed = [upgraded(version, 1) for _, version, _ in chosen]
            published = fleet.start + rng.randint(1, fleet.days // 2) * DAY
        elif index < STAGED_RECORDS + OPEN_RECORDS:
            chosen = rng.sample(others, 3)
            fixed = [version + ".99" for _, version, _ in chosen]
            published = fleet.start + rng.randint(1, fleet.days - 1) * DAY
        else:
            chosen = rng.sample(fleet.packages, 3)
            fixed = ["0:0-0.el9" for _ in chosen]
            published = fleet.start - rng.randint(30, 2000) * DAY
        ident = "ALSA-BENCH:%05d" % index
        record = {
            "id": ident, "summary": "%s: %s security update" % (
                rng.choice(["Important", "Moderate", "Low", "Critical"]), chosen[0][0]),
            "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": name},
                          "ranges": [{"type": "ECOSYSTEM", "events": [
                              {"introduced": "0"}, {"fixed": version}]}]}
                         for (name, _, _), version in zip(chosen, fixed)],
            "related": ["CVE-2025-%05d" % index],
            "published": _time(published), "modified": _time(published + 3600),
            "references": [{"type": "ADVISORY",
                            "url": "https://errata.example.org/%s.html" % ident}]}
        records.append(("almalinux9/%s.json" % ident.replace(":", "_"),
                        json.dumps(record, indent=2).encode()))
    return records


def osv_zip(records):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in records:
            archive.writestr(name, data)
    return buffer.getvalue()


def import_zip(store, path):
    """What `advisories import ZIP` does: read, parse, store."""
    advisories = []
    for _, data in items_of(path):
        advisories.extend(parse(data))
    return store.advisories.import_records(advisories, int(time.time()))


def measure_advisories(store, fleet, directory, log):
    import os
    path = os.path.join(directory, "almalinux9.zip")
    with open(path, "wb") as handle:
        handle.write(osv_zip(osv_records(fleet)))
    began = time.perf_counter()
    result = import_zip(store, path)
    seconds = time.perf_counter() - began
    results = {"advisories_import_5000_s": seconds}
    log("import of %d OSV records (a %.1f MB zip): %s in %.2f s"
        % (RECORDS, os.path.getsize(path) / 1e6, result, seconds))
    began = time.perf_counter()
    again = import_zip(store, path)
    results["advisories_reimport_5000_s"] = time.perf_counter() - began
    log("the same zip again: %s in %.2f s" % (again, results["advisories_reimport_5000_s"]))
    end = fleet.start + fleet.days * DAY
    times = []
    for _ in range(3):
        began = time.perf_counter()
        result = judging.vulnerable(store, StreamTable(), end)
        times.append(time.perf_counter() - began)
    results["vulnerable_10k_s"] = sorted(times)[1]
    summary, details = result
    log("vulnerable over %d hosts: %d sites, %d hosts exposed (a line each by default), %d "
        "(host, advisory, package) rows (--rows) in %.3f s"
        % (fleet.hosts, len(summary), len(judging.hosts_exposed(result)), len(details),
           results["vulnerable_10k_s"]))
    info = store.advisories.get("ALSA-BENCH:00000")[0]
    times = []
    for _ in range(3):
        began = time.perf_counter()
        exposure = judging.exposure(store, StreamTable(), info, end)
        times.append(time.perf_counter() - began)
    results["exposure_one_s"] = sorted(times)[1]
    log("exposure of %s: %d hosts ever exposed, %d now, a curve of %d days, in %.3f s"
        % (info.ident, len(exposure.hosts), sum(1 for h in exposure.hosts if h.fixed_at is None),
           len(exposure.curve), results["exposure_one_s"]))
    began = time.perf_counter()
    rows = judging.patch_times(store, StreamTable(), end, since=fleet.start)
    results["patch_times_s"] = time.perf_counter() - began
    log("patch-times of the %d advisories published in the fleet's 90 days, %d sites, in "
        "%.3f s" % (STAGED_RECORDS + OPEN_RECORDS, len(rows), results["patch_times_s"]))
    results.update(measure_campaign(store, fleet, end, log))
    return results


def measure_campaign(store, fleet, end, log):
    """`campaign status` of a 7-day campaign on a tag of the 40 advisories
    the fleet is exposed to (SEC03's case: a tag of the grid's critical
    ones), begun half way through the fleet's days."""
    tagged = [("advisory", "ALSA-BENCH:%05d" % index)
              for index in range(STAGED_RECORDS + OPEN_RECORDS)]
    store.tags.add("BENCH-Critical", None, None, fleet.start, "bench")
    store.tags.apply("BENCH-Critical", tagged, fleet.start, "bench")
    start = fleet.start + fleet.days // 2 * DAY
    campaign = store.campaigns.add("bench", campaigns.TAG, "BENCH-Critical", None, start,
                                   start + 7 * DAY, fleet.start, "bench")
    times = []
    for _ in range(3):
        began = time.perf_counter()
        status = campaigns.status_at(store, StreamTable(), campaign, end)
        times.append(time.perf_counter() - began)
    seconds = sorted(times)[1]
    states = [site.state for site in status.sites]
    log("campaign status of a tag of %d advisories over %d hosts: %d sites (%d overdue, %d "
        "done, %d unknown), %d hosts still exposed, a burn-down of %d days, in %.3f s"
        % (len(tagged), fleet.hosts, len(states), states.count(campaigns.OVERDUE),
           states.count(campaigns.DONE), states.count(campaigns.UNKNOWN),
           sum(site.exposed for site in status.sites), len(status.burndown), seconds))
    return {"campaign_status_10k_s": seconds}

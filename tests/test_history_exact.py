"""The install history is exact: after 200 random reports of random churn
(upgrades, downgrades, removals, reinstalls, new packages, arch twins,
kernels side by side; some sent out of order, some twice, some at the
same second as the one before), each host's stored intervals are those of
a brute-force replay, in plain Python, of the reports that should have
been applied, in the order they arrived. The replay shares no code with
the collector: it is what the design says ingest does (DESIGN.md 5 and 8),
written the obvious way."""

import random

import pytest

from helpers import make_report
from test_open_sets import assert_open_sets_exact
from wlcg_collector import trust
from wlcg_collector.db.quotas import SETTINGS, Limits
from wlcg_collector.ingest import ingest
from wlcg_collector.report import parse_report

T0 = 1767225600  # 2026-01-01T00:00:00Z
SITE = "T2_EXACT"
# (host, signed): a signed host's reports come with its pinned key, so a
# report not newer than its latest applied one is a replay; an unsigned
# host's (pakiti-client's) is applied at the same second too
HOSTS = [("wn%02d.example.org" % index, index == 3) for index in range(4)]
# no day's bounds of changes: every report here is one the rules let through
UNBOUNDED = Limits(**{attribute: 10 ** 12 for _, attribute, _, _ in SETTINGS})
NAMES = ["pkg%02d" % index for index in range(24)]
TWINS = ["glibc", "libgcc", "zlib"]  # i686 beside x86_64


def evr(epoch, number):
    return "%d:1.%d-1.el9" % (epoch, number)


def churned(rng, state, removed):
    """The next package set of a host: a random mix of changes of `state`
    (a set of (name, version, arch)); removed: what the host had once."""
    state = set(state)
    for _ in range(rng.choice((0, 1, 1, 2, 3, 5))):
        what = rng.choice(("upgrade", "downgrade", "remove", "reinstall", "new", "twin",
                           "kernel", "kernel_gone"))
        plain = sorted(p for p in state if p[0] != "kernel")
        if what in ("upgrade", "downgrade") and plain:
            name, version, arch = rng.choice(plain)
            epoch, number = int(version[0]), int(version.split(".")[1].split("-")[0])
            number += 1 if what == "upgrade" else -1
            if number >= 0:
                state.discard((name, version, arch))
                state.add((name, evr(epoch, number), arch))
        elif what == "remove" and plain:
            gone = rng.choice(plain)
            state.discard(gone)
            removed.add(gone)
        elif what == "reinstall" and removed - state:
            state.add(rng.choice(sorted(removed - state)))
        elif what == "new":
            name = rng.choice(NAMES)
            if not any(p[0] == name for p in state):
                state.add((name, evr(rng.choice((0, 0, 1)), rng.randrange(5)),
                           rng.choice(("x86_64", "noarch"))))
        elif what == "twin":
            name = rng.choice(TWINS)
            twins = sorted(p for p in state if p[0] == name)
            if any(p[2] == "i686" for p in twins):
                gone = [p for p in twins if p[2] == "i686"][0]
                state.discard(gone)
                removed.add(gone)
            else:  # the x86_64 one's version, or another (one arch updated first)
                version = twins[0][1] if twins else evr(0, rng.randrange(5))
                state.add((name, version if rng.random() < 0.7 else evr(0, 9), "i686"))
        elif what == "kernel":
            newest = max([int(p[1].split(".")[1].split("-")[0])
                          for p in state if p[0] == "kernel"] or [0])
            state.add(("kernel", evr(0, newest + 1), "x86_64"))
        elif what == "kernel_gone":
            kernels = sorted(p for p in state if p[0] == "kernel")
            if len(kernels) > 1:
                state.discard(kernels[0])
                removed.add(kernels[0])
    return state


def random_deliveries(seed, count=200):
    """[(host index, ts, packages, body)] in the order they arrive."""
    rng = random.Random(seed)
    states, removed, clocks, sent, before = [], [], [], [], []
    for index in range(len(HOSTS)):
        first = {(name, evr(0, rng.randrange(5)), rng.choice(("x86_64", "noarch")))
                 for name in rng.sample(NAMES, 12)}
        first |= {(name, evr(0, 2), "x86_64") for name in TWINS}
        first |= {(TWINS[0], evr(0, 2), "i686"), ("kernel", evr(0, 1), "x86_64"),
                  ("kernel", evr(0, 2), "x86_64")}
        states.append(first)
        before.append(first)
        removed.append(set())
        clocks.append(T0 + index * 7)
        sent.append([])
    deliveries, held = [], []
    while len(deliveries) < count:
        host = rng.randrange(len(HOSTS))
        roll = rng.random()
        if roll < 0.06 and sent[host]:  # the same body again (a retry)
            deliveries.append(rng.choice(sent[host]))
            continue
        if roll < 0.16 and held:  # a report held back arrives, late
            deliveries.append(held.pop(rng.randrange(len(held))))
            continue
        if roll > 0.9:
            # the same second as the host's last report, which it undoes
            # (what came goes again, what went comes back) or changes further
            state = before[host] if rng.random() < 0.6 else churned(rng, states[host],
                                                                    removed[host])
        else:
            clocks[host] += rng.choice((60, 600, 3600, 86400))
            state = churned(rng, states[host], removed[host])
        before[host], states[host] = states[host], state
        packages = sorted(states[host])
        name, _ = HOSTS[host]
        body = make_report(SITE, name, rng.sample(packages, len(packages)), ts=clocks[host],
                           system="AlmaLinux 9.%d" % rng.randrange(2))
        report = (host, clocks[host], packages, body)
        sent[host].append(report)
        if rng.random() < 0.1:
            held.append(report)
        else:
            deliveries.append(report)
    return deliveries


def brute_force(deliveries):
    """{host index: sorted (name, version, arch, installed, removed)}: each
    report applied in arrival order, unless it is a body seen before, older
    than the host's latest applied report, or (signed) not newer than it;
    a package gone at the very second it came never was. Also {host index:
    [whether each report not seen before was applied]}, and how many
    packages went at the second they came."""
    seen, latest, opened, closed, applied, never = set(), {}, {}, {}, {}, 0
    for host, ts, packages, body in deliveries:
        if body in seen:
            continue
        seen.add(body)
        last, signed = latest.get(host), HOSTS[host][1]
        now, done = opened.setdefault(host, {}), closed.setdefault(host, [])
        if last is not None and (ts < last or (signed and ts == last)):
            applied.setdefault(host, []).append(False)
            continue
        applied.setdefault(host, []).append(True)
        latest[host] = ts
        for package in sorted(set(now) - set(packages)):
            since = now.pop(package)
            if since != ts:
                done.append(package + (since, ts))
            else:
                never += 1
        for package in packages:
            if package not in now:
                now[package] = ts
    return ({host: sorted(closed[host] + [p + (since, None) for p, since in opened[host].items()])
             for host in opened}, applied, never)


def deliver(store, deliveries):
    """Each body into the store as ingest takes it: pakiti-client's through
    ingest() as plaintext, the signed host's with its pinned key."""
    for number, (host, ts, packages, body) in enumerate(deliveries):
        received = T0 + 400 * 86400 + number
        if HOSTS[host][1]:
            signer = trust.Signer(trust.HOST_KEY, bytes([host]) * 32, None)
            store.writer.store_report(parse_report(body, lazy=True), received, "192.0.2.1",
                                      signer=signer, rules=trust.Rules(), limits=UNBOUNDED)
        else:
            ingest(store, body, [], "192.0.2.1", allow_plaintext=True, received=received,
                   limits=UNBOUNDED)


@pytest.mark.parametrize("seed", [20261208])
def test_history_equals_a_brute_force_replay(store, seed):
    deliveries = random_deliveries(seed)
    expected, applied, never = brute_force(deliveries)
    # what the seed made: every kind of change, and every rule's case
    assert len(deliveries) == 200 and len(expected) == len(HOSTS)
    assert sum(not a for flags in applied.values() for a in flags) >= 5  # older, replays
    assert len({d[3] for d in deliveries}) < 200  # bodies sent twice
    assert never >= 3  # packages that went at the second they came
    deliver(store, deliveries)
    for host, (name, signed) in enumerate(HOSTS):
        found = store.hosts.find(name, SITE)
        assert sorted(tuple(i) for i in store.hosts.intervals(found.id)) == expected[host]
        assert [bool(r.applied) for r in store.hosts.reports(found.id)] == applied[host]
        assert store.hosts.state(found.id) == sorted(
            (p[:3] for p in expected[host] if p[4] is None), key=lambda p: (p[0], p[2], p[1]))
    # and each host's open set (open_sets.py) is its open intervals'
    assert_open_sets_exact(store)


@pytest.mark.parametrize("seed", [20261208])
def test_changes_since_a_time_read_either_way_are_the_replays(store, seed, monkeypatch):
    """What changed since T (the intervals opened or closed at or after
    it), read host by host and package row by package row (fleet.py: over
    more than HOSTS_READ_BY_HOST hosts), is the replay's, for any T, of all
    hosts or of some."""
    from wlcg_collector.db import fleet
    deliveries = random_deliveries(seed)
    expected, _, _ = brute_force(deliveries)
    deliver(store, deliveries)
    ids = {store.hosts.find(name, SITE).id: host for host, (name, _) in enumerate(HOSTS)}
    times = sorted({ts for _, ts, _, _ in deliveries})
    for since in times[::len(times) // 12] + [times[-1], times[-1] + 1]:
        wanted = {host: sorted(p for p in intervals if p[3] >= since or
                               (p[4] is not None and p[4] >= since))
                  for host, intervals in expected.items()}
        assert any(wanted.values()) or since > times[-1]
        for by_host in (10 ** 6, 0):
            monkeypatch.setattr(fleet, "HOSTS_READ_BY_HOST", by_host)
            for some in (sorted(ids), sorted(ids)[1:3]):
                found = store.fleet.changed_intervals(some, since)
                assert {ids[h]: sorted(tuple(i) for i in intervals)
                        for h, intervals in found.items()} == {
                    ids[h]: wanted[ids[h]] for h in some if wanted[ids[h]]}, (since, by_host)

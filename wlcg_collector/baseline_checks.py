"""What makes a baseline silently meaningless on the fleet it judges: a
`[system: PATTERN]` that matches none of the systems the hosts report
(its lines then apply to no host, and every site looks compliant), and a
requirement without an epoch for a package whose builds all carry one (a
missing epoch is 0, as rpm has it, so every build is "ok" whatever its
version). The meaning stays rpm's; these are warnings, as lines, for
`baseline add`, `compare`, `adoption` and the pages to show. Pure: the
callers hand in what the fleet holds."""

from .baselines import system_matches
from .versions import split_dpkg_version, split_rpm_evr

# the systems a warning names, then "+N more"
SYSTEMS_NAMED = 10


def unmatched_scopes(requirements, systems):
    """A warning for each system pattern of the requirements that matches
    none of `systems` (the systems the hosts report), naming them; none
    before any host reports (a baseline may come before its fleet)."""
    warnings = []
    if not systems:
        return warnings
    checked = set()
    for requirement in requirements:
        for pattern in requirement.systems or ():
            if pattern.lower() in checked:
                continue
            checked.add(pattern.lower())
            if not any(system_matches(pattern, system or "") for system in systems):
                warnings.append(where(requirement) + "[system: %s] matches none of the systems "
                                "the hosts report (%s): its lines apply to no host"
                                % (pattern, known_systems(systems)))
    return warnings


def known_systems(systems):
    shown = ", ".join(systems[:SYSTEMS_NAMED])
    more = len(systems) - SYSTEMS_NAMED
    return "known: " + (shown if more <= 0 else "%s +%d more" % (shown, more))


def installed_epoch(packager, version):
    """The epoch of an installed version as reported (0 when it gives
    none), or None if it cannot be read."""
    if packager == "dpkg":
        try:
            return split_dpkg_version(version)[0]
        except ValueError:
            return None
    epoch = split_rpm_evr(version)[0]
    return int(epoch) if epoch is not None else 0


def epoch_traps(requirements, installed):
    """A warning for each requirement without an epoch whose package's
    installed builds all carry a non-zero one. installed: {package name:
    {(packager, version)}} of the builds judged."""
    warnings = []
    for requirement in requirements:
        if ":" in requirement.version:
            continue
        epochs = {installed_epoch(packager, version)
                  for packager, version in installed.get(requirement.name, ())}
        epochs.discard(None)
        if not epochs or 0 in epochs:
            continue
        seen = sorted(epochs)
        warnings.append(where(requirement) + (
            "every installed %s has epoch %s: did you mean %d:%s? (%s compares as "
            "epoch 0, as rpm does: every build of it is ok whatever its version)")
            % (requirement.name, " or ".join(map(str, seen)), seen[-1],
               requirement.version, requirement.text))
    return warnings


def where(requirement):
    """"line N: " of a baseline's requirement; nothing for one given alone."""
    return "" if requirement.line is None else "line %d: " % requirement.line

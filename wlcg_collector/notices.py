"""The notice a site gets for a campaign: what it must fix, by when, and
how to check; written for that site alone (no other site's hosts)."""

from .campaigns import OPEN, OVERDUE, OVERDUE_NOTICE, UNKNOWN, NOTICE
from .dates import DAY, format_day, format_time
from .mail import make_message

# the sites a stage is for
STAGE_STATES = {NOTICE: (OPEN, OVERDUE, UNKNOWN), OVERDUE_NOTICE: (OVERDUE,)}


def sites_to_notify(status, stage):
    """The CampaignSites of a CampaignStatus that `stage` is for: every
    site with something to do (NOTICE), or the overdue ones."""
    return [site for site in status.sites if site.state in STAGE_STATES[stage]]


def subject_of(campaign, site, stage):
    if stage == OVERDUE_NOTICE:
        return "[WLCG] OVERDUE campaign %s at %s: deadline %s" % (
            campaign.name, site.site, format_day(campaign.deadline))
    return "[WLCG] campaign %s at %s: deadline %s" % (campaign.name, site.site,
                                                      format_day(campaign.deadline))


def body_of(campaign, description, site, at, stage):
    """The text of a site's notice: its hosts still exposed with installed
    and fixed versions, how to check, and what to do when a finding does
    not apply."""
    lines = ["Dear %s administrators," % site.site, ""]
    if stage == OVERDUE_NOTICE:
        lines.append("The deadline of campaign %s passed on %s (%d day(s) ago) and hosts of "
                     "%s are still affected." % (campaign.name, format_time(campaign.deadline),
                                                site.overdue_days or 0, site.site))
    elif campaign.deadline <= at:
        lines.append("Campaign %s asked every site to fix %s by %s: that deadline has passed."
                     % (campaign.name, description, format_time(campaign.deadline)))
    else:
        days = -(-(campaign.deadline - at) // DAY)
        lines.append("Campaign %s asks every site to fix %s by %s (%d day(s) from now)."
                     % (campaign.name, description, format_time(campaign.deadline), days))
    lines += ["", "As the hosts' own daily reports showed on %s, these hosts of %s still hold "
                  "affected packages:" % (format_time(at), site.site), ""]
    width = max([len(h.host) for h in site.hosts] + [4])
    package_width = max([len(h.package) for h in site.hosts] + [7])
    installed_width = max([len(h.installed) for h in site.hosts] + [9])
    row = "  %%-%ds  %%-%ds  %%-%ds  %%s" % (width, package_width, installed_width)
    lines.append(row % ("host", "package", "installed", "fixed in"))
    for host in site.hosts:
        lines.append(row % (host.host, host.package, host.installed, host.fixed or "(no fix)"))
    if site.silent:
        lines += ["", "%d of them have not reported since the campaign started (%s): they are "
                      "listed as last seen; check that their daily report still runs."
                  % (site.silent, format_day(campaign.start))]
    lines += ["", "To check a host: `rpm -q PACKAGE` (or `dpkg-query -W PACKAGE`) shows the "
                  "installed version; upgrade the package and the host's next daily report "
                  "shows it fixed.",
              "If a finding does not apply (a mitigation, a vendor backport, a host being "
              "retired), reply with the reason: the officer can record an exception.",
              "", "-- ", "WLCG package reporter, on behalf of the officer"]
    return "\n".join(lines) + "\n"


def notice_message(campaign, description, site, at, stage, sender, recipients):
    """The EmailMessage of a site's notice (mail.MailError for a bad
    address)."""
    return make_message(sender, recipients, subject_of(campaign, site, stage),
                        body_of(campaign, description, site, at, stage), at)

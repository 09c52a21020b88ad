"""What the officer's campaign pages show (pages.py renders them):

    /officer/campaigns           every campaign: its target, deadline, and
                                 how many sites are done, open, overdue
    /officer/campaign/NAME       each site's state (overdue first), the
                                 hosts still exposed, the burn-down with the
                                 deadline marked, the notices sent
"""

import time

from . import campaigns


def campaigns_context(store, table):
    now = int(time.time())
    rows = []
    for campaign in store.campaigns.listed():
        rows.append({"campaign": campaign, "target": campaigns.describe(campaign),
                     "counts": campaigns.site_counts(store, table, campaign, now)})
    return {"rows": rows, "now": now}


def campaign_context(store, table, name):
    """The page of campaign `name` (UnknownCampaign: 404): a closed one
    shows the status it kept, and no burn-down (its history is still
    there: the command works any date out)."""
    campaign = store.campaigns.get(name)
    now = int(time.time())
    burndown = []
    if campaign.closed is not None:
        sites = campaigns.final_status(campaign)
        at = campaign.closed
    else:
        status = campaigns.status_at(store, table, campaign, now)
        sites, at, burndown = campaigns.status_document(status), now, status.burndown
    return {"campaign": campaign, "target": campaigns.describe(campaign), "sites": sites,
            "at": at, "burndown": burndown, "notices": store.campaigns.notices(campaign),
            "hosts": [dict(host, site=site["site"]) for site in sites for host in site["hosts"]]}

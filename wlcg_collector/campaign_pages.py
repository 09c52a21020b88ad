"""What the officer's campaign pages show (pages.py renders them):

    /officer/campaigns           every campaign: its target, deadline, and
                                 how many sites are done, open, overdue
    /officer/campaign/NAME       each site's state (overdue first), the
                                 hosts still exposed, the burn-down with the
                                 deadline marked, the notices sent

Both of a site reader's sites only (`sites`; None: every site): their
states, their hosts in the burn-down, the notices sent to them.
"""

import time

from . import campaigns
from .site_names import site_key, site_keys


def campaigns_context(store, table, sites=None):
    now = int(time.time())
    rows = []
    for campaign in store.campaigns.listed():
        rows.append({"campaign": campaign, "target": campaigns.describe(campaign),
                     "counts": campaigns.site_counts(store, table, campaign, now, sites)})
    return {"rows": rows, "now": now}


def campaign_context(store, table, name, sites=None):
    """The page of campaign `name` (UnknownCampaign: 404): a closed one
    shows the status it kept, and no burn-down (its history is still
    there: the command works any date out)."""
    campaign = store.campaigns.get(name)
    now = int(time.time())
    burndown = []
    if campaign.closed is not None:
        found = campaigns.final_status(campaign, sites)
        at = campaign.closed
    else:
        status = campaigns.status_at(store, table, campaign, now, sites)
        found, at, burndown = campaigns.status_document(status), now, status.burndown
    wanted = site_keys(sites)
    notices = [notice for notice in store.campaigns.notices(campaign)
               if wanted is None or site_key(notice.site) in wanted]
    return {"campaign": campaign, "target": campaigns.describe(campaign), "sites": found,
            "at": at, "burndown": burndown, "notices": notices,
            "hosts": [dict(host, site=site["site"]) for site in found for host in site["hosts"]]}

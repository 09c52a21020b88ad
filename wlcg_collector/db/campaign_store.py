"""Campaigns: targets the sites must meet by a deadline, and the notices
sent for them. A campaign is never deleted: closed, it keeps the status it
had then."""

from collections import namedtuple

from .database import Part
from .errors import DuplicateRow, StoreError
from .statements import compile_statements

# a campaign (kind: advisory, cve, tag or requirement; target: its ID, CVE,
# tag or "NAME OP VERSION"; system: a pattern the hosts' system matches,
# None: every host; closed: when, None while open; final: its status then,
# as JSON)
Campaign = namedtuple("Campaign", "id name kind target system start deadline created "
                                  "created_by closed closed_by final")
# a message sent to a site for a campaign (stage: notice or overdue;
# recipients: the addresses the relay took, comma-separated)
CampaignNotice = namedtuple("CampaignNotice", "id campaign_id site stage sent recipients "
                                              "message_id sent_by")


class UnknownCampaign(StoreError):
    """No campaign of that name."""


class CampaignSQL(object):
    INSERT_CAMPAIGN = ("INSERT INTO campaigns (name, kind, target, system, start, deadline, "
                       "created, created_by) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
    SELECT_CAMPAIGNS = "SELECT " + ", ".join(Campaign._fields) + " FROM campaigns"
    SELECT_CAMPAIGN = SELECT_CAMPAIGNS + " WHERE name = {p}"
    CLOSE_CAMPAIGN = ("UPDATE campaigns SET closed = {p}, closed_by = {p}, final = {p} "
                      "WHERE id = {p} AND closed IS NULL")
    INSERT_NOTICE = ("INSERT INTO campaign_notices (campaign_id, site, stage, sent, recipients, "
                     "message_id, sent_by) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})")
    SELECT_NOTICES = ("SELECT " + ", ".join(CampaignNotice._fields) + " FROM campaign_notices "
                      "WHERE campaign_id = {p} ORDER BY sent, id")
    # the hosts that had a report applied in (start, end]: not silent; when
    # no report is later than end, each host's latest tells
    SELECT_HOSTS_REPORTING = ("SELECT DISTINCT host_id FROM reports WHERE collected > {p} "
                              "AND collected <= {p} AND applied = 1")
    SELECT_LATEST_REPORT = "SELECT MAX(last_report) FROM hosts"
    SELECT_HOSTS_REPORTED_SINCE = "SELECT id FROM hosts WHERE last_report > {p}"


class CampaignStore(Part):
    """The campaigns and their notices (tables: campaigns,
    campaign_notices); which hosts reported in a period (reports)."""

    def __init__(self, db):
        Part.__init__(self, db)
        self.statements = compile_statements(CampaignSQL, self.dialect.compile)

    def add(self, name, kind, target, system, start, deadline, now, who):
        """Store a new campaign; StoreError when one has that name."""
        sql = self.statements
        try:
            self.db.transaction(lambda cursor: self.db.execute_unique(
                cursor, sql.INSERT_CAMPAIGN, (name, kind, target, system, start, deadline, now,
                                              who)))
        except DuplicateRow:
            raise StoreError("campaign %r exists already" % name)
        return self.get(name)

    def listed(self):
        """[Campaign], the newest deadline first."""
        campaigns = self.db.read(self.statements.SELECT_CAMPAIGNS, (), Campaign)
        return sorted(campaigns, key=lambda c: (-c.deadline, c.name))

    def get(self, name):
        """The Campaign `name`; UnknownCampaign if there is none."""
        row = self.db.read_one(self.statements.SELECT_CAMPAIGN, (name,))
        if row is None:
            raise UnknownCampaign("unknown campaign %r" % name)
        return Campaign(*row)

    def close(self, campaign, final, now, who):
        """Close an open campaign, keeping `final` (its status, as JSON
        text); StoreError when it is closed already."""
        def work(cursor):
            cursor.execute(self.statements.CLOSE_CAMPAIGN, (now, who, final, campaign.id))
            if cursor.rowcount != 1:
                raise StoreError("campaign %r is closed already" % campaign.name)
        self.db.transaction(work)

    def notices(self, campaign):
        """[CampaignNotice] sent for the campaign, in the order sent."""
        return self.db.read(self.statements.SELECT_NOTICES, (campaign.id,), CampaignNotice)

    def record_notice(self, campaign, site, stage, sent, recipients, message_id, who):
        """Record a message the relay took for `recipients`."""
        self.db.transaction(lambda cursor: cursor.execute(self.statements.INSERT_NOTICE, (
            campaign.id, site, stage, sent, ", ".join(recipients), message_id, who)))

    def hosts_reporting(self, start, end):
        """{host id} of the hosts that had a report applied in (start, end]."""
        sql = self.statements
        newest = self.db.read_one(sql.SELECT_LATEST_REPORT)[0]
        if newest is None or newest <= end:  # (now: the hosts' rows say, a read less)
            return {row[0] for row in self.db.read(sql.SELECT_HOSTS_REPORTED_SINCE, (start,))}
        return {row[0] for row in self.db.read(sql.SELECT_HOSTS_REPORTING, (start, end))}

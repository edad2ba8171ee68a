"""Care campaign tables: a campaign (its kind's settings, hold-out share, variants, approval),
its runs (one per occurrence: a birthday year, a festival date, a one-off send) and each run's
targets, snapshotted set-based — one row per customer and occurrence, with its group
(treatment or control), variant and what the messaging pipeline made of it."""

from piccolo.columns import UUID, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import TenantScoped

__all__ = ["CampaignRow", "RunRow", "TargetRow"]


class CampaignRow(TenantScoped, Table, tablename="care_campaign"):
    """A campaign: ``draft`` → ``active`` ⇄ ``paused``. ``settings`` is the kind's JSON
    (see :mod:`plugins.care.campaigns`), ``variants`` the A/B split, ``approval`` ``''``
    (not needed yet), ``required`` or ``approved``."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    kind = Varchar(length=24)
    state = Varchar(length=16, default="draft")
    segment_id = UUID(null=True, default=None)
    channel = Varchar(length=32, default="log")
    message = Text(default="")
    settings = Text(default="{}")
    control_pct = SmallInt(default=0)
    variants = Text(default="[]")
    window_days = SmallInt(default=14)
    approval = Varchar(length=16, default="")
    approved_by = Varchar(length=64, default="")
    approved_at = Timestamptz(null=True, default=None)
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class RunRow(TenantScoped, Table, tablename="care_run"):
    """A run of a campaign for one ``occurrence`` (``2026`` for a yearly birthday, a date for
    a festival, ``once:<id>`` for a one-off, ``test:<id>`` for a test send to staff):
    ``fanning`` until every target is handled, then ``done``."""

    id = UUID(primary_key=True)
    campaign_id = UUID()
    occurrence = Varchar(length=64)
    trigger = Varchar(length=16, default="manual")  # manual, schedule, test
    status = Varchar(length=16, default="fanning")
    targeted = Integer(default=0)
    # festival/birthday: the timezones snapshotted so far, comma-separated (the day begins in
    # each store's zone at its own hour); empty: everyone at once (a manual or one-off run)
    zones = Text(default="")
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class TargetRow(TenantScoped, Table, tablename="care_target"):
    """A customer of a run. ``grp``: ``treatment`` or ``control`` (a hash of the campaign and
    the customer: the same every time); ``status``: ``pending`` → ``queued``, ``suppressed``
    (``reason``), ``held`` (control), ``duplicate`` (the key was queued before) or ``task`` (a
    revisit's high-value customer: a call task for their staff member instead of a message).
    Unique per (campaign, occurrence, customer): however often a campaign is re-run, paused or
    edited, a customer is targeted once per occurrence."""

    id = UUID(primary_key=True)
    run_id = UUID()
    campaign_id = UUID()
    occurrence = Varchar(length=64)
    customer_id = UUID()
    store_id = UUID(null=True, default=None)  # the customer's home store at the snapshot
    # a merge moved the row: the merged-away customer whose id the message's key carries
    keyed_by = UUID(null=True, default=None)
    chunk = Integer(default=0)  # the fan-out job's unit: targets of one chunk go out together
    grp = Varchar(length=16, default="treatment")
    variant = Varchar(length=32, default="")
    status = Varchar(length=16, default="pending")
    reason = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    handled_at = Timestamptz(null=True, default=None)
    redeemed_at = Timestamptz(null=True, default=None)  # the offer's coupon used (loyalty says)

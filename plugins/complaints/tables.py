"""Complaint tables: the complaint (seed 003's register row and the 5W), its timeline of
actions, its escalations (each recorded once), praise (表扬) and damaged-goods incidents.

Times are UTC instants; ``*_due_at`` are computed from the tenant's SLA policy in clock or
business time (the store's calendar) and recomputed when the complaint resumes from waiting.
Contact data of a caller not (yet) linked to a customer is sealed with the core's field cipher
(:func:`core.seal_pii`), with a blind index to link it later.
"""

from piccolo.columns import UUID, Boolean, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import TenantScoped

__all__ = ["ActionRow", "ComplaintRow", "DamageRow", "EscalationRow", "PraiseRow"]


class ComplaintRow(TenantScoped, Table, tablename="complaints_complaint"):
    """A complaint or suggestion. ``state``: received → acknowledged → in_progress ⇄ waiting →
    resolved → followed_up → closed (reopen back to in_progress). ``hq_only``: media and
    regulator complaints are HQ's until HQ assigns one to a store. ``level``: how far up the
    ladder it has gone (0 handler, 1 store manager, 2 HQ)."""

    id = UUID(primary_key=True)
    number = Varchar(length=24)  # the reference read to the customer: C-20261202-3F7A
    kind = Varchar(length=16, default="complaint")  # complaint, suggestion
    channel = Varchar(length=16)
    state = Varchar(length=16, default="received")
    severity = Varchar(length=16, default="normal")
    category = Varchar(length=64, default="")
    store_id = UUID(null=True, default=None)
    spot = Varchar(length=200, default="")  # where in the store (where)
    occurred_at = Timestamptz(null=True, default=None)  # when it happened (when)
    customer_id = UUID(null=True, default=None)  # who (the customer), when known
    contact_name = Text(default="")  # sealed
    contact_phone = Text(default="")  # sealed
    contact_index = Varchar(length=64, default="")  # blind index of the E.164 phone
    staff_involved = Text(default="[]")  # who (staff) — JSON list of staff ids
    summary = Varchar(length=200, default="")  # what, in a line (the register's reason)
    description = Text(default="")  # what, in the customer's words
    circumstances = Text(default="")  # how
    sku = Varchar(length=64, default="")
    product = Varchar(length=200, default="")
    receiver_id = UUID(null=True, default=None)  # 受理人
    handler_id = UUID(null=True, default=None)  # 处理人
    hq_only = Boolean(default=False)
    level = SmallInt(default=0)
    promised_reply_at = Timestamptz(null=True, default=None)  # 告知顾客回复时间
    received_at = Timestamptz(default=TimestamptzNow())  # 投诉时间
    acknowledged_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)  # 处理时间
    followed_up_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    business_time = Boolean(default=True)  # the SLA clock: the store's business time or not
    ack_minutes = Integer(default=1440)
    resolve_minutes = Integer(default=4320)
    ack_warn_at = Timestamptz(null=True, default=None)  # warn_at_pct of the way to ack_due_at
    ack_due_at = Timestamptz(null=True, default=None)
    resolve_warn_at = Timestamptz(null=True, default=None)
    resolve_due_at = Timestamptz(null=True, default=None)
    waiting_since = Timestamptz(null=True, default=None)
    pauses = Text(default="[]")  # JSON [[start, end], …] spent waiting for the customer
    cycle = SmallInt(default=0)  # reopenings: each cycle has its own resolve SLA
    cycle_started_at = Timestamptz(default=TimestamptzNow())  # received, or last reopened
    resolution_type = Varchar(length=24, default="")
    resolution = Text(default="")  # 处理结果
    compensation_points = Integer(default=0)
    compensation_coupon = Varchar(length=64, default="")
    follow_up = Varchar(length=16, default="")  # how the customer is asked: survey, message, call
    satisfied = Boolean(null=True, default=None)  # the latest follow-up's answer
    dissatisfied_count = SmallInt(default=0)
    source = Varchar(length=80, default="")  # where it came from: survey:<response id>, …
    token_hash = Varchar(length=64, default="")  # the public tracking token, hashed
    # the token in the latest follow-up message (a new one each resolution asked by message)
    follow_up_token_hash = Varchar(length=64, default="")
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ActionRow(TenantScoped, Table, tablename="complaints_action"):
    """One entry of a complaint's timeline: what was done (``action``), the seed's step it
    belongs to (热情受理—仔细聆听—衷心感谢—尽快解决—及时转交—跟踪反馈), who and when."""

    id = UUID(primary_key=True)
    complaint_id = UUID()
    action = Varchar(length=24)
    step = Varchar(length=16, default="")
    actor = Varchar(length=64, default="")
    staff_id = UUID(null=True, default=None)
    note = Text(default="")
    data = Text(default="{}")
    at = Timestamptz(default=TimestamptzNow())


class EscalationRow(TenantScoped, Table, tablename="complaints_escalation"):
    """An escalation, unique per complaint, ``stage`` (acknowledge, resolve, follow_up,
    intake), ``trigger`` (warning, breach, dissatisfied, media) and ``cycle``: the SLA job and
    a retry never record it twice. ``notified``: JSON list of the staff ids messaged."""

    id = UUID(primary_key=True)
    complaint_id = UUID()
    stage = Varchar(length=16)
    trigger = Varchar(length=16)
    cycle = SmallInt(default=0)
    level = SmallInt(default=1)
    notified = Text(default="[]")
    at = Timestamptz(default=TimestamptzNow())


class PraiseRow(TenantScoped, Table, tablename="complaints_praise"):
    """Praise (表扬) for staff of a store, from any channel, for the store meeting."""

    id = UUID(primary_key=True)
    store_id = UUID(null=True, default=None)
    staff_ids = Text(default="[]")
    channel = Varchar(length=16)
    customer_id = UUID(null=True, default=None)
    contact_name = Text(default="")  # sealed: a praising caller who is not a customer
    contact_phone = Text(default="")  # sealed
    text = Text(default="")
    received_at = Timestamptz(default=TimestamptzNow())
    recorded_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class DamageRow(TenantScoped, Table, tablename="complaints_damage"):
    """Goods damaged in a store (seed 003 §6): whether the customer was hurt, who is
    responsible (customer, store, supplier, unknown) and how it was settled."""

    id = UUID(primary_key=True)
    store_id = UUID(null=True, default=None)
    customer_id = UUID(null=True, default=None)
    sku = Varchar(length=64, default="")
    product = Varchar(length=200, default="")
    occurred_at = Timestamptz(default=TimestamptzNow())
    customer_hurt = Boolean(default=False)
    injury = Text(default="")
    responsibility = Varchar(length=16, default="unknown")
    settlement = Text(default="")
    settlement_minor = Integer(default=0)
    description = Text(default="")
    complaint_id = UUID(null=True, default=None)  # the complaint it came with, if one
    recorded_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())

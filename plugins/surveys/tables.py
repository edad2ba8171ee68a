"""Survey tables. A survey's questions are a JSON document frozen at publication (a change is a
new version), answers are one row per (response, question, choice) with typed value columns so
every score is an SQL aggregate, and links hold only the SHA-256 of their token."""

from piccolo.columns import UUID, Boolean, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import TenantScoped

__all__ = [
    "SurveyAnswerRow",
    "SurveyDownload",
    "SurveyLinkRow",
    "SurveyResponseRow",
    "SurveyRow",
    "SurveyTriggerRow",
]


class SurveyRow(TenantScoped, Table, tablename="surveys_survey"):
    """A survey version: draft → published → closed. ``family_id`` is shared by the versions
    of one survey; ``definition`` (questions, logic, texts) never changes once published."""

    id = UUID(primary_key=True)
    family_id = UUID()
    version = Integer(default=1)
    name = Varchar(length=200)
    kind = Varchar(length=16)  # nps, csat, general
    status = Varchar(length=16)  # draft, published, closed
    definition = Text(default="{}")
    builtin = Varchar(length=32, default="")  # "complaint_resolution" for the built-in survey
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)


class SurveyLinkRow(TenantScoped, Table, tablename="surveys_link"):
    """A way in: a single-use ``invitation`` to one customer, or a multi-use ``anonymous``
    link of a survey (per store when ``store_id`` is set). Invitations wait as ``scheduled``
    until ``send_after``, then are ``sent`` or ``suppressed`` (with ``reason``), and become
    ``answered`` once. ``public_token`` is kept only for anonymous links (printed on posters)."""

    id = UUID(primary_key=True)
    survey_id = UUID()
    kind = Varchar(length=16)  # invitation, anonymous
    status = Varchar(length=16)  # scheduled, sent, suppressed, answered, active
    token_hash = Varchar(length=64, null=True, default=None)
    public_token = Varchar(length=120, null=True, default=None)
    customer_id = UUID(null=True, default=None)
    store_id = UUID(null=True, default=None)
    staff_id = UUID(null=True, default=None)
    purchase_id = UUID(null=True, default=None)
    complaint_id = UUID(null=True, default=None)
    trigger = Varchar(length=16, default="")  # manual, segment, purchase, complaint
    source_key = Varchar(length=160, null=True, default=None)  # one invitation per cause
    reason = Varchar(length=32, default="")
    send_after = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    response_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SurveyResponseRow(TenantScoped, Table, tablename="surveys_response"):
    """One completed response with its headline scores (the first NPS and CSAT answers) and
    its period starts in the tenant's timezone, fixed when answered (see README)."""

    id = UUID(primary_key=True)
    survey_id = UUID()
    family_id = UUID()
    link_id = UUID(null=True, default=None)
    customer_id = UUID(null=True, default=None)  # never set for anonymous responses
    store_id = UUID(null=True, default=None)
    staff_id = UUID(null=True, default=None)  # who served the customer (the purchase's staff)
    recorded_by = Varchar(length=64, default="")  # the staff member who took it by phone
    purchase_id = UUID(null=True, default=None)
    complaint_id = UUID(null=True, default=None)
    channel = Varchar(length=16)  # link, anonymous, phone, in_person
    locale = Varchar(length=8, default="zh-CN")
    nps = SmallInt(null=True, default=None)
    nps_category = Varchar(length=16, null=True, default=None)
    csat = SmallInt(null=True, default=None)
    answered_at = Timestamptz(default=TimestamptzNow())
    local_day = Varchar(length=10, default="")
    week_start = Varchar(length=10, default="")
    month_start = Varchar(length=10, default="")


class SurveyAnswerRow(TenantScoped, Table, tablename="surveys_answer"):
    """An answer: one row per question (per chosen option for multiple choice), with the
    response's survey, store and time repeated so aggregates need no join."""

    id = UUID(primary_key=True)
    response_id = UUID()
    survey_id = UUID()
    store_id = UUID(null=True, default=None)
    answered_at = Timestamptz(default=TimestamptzNow())
    question_key = Varchar(length=32)
    qtype = Varchar(length=16)
    position = SmallInt(default=0)
    part = SmallInt(default=0)  # 0: the answer's first row (counts it); 1…: further choices
    choice = Varchar(length=32, null=True, default=None)
    value_int = SmallInt(null=True, default=None)
    value_text = Text(null=True, default=None)
    value_date = Varchar(length=10, null=True, default=None)


class SurveyTriggerRow(TenantScoped, Table, tablename="surveys_trigger"):
    """When a survey goes out by itself: after a ``purchase`` (delay, sampling, stores) or
    every ``every_days`` to a ``segment``. One per survey and kind."""

    id = UUID(primary_key=True)
    survey_id = UUID()
    kind = Varchar(length=16)  # purchase, segment
    active = Boolean(default=True)
    delay_minutes = Integer(default=0)
    sampling_percent = SmallInt(default=100)
    store_ids = Text(default="[]")
    segment_id = UUID(null=True, default=None)
    every_days = Integer(default=0)
    next_run_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class SurveyDownload(TenantScoped, Table, tablename="surveys_download"):
    """A short-lived capability to download an export (asked for through GraphQL, by a
    caller with ``surveys:export``); the URL holds the token, the table its SHA-256."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64)
    survey_id = UUID()
    format = Varchar(length=8)
    params = Text(default="{}")
    actor = Varchar(length=64, default="")
    expires_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())

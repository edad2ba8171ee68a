"""The complaints tables, declared column by column so that piccolo's migration state knows every
column (``mendian migrate --check`` compares it with ``tables.py``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Boolean, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-12-02T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "complaints tables"

TABLES = {
    ("ComplaintRow", "complaints_complaint"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("number", Varchar(length=24, default='')),
        ("kind", Varchar(length=16, default='complaint')),
        ("channel", Varchar(length=16, default='')),
        ("state", Varchar(length=16, default='received')),
        ("severity", Varchar(length=16, default='normal')),
        ("category", Varchar(length=64, default='')),
        ("store_id", UUID(null=True, default=None)),
        ("spot", Varchar(length=200, default='')),
        ("occurred_at", Timestamptz(null=True, default=None)),
        ("customer_id", UUID(null=True, default=None)),
        ("contact_name", Text(default='')),
        ("contact_phone", Text(default='')),
        ("contact_index", Varchar(length=64, default='')),
        ("staff_involved", Text(default='[]')),
        ("summary", Varchar(length=200, default='')),
        ("description", Text(default='')),
        ("circumstances", Text(default='')),
        ("sku", Varchar(length=64, default='')),
        ("product", Varchar(length=200, default='')),
        ("receiver_id", UUID(null=True, default=None)),
        ("handler_id", UUID(null=True, default=None)),
        ("hq_only", Boolean(default=False)),
        ("level", SmallInt(default=0)),
        ("promised_reply_at", Timestamptz(null=True, default=None)),
        ("received_at", Timestamptz(default=TimestamptzNow())),
        ("acknowledged_at", Timestamptz(null=True, default=None)),
        ("resolved_at", Timestamptz(null=True, default=None)),
        ("followed_up_at", Timestamptz(null=True, default=None)),
        ("closed_at", Timestamptz(null=True, default=None)),
        ("business_time", Boolean(default=True)),
        ("ack_minutes", Integer(default=1440)),
        ("resolve_minutes", Integer(default=4320)),
        ("ack_warn_at", Timestamptz(null=True, default=None)),
        ("ack_due_at", Timestamptz(null=True, default=None)),
        ("resolve_warn_at", Timestamptz(null=True, default=None)),
        ("resolve_due_at", Timestamptz(null=True, default=None)),
        ("waiting_since", Timestamptz(null=True, default=None)),
        ("pauses", Text(default='[]')),
        ("cycle", SmallInt(default=0)),
        ("cycle_started_at", Timestamptz(default=TimestamptzNow())),
        ("resolution_type", Varchar(length=24, default='')),
        ("resolution", Text(default='')),
        ("compensation_points", Integer(default=0)),
        ("compensation_coupon", Varchar(length=64, default='')),
        ("follow_up", Varchar(length=16, default='')),
        ("satisfied", Boolean(null=True, default=None)),
        ("dissatisfied_count", SmallInt(default=0)),
        ("source", Varchar(length=80, default='')),
        ("token_hash", Varchar(length=64, default='')),
        ("created_by", Varchar(length=64, default='')),
        ("created_at", Timestamptz(default=TimestamptzNow())),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("ActionRow", "complaints_action"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("complaint_id", UUID(default=UUID4())),
        ("action", Varchar(length=24, default='')),
        ("step", Varchar(length=16, default='')),
        ("actor", Varchar(length=64, default='')),
        ("staff_id", UUID(null=True, default=None)),
        ("note", Text(default='')),
        ("data", Text(default='{}')),
        ("at", Timestamptz(default=TimestamptzNow())),
    ],
    ("EscalationRow", "complaints_escalation"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("complaint_id", UUID(default=UUID4())),
        ("stage", Varchar(length=16, default='')),
        ("trigger", Varchar(length=16, default='')),
        ("cycle", SmallInt(default=0)),
        ("level", SmallInt(default=1)),
        ("notified", Text(default='[]')),
        ("at", Timestamptz(default=TimestamptzNow())),
    ],
    ("PraiseRow", "complaints_praise"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("store_id", UUID(null=True, default=None)),
        ("staff_ids", Text(default='[]')),
        ("channel", Varchar(length=16, default='')),
        ("customer_id", UUID(null=True, default=None)),
        ("text", Text(default='')),
        ("received_at", Timestamptz(default=TimestamptzNow())),
        ("recorded_by", Varchar(length=64, default='')),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("DamageRow", "complaints_damage"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("store_id", UUID(null=True, default=None)),
        ("customer_id", UUID(null=True, default=None)),
        ("sku", Varchar(length=64, default='')),
        ("product", Varchar(length=200, default='')),
        ("occurred_at", Timestamptz(default=TimestamptzNow())),
        ("customer_hurt", Boolean(default=False)),
        ("injury", Text(default='')),
        ("responsibility", Varchar(length=16, default='unknown')),
        ("settlement", Text(default='')),
        ("settlement_minor", Integer(default=0)),
        ("description", Text(default='')),
        ("recorded_by", Varchar(length=64, default='')),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename)
        for name, column in columns:
            manager.add_column(
                table_class_name=class_name, tablename=tablename, column_name=name,
                db_column_name=name, column_class_name=type(column).__name__,
                column_class=type(column), params=column._meta.params,
            )
    return manager

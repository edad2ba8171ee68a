"""The surveys tables, declared column by column so that piccolo's migration state knows every
column (``mendian migrate --check`` compares it with ``tables.py``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Boolean, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-12-01T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "surveys tables"

TABLES = {
    ("SurveyRow", "surveys_survey"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("family_id", UUID(default=UUID4())),
        ("version", Integer(default=1)),
        ("name", Varchar(length=200, default='')),
        ("kind", Varchar(length=16, default='')),
        ("status", Varchar(length=16, default='')),
        ("definition", Text(default='{}')),
        ("builtin", Varchar(length=32, default='')),
        ("created_by", Varchar(length=64, default='')),
        ("created_at", Timestamptz(default=TimestamptzNow())),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
        ("published_at", Timestamptz(null=True, default=None)),
        ("closed_at", Timestamptz(null=True, default=None)),
    ],
    ("SurveyLinkRow", "surveys_link"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("survey_id", UUID(default=UUID4())),
        ("kind", Varchar(length=16, default='')),
        ("status", Varchar(length=16, default='')),
        ("token_hash", Varchar(length=64, null=True, default=None)),
        ("public_token", Varchar(length=120, null=True, default=None)),
        ("customer_id", UUID(null=True, default=None)),
        ("store_id", UUID(null=True, default=None)),
        ("staff_id", UUID(null=True, default=None)),
        ("purchase_id", UUID(null=True, default=None)),
        ("complaint_id", UUID(null=True, default=None)),
        ("trigger", Varchar(length=16, default='')),
        ("source_key", Varchar(length=160, null=True, default=None)),
        ("reason", Varchar(length=32, default='')),
        ("send_after", Timestamptz(null=True, default=None)),
        ("sent_at", Timestamptz(null=True, default=None)),
        ("expires_at", Timestamptz(null=True, default=None)),
        ("answered_at", Timestamptz(null=True, default=None)),
        ("response_id", UUID(null=True, default=None)),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("SurveyResponseRow", "surveys_response"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("survey_id", UUID(default=UUID4())),
        ("family_id", UUID(default=UUID4())),
        ("link_id", UUID(null=True, default=None)),
        ("customer_id", UUID(null=True, default=None)),
        ("store_id", UUID(null=True, default=None)),
        ("staff_id", UUID(null=True, default=None)),
        ("recorded_by", Varchar(length=64, default='')),
        ("purchase_id", UUID(null=True, default=None)),
        ("complaint_id", UUID(null=True, default=None)),
        ("channel", Varchar(length=16, default='')),
        ("locale", Varchar(length=8, default='zh-CN')),
        ("nps", SmallInt(null=True, default=None)),
        ("nps_category", Varchar(length=16, null=True, default=None)),
        ("csat", SmallInt(null=True, default=None)),
        ("answered_at", Timestamptz(default=TimestamptzNow())),
        ("local_day", Varchar(length=10, default='')),
        ("week_start", Varchar(length=10, default='')),
        ("month_start", Varchar(length=10, default='')),
    ],
    ("SurveyAnswerRow", "surveys_answer"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("response_id", UUID(default=UUID4())),
        ("survey_id", UUID(default=UUID4())),
        ("store_id", UUID(null=True, default=None)),
        ("answered_at", Timestamptz(default=TimestamptzNow())),
        ("question_key", Varchar(length=32, default='')),
        ("qtype", Varchar(length=16, default='')),
        ("position", SmallInt(default=0)),
        ("part", SmallInt(default=0)),
        ("choice", Varchar(length=32, null=True, default=None)),
        ("value_int", SmallInt(null=True, default=None)),
        ("value_text", Text(null=True, default=None)),
        ("value_date", Varchar(length=10, null=True, default=None)),
    ],
    ("SurveyTriggerRow", "surveys_trigger"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("survey_id", UUID(default=UUID4())),
        ("kind", Varchar(length=16, default='')),
        ("active", Boolean(default=True)),
        ("delay_minutes", Integer(default=0)),
        ("sampling_percent", SmallInt(default=100)),
        ("store_ids", Text(default='[]')),
        ("segment_id", UUID(null=True, default=None)),
        ("every_days", Integer(default=0)),
        ("next_run_at", Timestamptz(null=True, default=None)),
        ("updated_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("SurveyDownload", "surveys_download"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("token_hash", Varchar(length=64, default='')),
        ("survey_id", UUID(default=UUID4())),
        ("format", Varchar(length=8, default='')),
        ("params", Text(default='{}')),
        ("actor", Varchar(length=64, default='')),
        ("expires_at", Timestamptz(default=TimestamptzNow())),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="surveys", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename)
        for name, column in columns:
            manager.add_column(
                table_class_name=class_name, tablename=tablename, column_name=name,
                db_column_name=name, column_class_name=type(column).__name__,
                column_class=type(column), params=column._meta.params,
            )
    return manager

"""Saved segments: JSON filters compiled to SQL (CORE-8)."""

from piccolo.columns import JSON, UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class Segment(TenantScoped, Table, tablename="segment"):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    description = Text(default="")
    filter = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())

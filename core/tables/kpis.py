"""KPI targets (CORE-14)."""

from piccolo.columns import UUID, Date, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class KpiTarget(TenantScoped, Table, tablename="kpi_target"):
    """The target of a KPI (``<module>.<name>``) for a store (or the chain: no store) and a
    month or a week; ``target`` is an exact decimal, as text."""

    id = UUID(primary_key=True)
    kpi = Varchar(length=96)
    store_id = UUID(null=True, default=None)
    period = Varchar(length=8)
    period_start = Date()
    target = Varchar(length=40)
    set_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())

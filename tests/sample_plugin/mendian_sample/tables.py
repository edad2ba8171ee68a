from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core import TenantScoped


class SampleVisit(TenantScoped, Table, tablename="sample_visit"):
    """One row per purchase the plugin saw."""

    id = UUID(primary_key=True)
    purchase_id = UUID()
    customer_id = UUID(null=True, default=None)
    note = Varchar(length=100, default="")
    kind = Varchar(length=8, default="sale")  # sale or refund (added by a later migration)
    at = Timestamptz(default=TimestamptzNow())

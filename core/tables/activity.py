"""Interactions (沟通记录), follow-up tasks and revisit plans (定期回访) (CORE-7)."""

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db import TenantScoped


class Interaction(TenantScoped, Table, tablename="interaction"):
    """A logged contact with a customer."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    store_id = UUID(null=True, default=None)
    staff_id = UUID(null=True, default=None)
    channel = Varchar(length=16)
    occurred_at = Timestamptz(default=TimestamptzNow())
    content = Text()
    feedback = Text(default="")
    task_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Task(TenantScoped, Table, tablename="task"):
    """A follow-up task with a due date and an owner."""

    id = UUID(primary_key=True)
    customer_id = UUID(null=True, default=None)
    store_id = UUID(null=True, default=None)
    owner_staff_id = UUID(null=True, default=None)
    title = Varchar(length=200)
    notes = Text(default="")
    due_at = Timestamptz()
    status = Varchar(length=16, default="open")
    completed_at = Timestamptz(null=True, default=None)
    completed_by = UUID(null=True, default=None)
    revisit_plan_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RevisitPlan(TenantScoped, Table, tablename="revisit_plan"):
    """Every ``interval_days`` a new task for the customer, created when the previous is done."""

    id = UUID(primary_key=True)
    customer_id = UUID()
    store_id = UUID(null=True, default=None)
    owner_staff_id = UUID(null=True, default=None)
    title = Varchar(length=200)
    channel = Varchar(length=16, default="phone")
    interval_days = Integer()
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())

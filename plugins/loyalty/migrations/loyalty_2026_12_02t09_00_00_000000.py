"""Register in piccolo's migration state what earlier migrations created with raw DDL.

``loyalty_2026_11_23t15_30`` (``loyalty_account.tier``, ``tier_since``), ``…16_00``
(``loyalty_entry.expires_at``), ``…16_30`` (tables ``loyalty_reward``, ``loyalty_coupon``) and
``2026_12_01t06_00`` (``pending`` on both, ``loyalty_entry.available_at``, table
``loyalty_referral``) ran ``ALTER TABLE``/``CREATE TABLE`` themselves, so piccolo's schema
snapshot (the sum of the migrations' ``add_table``/``add_column``) did not know these and
``piccolo migrations new loyalty --auto`` would have generated them again.

This migration declares exactly those tables and columns, as the Table classes had them when it
was written, and is *faked* (``MigrationManager(fake=True)``: piccolo records it as run and
executes nothing, raw DDL included): the objects exist already on every database that ran the
migrations before it, fresh or deployed. The earlier migrations stay as they were, so a
deployed database migrates forward unchanged.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, BigInt, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "register raw-DDL tables and columns in the migration state (faked)"

NEW_TABLES = {
    ("LoyaltyReward", "loyalty_reward"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("code", Varchar(length=32, default="")),
        ("name", Varchar(length=200, default="")),
        ("description", Text(default="")),
        ("points_cost", BigInt(default=0)),
        ("stock", BigInt(null=True, default=None)),
        ("per_customer_limit", Integer(null=True, default=None)),
        ("valid_days", Integer(default=30)),
        ("active", Boolean(default=True)),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("LoyaltyCoupon", "loyalty_coupon"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("reward_id", UUID(default=UUID4())),
        ("customer_id", UUID(default=UUID4())),
        ("code", Varchar(length=32, default="")),
        ("status", Varchar(length=16, default="")),
        ("entry_id", UUID(default=UUID4())),
        ("valid_until", Timestamptz(default=TimestamptzNow())),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
    ("LoyaltyReferral", "loyalty_referral"): [
        ("tenant_id", UUID(null=False, default=None)),
        ("id", UUID(primary_key=True, default=UUID4())),
        ("customer_id", UUID(default=UUID4())),
        ("referrer_id", UUID(default=UUID4())),
        ("actor", Varchar(length=64, default="")),
        ("created_at", Timestamptz(default=TimestamptzNow())),
    ],
}
NEW_COLUMNS = {
    ("LoyaltyAccount", "loyalty_account"): [
        ("pending", BigInt(default=0)),
        ("tier", Varchar(length=32, default="")),
        ("tier_since", Timestamptz(null=True, default=None)),
    ],
    ("LoyaltyEntry", "loyalty_entry"): [
        ("pending", BigInt(default=0)),
        ("available_at", Timestamptz(null=True, default=None)),
        ("expires_at", Timestamptz(null=True, default=None)),
    ],
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="loyalty", description=DESCRIPTION, fake=True
    )
    for class_name, tablename in NEW_TABLES:
        manager.add_table(class_name=class_name, tablename=tablename)
    for (class_name, tablename), columns in [*NEW_TABLES.items(), *NEW_COLUMNS.items()]:
        for name, column in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=type(column).__name__,
                column_class=type(column),
                params=column._meta.params,
            )
    return manager

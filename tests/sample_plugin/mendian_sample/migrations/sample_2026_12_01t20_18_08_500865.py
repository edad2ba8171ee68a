from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T20:18:08:500865"
VERSION = "1.38.0"
DESCRIPTION = "sample_visit.kind"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="sample", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="SampleVisit",
        tablename="sample_visit",
        column_name="kind",
        db_column_name="kind",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 8,
            "default": "sale",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager

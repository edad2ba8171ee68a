"""A resolution followed up by message carries its own tracking link: the hash of the token in
the ``complaints.follow_up`` message (issue 13 item 5), beside the intake's ``token_hash``,
which a customer of the public form keeps."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-03T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "complaints_complaint.follow_up_token_hash"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)
    column = Varchar(length=64, default="")
    manager.add_column(
        table_class_name="ComplaintRow",
        tablename="complaints_complaint",
        column_name="follow_up_token_hash",
        db_column_name="follow_up_token_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params=column._meta.params,
    )
    return manager

"""``message.headers``: a message's extra e-mail headers (JSON; empty: none), e.g. RFC 8058's
``List-Unsubscribe`` and ``List-Unsubscribe-Post`` on a marketing e-mail."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "message.headers"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    column = Text(default="")
    manager.add_column(
        table_class_name="Message",
        tablename="message",
        column_name="headers",
        db_column_name="headers",
        column_class_name="Text",
        column_class=Text,
        params=column._meta.params,
    )
    return manager

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.complaints.tables import ActionRow, ComplaintRow, DamageRow, EscalationRow, PraiseRow

APP_CONFIG = AppConfig(
    app_name="complaints",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[ComplaintRow, ActionRow, EscalationRow, PraiseRow, DamageRow],
    migration_dependencies=["core.piccolo_app"],
)

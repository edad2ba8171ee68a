from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.care.tables import CampaignRow, RunRow, TargetRow

APP_CONFIG = AppConfig(
    app_name="care",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[CampaignRow, RunRow, TargetRow],
    migration_dependencies=["core.piccolo_app"],
)

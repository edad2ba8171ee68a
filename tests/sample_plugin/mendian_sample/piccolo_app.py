from pathlib import Path

from piccolo.conf.apps import AppConfig

from mendian_sample.tables import SampleVisit

APP_CONFIG = AppConfig(
    app_name="sample",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[SampleVisit],
    migration_dependencies=["core.piccolo_app"],
)

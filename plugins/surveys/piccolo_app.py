from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.surveys.tables import (
    SurveyAnswerRow,
    SurveyDownload,
    SurveyLinkRow,
    SurveyResponseRow,
    SurveyRow,
    SurveyTriggerRow,
)

APP_CONFIG = AppConfig(
    app_name="surveys",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[
        SurveyRow,
        SurveyLinkRow,
        SurveyResponseRow,
        SurveyAnswerRow,
        SurveyTriggerRow,
        SurveyDownload,
    ],
    migration_dependencies=["core.piccolo_app"],
)

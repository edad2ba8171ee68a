from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.loyalty.tables import (
    LoyaltyAccount,
    LoyaltyCoupon,
    LoyaltyEntry,
    LoyaltyReferral,
    LoyaltyReward,
)

APP_CONFIG = AppConfig(
    app_name="loyalty",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[LoyaltyAccount, LoyaltyEntry, LoyaltyReward, LoyaltyCoupon, LoyaltyReferral],
    migration_dependencies=["core.piccolo_app"],
)

"""The loyalty programme's settings per tenant (validated; JSON Schema for admin UIs)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = ["LoyaltySettings"]


class LoyaltySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Points are spendable; growth value is never spent and will drive tiers. Rates are per
    unit of the tenant's currency (a sale of 150.50 at 2 points per unit earns 301)."""

    point_name: Annotated[str, Meta(min_length=1, max_length=20)] = "积分"
    points_per_unit: Decimal = Decimal(1)
    growth_per_unit: Decimal = Decimal(1)
    min_spend: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("points_per_unit", "growth_per_unit"):
            if not Decimal(0) <= getattr(self, name) <= Decimal(1000):
                raise ValueError(f"{name} must be between 0 and 1000")
        if self.min_spend < 0:
            raise ValueError("min_spend must not be negative")

"""The loyalty programme's settings per tenant (validated; JSON Schema for admin UIs)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = ["EarnRule", "LoyaltySettings", "Tier"]


class Tier(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A membership level (会员等级), reached at ``threshold`` growth value."""

    code: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name: Annotated[str, Meta(min_length=1, max_length=50)]
    threshold: Annotated[int, Meta(ge=0, le=1_000_000_000)]
    multiplier: Decimal = Decimal(1)  # on points earned while in this tier
    # what the tier brings, as staff and members read it ("95折", "生日礼", "免费停车")
    benefits: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=20)
    ] = []

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.multiplier <= Decimal(100):
            raise ValueError("multiplier must be between 0 and 100")


class EarnRule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A points rate for the lines of a product (``sku``) or a category; a SKU rule beats a
    category rule, which beats the programme's base rate. ``0`` excludes the lines."""

    sku: Annotated[str, Meta(max_length=64)] = ""
    category: Annotated[str, Meta(max_length=100)] = ""
    points_per_unit: Decimal

    def __post_init__(self) -> None:
        if bool(self.sku) == bool(self.category):
            raise ValueError("an earn rule names either a sku or a category")
        if not Decimal(0) <= self.points_per_unit <= Decimal(1000):
            raise ValueError("points_per_unit must be between 0 and 1000")


class LoyaltySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Points are spendable; growth value is never spent and drives tiers. Rates are per unit
    of the tenant's currency (a sale of 150.50 at 2 points per unit earns 301). Tiers rise as
    soon as growth reaches them; they fall only at the nightly evaluation, once the customer
    has held the tier ``downgrade_days`` and growth is below it (refunds and spending never
    demote on the spot)."""

    point_name: Annotated[str, Meta(min_length=1, max_length=20)] = "积分"
    points_per_unit: Decimal = Decimal(1)
    growth_per_unit: Decimal = Decimal(1)
    min_spend: Decimal = Decimal(0)
    rules: Annotated[list[EarnRule], Meta(max_length=200)] = []
    birthday_multiplier: Decimal = Decimal(1)
    signup_bonus: Annotated[int, Meta(ge=0, le=1_000_000)] = 0  # points for joining, once
    # points for the referrer, once, when the customer they referred makes a first sale
    referral_bonus: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    # points for completing a survey (the surveys plugin's ``surveys.completed``), once per response
    survey_bonus: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    # a sale's points stay pending (not spendable) this many days: the return window
    pending_days: Annotated[int, Meta(ge=0, le=365)] = 0
    expiry_days: Annotated[int, Meta(ge=0, le=3650)] = 0  # 0: points never expire
    expiry_notice_days: Annotated[int, Meta(ge=0, le=365)] = 30
    tiers: Annotated[list[Tier], Meta(max_length=20)] = []
    downgrade_days: Annotated[int, Meta(ge=0, le=3650)] = 365
    notice_channel: Annotated[str, Meta(min_length=1, max_length=32)] = "log"

    def __post_init__(self) -> None:
        for name in ("points_per_unit", "growth_per_unit"):
            if not Decimal(0) <= getattr(self, name) <= Decimal(1000):
                raise ValueError(f"{name} must be between 0 and 1000")
        if self.min_spend < 0:
            raise ValueError("min_spend must not be negative")
        if not Decimal(0) <= self.birthday_multiplier <= Decimal(100):
            raise ValueError("birthday_multiplier must be between 0 and 100")
        codes = [t.code for t in self.tiers]
        if len(set(codes)) != len(codes):
            raise ValueError("tier codes must be unique")
        thresholds = [t.threshold for t in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must be strictly increasing")

    def rate_for(self, sku: str, category: str) -> Decimal:
        """Points per unit for a line: its SKU's rule, else its category's, else the base."""
        by_sku = next((r for r in self.rules if r.sku and r.sku == sku), None)
        if by_sku is not None:
            return by_sku.points_per_unit
        by_category = next((r for r in self.rules if r.category and r.category == category), None)
        return by_category.points_per_unit if by_category else self.points_per_unit

    def tier_for(self, growth: int) -> Tier | None:
        """The highest tier whose threshold ``growth`` reaches."""
        reached = [t for t in self.tiers if growth >= t.threshold]
        return reached[-1] if reached else None

    def rank(self, code: str) -> int:
        """Position of a tier (``-1``: none or no longer configured)."""
        return next((i for i, t in enumerate(self.tiers) if t.code == code), -1)

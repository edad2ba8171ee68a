"""Who is acting, for which tenant: resolved once per request from the credential (CORE-4.1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import msgspec

from core.errors import Forbidden

__all__ = ["Actor", "CalendarPolicy", "MessagingPolicy", "RFMThresholds", "TenantInfo"]


@dataclass(frozen=True)
class RFMThresholds:
    """Per-tenant RFM cut points (CORE-8). Score 5 is best.

    ``recency_days``: last purchase within [0] days → R5, within [1] → R4, … else R1.
    ``frequency``: at least [3] purchases → F5, [2] → F4, [1] → F3, [0] → F2, else F1.
    ``monetary_minor``: total spend (minor units) at least [3] → M5 … as for frequency.
    """

    recency_days: tuple[int, int, int, int] = (30, 90, 180, 365)
    frequency: tuple[int, int, int, int] = (2, 4, 8, 12)
    monetary_minor: tuple[int, int, int, int] = (50_000, 200_000, 500_000, 1_000_000)
    high_value_min_f: int = 4
    high_value_min_m: int = 4
    loyal_min_purchases: int = 6
    at_risk_days: int = 90
    churned_days: int = 180

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None) -> RFMThresholds:
        if not raw:
            return cls()
        return msgspec.convert(raw, cls)


@dataclass(frozen=True)
class MessagingPolicy:
    """Contact-pressure rules shared by every module (CORE-11), per tenant.

    Quiet hours are local to the tenant (or the store's timezone override); a message due inside
    them waits until they end. At most ``cap_count`` non-transactional messages per customer in
    any ``cap_days`` days, whatever module sends them.
    """

    quiet_start: str = "21:00"
    quiet_end: str = "09:00"
    cap_count: int = 4
    cap_days: int = 7
    webhook_url: str = ""
    webhook_secret: str = ""

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None) -> MessagingPolicy:
        return msgspec.convert(raw, cls) if raw else cls()


@dataclass(frozen=True)
class CalendarPolicy:
    """Calendar rules of a tenant (CORE-13), read by :mod:`core.calendars`.

    ``holiday_region``: ``"CN"`` applies mainland China's statutory holidays and make-up
    working days; ``"none"`` only weekends (tenants outside China). ``holiday_policy``: what a
    store does on a statutory holiday when its own hours do not say (``auto``: open when its
    week has weekend hours, closed otherwise). ``leap_day_birthday``: a 29 February birthday in
    a common year falls on ``feb28`` or ``mar1``. ``lunar_leap_birthday``: a birthday in a leap
    lunar month is kept in the ``regular`` month of that number every year, or in the ``leap``
    month in the years that have it.
    """

    holiday_region: Literal["CN", "none"] = "CN"
    holiday_policy: Literal["auto", "open", "closed"] = "auto"
    leap_day_birthday: Literal["feb28", "mar1"] = "feb28"
    lunar_leap_birthday: Literal["regular", "leap"] = "regular"

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None) -> CalendarPolicy:
        return msgspec.convert(raw, cls) if raw else cls()


@dataclass(frozen=True)
class TenantInfo:
    """A tenant as the services need it (loaded once per request, cached)."""

    id: UUID
    slug: str
    name: str
    status: str = "active"
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    currency: str = "CNY"
    phone_region: str = "CN"
    plan: str = "standard"
    rfm: RFMThresholds = field(default_factory=RFMThresholds)
    messaging: MessagingPolicy = field(default_factory=MessagingPolicy)
    calendar: CalendarPolicy = field(default_factory=CalendarPolicy)
    query_cost_limit: int | None = None  # settings.api.query_cost_limit; None: the platform's

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TenantInfo:
        """From a ``tenant`` table row."""
        raw = row["settings"]
        settings = msgspec.json.decode(raw) if isinstance(raw, (str, bytes)) else (raw or {})
        return cls(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            status=row["status"],
            timezone=row["timezone"],
            locale=row["locale"],
            currency=row["currency"],
            phone_region=row["phone_region"],
            plan=row["plan"],
            rfm=RFMThresholds.from_settings(settings.get("rfm")),
            messaging=MessagingPolicy.from_settings(settings.get("messaging")),
            calendar=CalendarPolicy.from_settings(settings.get("calendar")),
            query_cost_limit=_positive_int((settings.get("api") or {}).get("query_cost_limit")),
        )


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@dataclass(frozen=True)
class Actor:
    """The caller: staff member, API key, system job or platform operator."""

    kind: str  # "staff" | "api_key" | "system" | "platform"
    id: str = ""
    role: str = "owner"
    permissions: frozenset[str] = frozenset({"*"})
    store_ids: frozenset[UUID] | None = None  # None: every store
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(kind="system", id=name)

    @property
    def staff_id(self) -> UUID | None:
        """The staff member behind this actor (who served, signed up, completed), or None."""
        if self.kind != "staff":
            return None
        try:
            return UUID(self.id)
        except ValueError:
            return None

    def can(self, permission: str) -> bool:
        if "*" in self.permissions or permission in self.permissions:
            return True
        domain = permission.split(":", 1)[0]
        return f"{domain}:*" in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"permission {permission!r} is required", code="forbidden")

    def sees_store(self, store_id: UUID | None) -> bool:
        return self.store_ids is None or store_id is None or store_id in self.store_ids

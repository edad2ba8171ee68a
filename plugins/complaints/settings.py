"""The complaints module's settings per tenant (validated; JSON Schema for admin UIs).

``sla``: policies, the first that matches a complaint wins (``None`` fields match anything;
``category`` matches the code and its children: ``service`` matches ``service.attitude``), else
the defaults. Seed 003: a complaint is accepted within 24 hours at most, so no policy may give
more than 24 hours to acknowledge. ``warn_at_pct``: the share of an SLA after which the complaint
escalates to the store's managers before it breaches. ``categories``: the tenant's own
categories and renamings of the built-in ones (same ``code``), ``active: false`` hides one.
``detractor_nps`` / ``detractor_csat``: a survey answered at or below opens a complaint (``-1`` /
``0``: never). ``sku_flag_count`` complaints naming one SKU within ``sku_flag_days`` flag it
for the supplier. ``channel``: how staff are notified of escalations. ``form_client_rate`` /
``form_store_rate``: submissions of the public form per client address and per store;
``status_rate``: look-ups of one tracking token (``limits`` notation); ``answer_rate``: answers
("satisfied?") posted on the status page per client address. ``follow_up_channel``: how a
customer gets the ``complaints.follow_up`` message; ``public_url``: where
``/feedback/status/<token>`` is served (``https://fb.example.cn``) for the message's link —
empty, the link is a path.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["CategorySetting", "ComplaintsSettings", "SlaPolicy"]

Hours = Annotated[float, Meta(gt=0, le=24 * 60)]
_RATE = Meta(pattern=r"^[1-9][0-9]{0,5}/(second|minute|hour|day)$")
Code = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30}){0,2}$")]


class SlaPolicy(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: Literal["complaint", "suggestion"] | None = None
    category: Code | None = None
    channel: str | None = None
    severity: Literal["low", "normal", "high", "critical"] | None = None
    acknowledge_hours: Annotated[float, Meta(gt=0, le=24)] = 24
    resolve_hours: Hours = 72
    business_time: bool = True


class CategorySetting(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    zh: Annotated[str, Meta(min_length=1, max_length=60)]
    en: Annotated[str, Meta(max_length=60)] = ""
    active: bool = True


class ComplaintsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sla: Annotated[list[SlaPolicy], Meta(max_length=50)] = msgspec.field(default_factory=list)
    acknowledge_hours: Annotated[float, Meta(gt=0, le=24)] = 24
    resolve_hours: Hours = 72
    business_time: bool = True
    warn_at_pct: Annotated[int, Meta(ge=50, le=99)] = 75
    categories: Annotated[list[CategorySetting], Meta(max_length=200)] = msgspec.field(
        default_factory=list
    )
    detractor_nps: Annotated[int, Meta(ge=-1, le=10)] = 6
    detractor_csat: Annotated[int, Meta(ge=0, le=5)] = 2
    sku_flag_count: Annotated[int, Meta(ge=2, le=1000)] = 3
    sku_flag_days: Annotated[int, Meta(ge=1, le=365)] = 30
    max_compensation_points: Annotated[int, Meta(ge=0, le=1_000_000)] = 5000
    channel: Annotated[str, Meta(min_length=1, max_length=32)] = "log"
    # the public form (plugins/complaints/public.py)
    form_client_rate: Annotated[str, _RATE] = "10/hour"
    form_store_rate: Annotated[str, _RATE] = "120/hour"
    status_rate: Annotated[str, _RATE] = "30/minute"
    answer_rate: Annotated[str, _RATE] = "10/hour"
    # the follow-up by message (plugins/complaints/follow_up.py)
    follow_up_channel: Annotated[str, Meta(min_length=1, max_length=32)] = "log"
    public_url: Annotated[str, Meta(max_length=200, pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")] = (
        ""
    )

    def status_link(self, token: str) -> str:
        """The status page of ``token``: absolute when ``public_url`` is set."""
        return f"{self.public_url.rstrip('/')}/feedback/status/{token}"

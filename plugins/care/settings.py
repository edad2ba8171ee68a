"""The care module's settings per tenant (validated; JSON Schema for admin UIs)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["CareSettings"]


class CareSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How campaigns go out.

    ``approval_threshold``: a campaign whose audience is larger needs ``care:approve`` (an
    owner or HQ) before it sends (0: never). ``chunk_size``: targets per fan-out job.
    ``points_expiring_sender``: who sends the points-expiring reminder — ``care`` (a care
    campaign of kind ``points_expiring``) or ``loyalty`` (loyalty's own notice); never both.
    ``public_url``: where ``/u/<token>`` (unsubscribe) is served; empty, links are paths.
    """

    channel: Annotated[str, Meta(min_length=1, max_length=32)] = "log"
    approval_threshold: Annotated[int, Meta(ge=0, le=100_000_000)] = 5000
    chunk_size: Annotated[int, Meta(ge=10, le=5000)] = 1000
    points_expiring_sender: Literal["care", "loyalty"] = "loyalty"
    public_url: Annotated[str, Meta(max_length=200, pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")] = (
        ""
    )

    def unsubscribe_link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/u/{token}"

"""The surveys module's settings per tenant (validated; JSON Schema for admin UIs)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = ["SurveysSettings"]

_RATE = Meta(pattern=r"^[1-9][0-9]{0,5}/(second|minute|hour)$")


class SurveysSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How invitations go out and how often a customer may be asked.

    ``recontact_days``: a customer is invited at most once in this many days, across every
    survey of the tenant (0: no limit). ``invitation_days``: an invitation link expires after
    this many days. ``public_url``: where ``/s/<token>`` is served (``https://s.example.cn``);
    empty, links are written as paths. ``complaint_survey_id``: the survey sent after a
    complaint is resolved (empty: the built-in "satisfied with the resolution?" CSAT survey).
    """

    channel: Annotated[str, Meta(min_length=1, max_length=32)] = "log"
    public_url: Annotated[str, Meta(max_length=200, pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")] = (
        ""
    )
    recontact_days: Annotated[int, Meta(ge=0, le=365)] = 30
    invitation_days: Annotated[int, Meta(ge=1, le=365)] = 14
    complaint_survey_id: Annotated[
        str, Meta(pattern=r"^([0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})?$")
    ] = ""
    # public page and surveyAnswer, per token and per client address (limits notation)
    token_rate: Annotated[str, _RATE] = "30/minute"  # noqa: S105  # a rate, not a secret
    client_rate: Annotated[str, _RATE] = "120/minute"

    def link(self, token: str) -> str:
        """The survey page of ``token``: absolute when ``public_url`` is set."""
        return f"{self.public_url.rstrip('/')}/s/{token}"

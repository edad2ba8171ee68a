"""The complaints plugin's GraphQL (issue 13's public names). Present only where a tenant
enabled the plugin."""

from __future__ import annotations

from core import GraphQLContribution

__all__ = ["contributions"]


def contributions() -> list[GraphQLContribution]:
    return []

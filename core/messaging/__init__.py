"""The messaging pipeline shared by every module (CORE-11)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.context import TenantInfo
from core.messaging.channels import BUILTIN_CHANNELS, ChannelSet
from core.messaging.outbox import EnqueueResult, MessageRequest, enqueue, enqueue_many
from core.messaging.sender import SendStats, send_due

if TYPE_CHECKING:
    from core.plugins.runtime import PluginRuntime

__all__ = [
    "BUILTIN_CHANNELS",
    "ChannelSet",
    "EnqueueResult",
    "MessageRequest",
    "SendStats",
    "channels_for",
    "enqueue",
    "enqueue_many",
    "send_due",
]


async def channels_for(tenant: TenantInfo, runtime: PluginRuntime | None) -> ChannelSet:
    """The built-in channels plus those of the tenant's enabled plugins (``runtime``: the
    plugins loaded by the caller's composition root; ``None``: built-in channels only).
    Plugins receive this set as the ``channels`` argument of their hooks and jobs."""
    if runtime is None:
        return ChannelSet(list(BUILTIN_CHANNELS))
    return await runtime.channels(tenant)

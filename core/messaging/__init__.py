"""The messaging pipeline shared by every module (CORE-11)."""

from __future__ import annotations

from core.context import TenantInfo
from core.messaging.channels import BUILTIN_CHANNELS, ChannelSet
from core.messaging.outbox import EnqueueResult, MessageRequest, enqueue, enqueue_many
from core.messaging.sender import SendStats, send_due
from core.types import MessageChannel

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


async def channels_for(tenant: TenantInfo) -> ChannelSet:
    """The built-in channels plus those of the tenant's enabled plugins."""
    from core.plugins import get_runtime

    extra: list[MessageChannel] = []
    try:
        runtime = get_runtime()
    except RuntimeError:
        runtime = None
    if runtime is not None:
        for _plugin_id, channels in await runtime.collect(tenant, "register_message_channels"):
            extra.extend(channels or [])
    return ChannelSet([*BUILTIN_CHANNELS, *extra])

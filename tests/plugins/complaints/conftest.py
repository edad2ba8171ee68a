"""The complaints tests' tenant has complaints enabled and no quiet hours (escalation notices
are transactional, but the suite runs at any hour); ``complaints`` is that tenant's validated
settings and channels, for calling the services directly."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from api.testing import make_tenant


async def quiet_free_tenant() -> Any:
    from core.context import MessagingPolicy
    from core.db import json_text, platform_tx
    from core.tables import Tenant
    from tenants.service import forget_tenant

    found = await make_tenant()
    policy = {"quiet_start": "00:00", "quiet_end": "00:00"}
    async with platform_tx():
        await Tenant.update({Tenant.settings: json_text({"messaging": policy})}).where(
            Tenant.id == found.id
        )
    forget_tenant(found.id)
    forget_tenant(found.slug)
    return dataclasses.replace(found, messaging=MessagingPolicy(**policy))


@pytest.fixture
async def tenant(db):
    return await quiet_free_tenant()


@pytest.fixture
async def other_tenant(db):
    return await quiet_free_tenant()

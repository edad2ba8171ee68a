"""The care tests' tenant has no quiet hours (the suite runs at any hour; quiet hours are
tested explicitly, with a policy of their own)."""

from __future__ import annotations

import dataclasses

import pytest

from api.testing import make_tenant


@pytest.fixture
async def tenant(db):
    from core.context import MessagingPolicy
    from core.db import json_text, platform_tx
    from core.tables import Tenant

    found = await make_tenant()
    policy = {"quiet_start": "00:00", "quiet_end": "00:00"}
    async with platform_tx():
        await Tenant.update({Tenant.settings: json_text({"messaging": policy})}).where(
            Tenant.id == found.id
        )
    from tenants.service import forget_tenant

    forget_tenant(found.id)
    forget_tenant(found.slug)
    return dataclasses.replace(found, messaging=MessagingPolicy(**policy))

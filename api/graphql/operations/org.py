"""The caller and its modules: ``me`` and ``modules``."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from api.graphql.operations._common import runtime_of
from core.graphql import (
    context_of,
    to_global_id,
)
from core.graphql.enums import ActorKind
from core.graphql.types import Me, Module, TenantSummary

__all__ = ["OrgQuery"]


@strawberry.type
class OrgQuery:
    @strawberry.field(description="Who is calling, for which tenant.")
    def me(self, info: Info) -> Me:
        tenant, actor = context_of(info).caller()
        return Me(
            kind=ActorKind(actor.kind),
            actor_id=actor.id,
            staff_uid=UUID(actor.id) if actor.kind == "staff" else None,
            role=actor.role,
            permissions=sorted(actor.permissions),
            store_ids=sorted(to_global_id("Store", s) for s in actor.store_ids or ()),
            tenant=TenantSummary(
                slug=tenant.slug,
                name=tenant.name,
                timezone=tenant.timezone,
                locale=tenant.locale,
                currency=tenant.currency,
            ),
        )

    @strawberry.field(description="The modules enabled for the caller's tenant (and store).")
    def modules(self, info: Info) -> list[Module]:
        runtime = runtime_of(info)
        if runtime is None:  # pragma: no cover - the endpoint always sets it
            return []
        out = []
        for plugin_id in sorted(context_of(info).enabled):
            m = runtime.registry.manifest(plugin_id)
            out.append(Module(id=m.id, name=m.name, version=m.version, description=m.description))
        return out

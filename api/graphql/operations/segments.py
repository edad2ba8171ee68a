"""Segments (CORE-8): ``segments`` and ``segmentCreate``; filters may use the core's fields and
the conditions of the tenant's enabled modules."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.operations._common import arg, cursor_uuid, runtime_of
from core.graphql import (
    Connection,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    input_data,
)
from core.graphql.types import Segment

__all__ = ["SegmentMutation", "SegmentQuery"]


@strawberry.input(description="A saved segment.")
class SegmentCreateInput:
    name: str = strawberry.field(description="Name, unique in the tenant.")
    filter: JSON = strawberry.field(
        description='Filter tree, e.g. `{"all": [{"field": "value_class", "op": "eq", '
        '"value": "high_value"}]}`.'
    )
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Purpose.")


@strawberry.type(description="Result of `segmentCreate`.")
class SegmentCreatePayload:
    segment: Segment | None = strawberry.field(description="The new segment.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="A field segments can filter on.")
class SegmentFieldInfo:
    field: str = strawberry.field(description="Field name, as used in a condition.")
    description: str = strawberry.field(description="What it means.")
    ops: list[str] = strawberry.field(description="Operators it accepts.")
    choices: list[str] = strawberry.field(description="Allowed values, when a closed set.")


@strawberry.type
class SegmentQuery:
    @strawberry.field(description="Saved segments, by name.")
    async def segments(
        self,
        info: Info,
        first: Annotated[int, arg("Page size, 1–100.")] = 50,
        after: Annotated[str | None, arg("Cursor of the last segment seen.")] = None,
    ) -> Connection[Segment]:
        from core.segments import list_segments

        tenant, actor = context_of(info).caller()
        check_first(first)
        rows = await list_segments(tenant, actor)
        start = cursor_uuid(after)
        if start is not None:
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(start) + 1 :] if start in ids else []
        items = [Segment.from_row(r) for r in rows[: first + 1]]
        return connection(items, lambda s: str(s.uid), first)

    @strawberry.field(description="The fields this tenant's segments can use (core and modules).")
    async def segment_fields(self, info: Info) -> list[SegmentFieldInfo]:
        from core.segments import CORE_FIELDS, field_catalogue

        tenant, actor = context_of(info).caller()
        actor.require("segments:read")
        runtime = runtime_of(info)
        fields = await runtime.segment_fields(tenant) if runtime else CORE_FIELDS
        return [SegmentFieldInfo(**f) for f in field_catalogue(fields)]


@strawberry.type
class SegmentMutation:
    @strawberry.mutation(description="Save a segment.")
    async def segment_create(
        self, info: Info, input: Annotated[SegmentCreateInput, arg("The new segment.")]
    ) -> SegmentCreatePayload:
        from core.segments import CORE_FIELDS, create_segment

        tenant, actor = context_of(info).caller()
        runtime = runtime_of(info)
        fields = await runtime.segment_fields(tenant) if runtime else CORE_FIELDS
        row, errors = await attempt(
            lambda: create_segment(tenant, actor, input_data(input), fields=fields)
        )
        return SegmentCreatePayload(segment=Segment.from_row(row) if row else None, errors=errors)

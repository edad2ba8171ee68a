"""Interactions and follow-up tasks (CORE-7): ``tasks`` (the overdue list per store and per
staff member), ``interactionLog``, ``taskCreate``, ``taskComplete``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from api.graphql.operations._common import arg
from core.graphql import (
    Connection,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    decode_cursor,
    input_data,
)
from core.graphql.enums import ContactChannel, TaskStatus
from core.graphql.types import Interaction, Task

__all__ = ["ActivityMutation", "ActivityQuery"]

KEY = "Client key (1–128 characters): a retry with it creates the record once."


@strawberry.input(description="A contact with a customer (回访记录).")
class InteractionLogInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    channel: ContactChannel = strawberry.field(description="How the contact was made.")
    content: str = strawberry.field(description="What was said or done.")
    feedback: str | None = strawberry.field(
        default=strawberry.UNSET, description="The customer's feedback."
    )
    occurred_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When; default now."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Store."
    )
    task_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The follow-up task this contact fulfils."
    )
    idempotency_key: str | None = strawberry.field(default=strawberry.UNSET, description=KEY)


@strawberry.input(description="A follow-up task.")
class TaskCreateInput:
    title: str = strawberry.field(description="What to do.")
    due_at: dt.datetime = strawberry.field(description="Due time (with offset).")
    customer_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="About this customer."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Store."
    )
    owner_staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Who does it."
    )
    notes: str | None = strawberry.field(default=strawberry.UNSET, description="Notes.")
    idempotency_key: str | None = strawberry.field(default=strawberry.UNSET, description=KEY)


@strawberry.input(description="The task completed and what was done.")
class TaskCompleteInput:
    id: strawberry.ID = strawberry.field(description="The task.")
    note: str | None = strawberry.field(
        default=strawberry.UNSET, description="What was done (added to the task's notes)."
    )


@strawberry.input(description="Which tasks `tasks` lists; all given criteria must match.")
class TaskFilterInput:
    store_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Tasks of this store."
    )
    staff_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Tasks this staff member owns."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Tasks about this customer."
    )
    overdue: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True: open and past due; false: not overdue."
    )
    status: TaskStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Open or done."
    )


@strawberry.type(description="Result of `interactionLog`.")
class InteractionLogPayload:
    interaction: Interaction | None = strawberry.field(description="The logged contact.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `taskCreate`.")
class TaskCreatePayload:
    task: Task | None = strawberry.field(description="The new task.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `taskComplete`.")
class TaskCompletePayload:
    task: Task | None = strawberry.field(description="The completed task.")
    next_task: Task | None = strawberry.field(
        description="For a revisit plan: the next task, created on completion."
    )
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


async def _task(info: Info, task_id: UUID) -> Task | None:
    from core.graphql import loaders

    return await loaders.tasks(info).load(task_id)


@strawberry.type
class ActivityQuery:
    @strawberry.field(
        description="Follow-up tasks by due time, soonest first: e.g. `filter: {overdue: true, "
        "storeId: …}` is a store's overdue list. Store-scoped callers see their stores' tasks."
    )
    async def tasks(
        self,
        info: Info,
        first: Annotated[int, arg("Page size, 1–100.")] = 20,
        after: Annotated[str | None, arg("Cursor of the last task seen.")] = None,
        filter: Annotated[TaskFilterInput | None, arg("Criteria; all must match.")] = None,
    ) -> Connection[Task]:
        from core.activity import list_tasks

        tenant, actor = context_of(info).caller()
        check_first(first)
        criteria = input_data(filter) if filter else {}
        rows = await list_tasks(
            tenant,
            actor,
            store_id=criteria.get("store_id"),
            owner_staff_id=criteria.get("staff_id"),
            customer_id=criteria.get("customer_id"),
            overdue=criteria.get("overdue"),
            status=criteria.get("status"),
            first=first,
            after=decode_cursor(after),
        )
        now = dt.datetime.now(dt.UTC)
        return connection([Task.from_row(r, now) for r in rows], Task.cursor, first)


@strawberry.type
class ActivityMutation:
    @strawberry.mutation(description="Log a contact with a customer (回访).")
    async def interaction_log(
        self, info: Info, input: Annotated[InteractionLogInput, arg("The contact.")]
    ) -> InteractionLogPayload:
        from core.activity import get_interaction, log_interaction

        tenant, actor = context_of(info).caller()
        data = input_data(input)
        key = data.pop("idempotency_key", None)
        uid, errors = await attempt(
            lambda: log_interaction(tenant, actor, data, idempotency_key=key)
        )
        if uid is None:
            return InteractionLogPayload(interaction=None, errors=errors)
        row = await get_interaction(tenant, actor, uid, just_written=True)
        return InteractionLogPayload(interaction=Interaction.from_row(row), errors=[])

    @strawberry.mutation(description="Create a follow-up task.")
    async def task_create(
        self, info: Info, input: Annotated[TaskCreateInput, arg("The new task.")]
    ) -> TaskCreatePayload:
        from core.activity import create_task

        tenant, actor = context_of(info).caller()
        data = input_data(input)
        key = data.pop("idempotency_key", None)
        uid, errors = await attempt(lambda: create_task(tenant, actor, data, idempotency_key=key))
        return TaskCreatePayload(task=await _task(info, uid) if uid else None, errors=errors)

    @strawberry.mutation(description="Complete a task (a revisit plan schedules the next one).")
    async def task_complete(
        self, info: Info, input: Annotated[TaskCompleteInput, arg("The task.")]
    ) -> TaskCompletePayload:
        from core.activity import complete_task

        tenant, actor = context_of(info).caller()

        async def run() -> tuple[UUID, UUID | None]:
            data = input_data(input, id="Task")
            nxt = await complete_task(tenant, actor, data["id"], note=data.get("note") or "")
            return data["id"], nxt

        done, errors = await attempt(run)
        if done is None:
            return TaskCompletePayload(task=None, next_task=None, errors=errors)
        task_id, next_id = done
        return TaskCompletePayload(
            task=await _task(info, task_id),
            next_task=await _task(info, next_id) if next_id else None,
            errors=[],
        )

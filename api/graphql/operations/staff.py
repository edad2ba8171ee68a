"""Staff (CORE-3): ``staffMembers``; ``staffCreate``, ``staffUpdate``, ``staffDeactivate``,
``staffPasswordChange`` and the public ``staffLogin``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.graphql.operations._common import arg, cursor_uuid, uuid_of
from core.errors import Forbidden
from core.graphql import (
    Connection,
    UserError,
    attempt,
    check_first,
    connection,
    context_of,
    input_data,
    user_errors,
)
from core.graphql.types import Staff

__all__ = ["PublicStaffMutation", "StaffMutation", "StaffQuery"]


@strawberry.input(description="A new staff member.")
class StaffCreateInput:
    login: str = strawberry.field(description="Login name (letters, digits, `_.@-`).")
    name: str = strawberry.field(description="Display name.")
    password: str = strawberry.field(description="Password, at least 10 characters.")
    role: str = strawberry.field(description="Role code (`cashier`, `store_manager`, …).")
    store_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Stores the member is limited to; omitted: all."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Work email, for notices and reports."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Work mobile number, for notices."
    )


@strawberry.type(description="Result of `staffCreate`.")
class StaffCreatePayload:
    staff: Staff | None = strawberry.field(description="The new staff member.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="A staff member's credentials.")
class StaffLoginInput:
    tenant: str = strawberry.field(description="The tenant's slug.")
    login: str = strawberry.field(description="Login name.")
    password: str = strawberry.field(description="Password.")


@strawberry.type(description="Result of `staffLogin`: a short-lived bearer token.")
class StaffLoginPayload:
    token: str | None = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: dt.datetime | None = strawberry.field(description="When the token expires.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="Changes to a staff member: only the fields given change.")
class StaffUpdateInput:
    id: strawberry.ID = strawberry.field(description="The staff member.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    role: str | None = strawberry.field(default=strawberry.UNSET, description="New role code.")
    store_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The stores they work in (a move); empty: every store.",
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Work email; null clears it."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Work mobile number; null clears it."
    )


@strawberry.type(description="Result of `staffUpdate`.")
class StaffUpdatePayload:
    staff: Staff | None = strawberry.field(description="The staff member after the change.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="The staff member to deactivate.")
class StaffDeactivateInput:
    id: strawberry.ID = strawberry.field(description="The staff member.")


@strawberry.type(description="Result of `staffDeactivate`.")
class StaffDeactivatePayload:
    staff: Staff | None = strawberry.field(description="The deactivated staff member.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="The staff member whose login lock to lift.")
class StaffUnlockInput:
    id: strawberry.ID = strawberry.field(description="The staff member.")


@strawberry.type(description="Result of `staffUnlock`.")
class StaffUnlockPayload:
    staff: Staff | None = strawberry.field(description="The unlocked staff member.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="A new password: your own (with the current one) or a reset.")
class StaffPasswordChangeInput:
    id: strawberry.ID = strawberry.field(description="The staff member.")
    new_password: str = strawberry.field(description="The new password (10–256 characters).")
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Your current password (to change your own)."
    )


@strawberry.type(description="Result of `staffPasswordChange`.")
class StaffPasswordChangePayload:
    ok: bool = strawberry.field(description="True when the password was changed.")
    errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type
class StaffQuery:
    @strawberry.field(description="Staff members, by login (permission `staff:read`).")
    async def staff_members(
        self,
        info: Info,
        first: Annotated[int, arg("Page size, 1–100.")] = 50,
        after: Annotated[str | None, arg("Cursor of the last member seen.")] = None,
        store_id: Annotated[
            strawberry.ID | None, arg("Only the members who work in this store.")
        ] = None,
    ) -> Connection[Staff]:
        from tenants.staff import list_staff

        tenant, actor = context_of(info).caller()
        check_first(first)
        rows = await list_staff(
            tenant,
            actor,
            store_id=uuid_of(store_id, "Store", "storeId") if store_id else None,
            first=first,
            after=cursor_uuid(after),
        )
        return connection([Staff.from_row(r) for r in rows], lambda s: str(s.uid), first)


@strawberry.type
class PublicStaffMutation:
    @strawberry.mutation(description="Log a staff member in: a bearer token valid 30 minutes.")
    async def staff_login(
        self, info: Info, input: Annotated[StaffLoginInput, arg("The credentials.")]
    ) -> StaffLoginPayload:
        from tenants.credentials import authenticate_staff, issue_staff_token

        try:
            tenant_info, actor = await authenticate_staff(
                input.tenant, input.login, input.password, client=context_of(info).client
            )
        except Forbidden as exc:
            return StaffLoginPayload(token=None, expires_at=None, errors=user_errors(exc))
        token, expires = issue_staff_token(tenant_info, actor)
        return StaffLoginPayload(token=token, expires_at=expires, errors=[])


@strawberry.type
class StaffMutation:
    @strawberry.mutation(description="Add a staff member (audited).")
    async def staff_create(
        self, info: Info, input: Annotated[StaffCreateInput, arg("The new staff member.")]
    ) -> StaffCreatePayload:
        from tenants.credentials import create_staff
        from tenants.staff import get_staff

        tenant, actor = context_of(info).caller()
        staff_id, errors = await attempt(lambda: create_staff(tenant, actor, input_data(input)))
        if staff_id is None:
            return StaffCreatePayload(staff=None, errors=errors)
        return StaffCreatePayload(
            staff=Staff.from_row(await get_staff(tenant, staff_id)), errors=[]
        )

    @strawberry.mutation(description="Rename, change the role or move between stores (audited).")
    async def staff_update(
        self, info: Info, input: Annotated[StaffUpdateInput, arg("The changes.")]
    ) -> StaffUpdatePayload:
        from tenants.staff import update_staff

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, object]:
            data = input_data(input, id="Staff")
            return await update_staff(tenant, actor, data.pop("id"), data)

        row, errors = await attempt(run)
        return StaffUpdatePayload(staff=Staff.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Deactivate a staff member: their credentials are refused.")
    async def staff_deactivate(
        self, info: Info, input: Annotated[StaffDeactivateInput, arg("The staff member.")]
    ) -> StaffDeactivatePayload:
        from tenants.staff import deactivate_staff

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, object]:
            return await deactivate_staff(tenant, actor, input_data(input, id="Staff")["id"])

        row, errors = await attempt(run)
        return StaffDeactivatePayload(staff=Staff.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Lift the lock that failed logins put on a staff member's account (an "
        "owner; audited). The lock also ends by itself after 15 minutes."
    )
    async def staff_unlock(
        self, info: Info, input: Annotated[StaffUnlockInput, arg("The staff member.")]
    ) -> StaffUnlockPayload:
        from tenants.credentials import unlock_staff

        tenant, actor = context_of(info).caller()

        async def run() -> dict[str, object]:
            return await unlock_staff(tenant, actor, input_data(input, id="Staff")["id"])

        row, errors = await attempt(run)
        return StaffUnlockPayload(staff=Staff.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Change a password (audited); earlier tokens are refused.")
    async def staff_password_change(
        self, info: Info, input: Annotated[StaffPasswordChangeInput, arg("The passwords.")]
    ) -> StaffPasswordChangePayload:
        from tenants.staff import change_password

        tenant, actor = context_of(info).caller()

        async def run() -> bool:
            data = input_data(input, id="Staff")
            await change_password(
                tenant,
                actor,
                data["id"],
                data["new_password"],
                current_password=data.get("current_password"),
            )
            return True

        ok, errors = await attempt(run)
        return StaffPasswordChangePayload(ok=bool(ok), errors=errors)

"""Shared drivers for the loyalty tests: GraphQL documents (one ``input`` per mutation), a
customer and a store through the API, sales through the API or the core service, and the
ledger read back from the database to compare with the account."""

from __future__ import annotations

from typing import Any
from uuid import UUID

SETUP = """
mutation($c: CustomerCreateInput!, $s: StoreCreateInput!) {
  customerCreate(input: $c) { customer { id } }
  storeCreate(input: $s) { store { id } }
}"""
RECORD = """
mutation($input: PurchaseRecordInput!) {
  purchaseRecord(input: $input) { purchase { id } errors { code } }
}"""
REFUND = """
mutation($i: PurchaseRefundInput!) { purchaseRefund(input: $i) { errors { field code } } }"""
LOYALTY = "query($id: ID!) { customer(id: $id) { loyalty { points growth } } }"
STATUS = "query($id: ID!) { customer(id: $id) { loyalty { points pending growth } } }"
REDEEM = """
mutation($i: LoyaltyRedeemInput!) {
  loyaltyRedeem(input: $i) {
    entry { kind points } balance replayed errors { field code message }
  }
}"""
ADJUST = """
mutation($i: LoyaltyAdjustInput!) {
  loyaltyAdjust(input: $i) { entry { kind points } balance replayed errors { field code } }
}"""
REFER = """
mutation($i: LoyaltyReferralRecordInput!) {
  loyaltyReferralRecord(input: $i) { ok errors { field code } }
}"""
REWARD_CREATE = """
mutation($i: LoyaltyRewardCreateInput!) {
  loyaltyRewardCreate(input: $i) { reward { id code pointsCost stock } errors { field code } }
}"""
REWARD_REDEEM = """
mutation($i: LoyaltyRewardRedeemInput!) {
  loyaltyRewardRedeem(input: $i) {
    coupon { id code status } balance replayed errors { field code }
  }
}"""
COUPON_USE = """
mutation($i: LoyaltyCouponUseInput!) {
  loyaltyCouponUse(input: $i) { coupon { status } errors { code } }
}"""
KPIS = (
    '{ kpis(from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") '
    "{ modules { module key value } } }"
)


def redeem_input(customer: str, points: int, key: str, **extra: Any) -> dict[str, Any]:
    """Variables of :data:`REDEEM`."""
    return {"i": {"customerId": customer, "points": points, "idempotencyKey": key} | extra}


def refer_input(customer: str, referrer: str) -> dict[str, Any]:
    """Variables of :data:`REFER`."""
    return {"i": {"customerId": customer, "referrerId": referrer}}


async def customer_and_store(api: Any, key: str, phone: str = "13912345000") -> tuple[str, str]:
    """A new customer and a new store (code from the phone's last digits), as global ids."""
    r = await api.gql(
        SETUP,
        {"c": {"name": "L", "phone": phone}, "s": {"code": f"S{phone[-4:]}", "name": "s"}},
        key=key,
    )
    return r["data"]["customerCreate"]["customer"]["id"], r["data"]["storeCreate"]["store"]["id"]


async def buy(api: Any, key: str, customer: str, store: str, amount: str) -> str:
    """A one-line sale through ``purchaseRecord``; the purchase's global id."""
    r = await api.gql(
        RECORD,
        {
            "input": {
                "storeId": store,
                "customerId": customer,
                "lines": [{"sku": "x", "unitPrice": amount}],
            }
        },
        key=key,
    )
    assert r["data"]["purchaseRecord"]["errors"] == []
    purchase_id: str = r["data"]["purchaseRecord"]["purchase"]["id"]
    return purchase_id


async def points(api: Any, key: str, customer: str) -> dict[str, int]:
    """``Customer.loyalty { points growth }``."""
    found: dict[str, int] = (await api.gql(LOYALTY, {"id": customer}, key=key))["data"]["customer"][
        "loyalty"
    ]
    return found


async def status(api: Any, key: str, customer: str) -> dict[str, int]:
    """``Customer.loyalty { points pending growth }``."""
    found: dict[str, int] = (await api.gql(STATUS, {"id": customer}, key=key))["data"]["customer"][
        "loyalty"
    ]
    return found


async def kpis(api: Any, key: str, *names: str) -> list[Any]:
    """The loyalty module's KPI values, in the order named."""
    body = await api.gql(KPIS, key=key)
    found = {m["key"]: m["value"] for m in body["data"]["kpis"]["modules"]}
    return [found[n] for n in names]


async def sell(
    tenant: Any,
    actor: Any,
    store: Any,
    customer: Any,
    *prices: str,
    amount: str | None = None,
    runtime: Any = None,
) -> Any:
    """A sale of one line per price through the core service; its :class:`PurchaseView`."""
    from core.purchases import record_purchase

    data: dict[str, Any] = {
        "store_id": str(store),
        "customer_id": str(customer),
        "lines": [{"sku": f"s{i}", "unit_price": p} for i, p in enumerate(prices)],
    }
    if amount is not None:
        data["amount"] = amount
    return await record_purchase(tenant, actor, data, runtime=runtime)


async def account(tenant: Any, customer_id: UUID) -> tuple[int, int, int]:
    """The customer's account ``(points, pending, growth)`` (zeros without one)."""
    from plugins.loyalty.ledger import standings

    p, g, _tier, n = (await standings(tenant, [customer_id])).get(customer_id, (0, 0, "", 0))
    return p, n, g


async def ledger_sums(tenant: Any, customer_id: UUID) -> tuple[int, int, int]:
    """The sums of the customer's ledger entries ``(points, pending, growth)``."""
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch(
            "SELECT COALESCE(SUM(points), 0) AS p, COALESCE(SUM(pending), 0) AS n, "
            "COALESCE(SUM(growth), 0) AS g FROM loyalty_entry "
            "WHERE tenant_id = {} AND customer_id = {}",
            tenant.id,
            customer_id,
        )
    return int(rows[0]["p"]), int(rows[0]["n"]), int(rows[0]["g"])


async def entries_of(tenant: Any, customer_id: UUID) -> list[dict[str, Any]]:
    """The customer's ledger rows, oldest first."""
    from core.db import tenant_tx
    from plugins.loyalty.tables import LoyaltyEntry

    async with tenant_tx(tenant.id, write=False):
        rows = (
            await LoyaltyEntry.select()
            .where(LoyaltyEntry.customer_id == customer_id)
            .order_by(LoyaltyEntry.created_at)
        )
    return [dict(r) for r in rows]


async def entry_count(tenant: Any) -> int:
    """How many ledger entries the tenant has."""
    from core.db import tenant_tx
    from plugins.loyalty.tables import LoyaltyEntry

    async with tenant_tx(tenant.id, write=False):
        return int(await LoyaltyEntry.count())

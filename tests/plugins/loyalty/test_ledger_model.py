"""Stateful property test: the ledger against a simple reference model.

Sales, refunds (one line or everything left), redemptions (some paying for a sale, whose
refunds return the refunded share of them), adjustments and — with a return window — the
release of pending points, in any order; after every step the account (points,
pending points, growth) equals the model, equals the sums of its entries, and is never negative.
Each example runs in its own event loop with its own connection pool (hypothesis drives sync
tests), on every backend the session tests (SQLite, and PostgreSQL as the RLS-bound role).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.context import Actor

# Rates with fractions, so that rounding (down when earning, up when taking back) matters.
POINTS, GROWTH = Decimal("1.5"), Decimal("0.7")
OWNER = Actor(kind="staff", id=str(uuid.uuid4()), role="owner")

operations = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(1, 300), st.integers(1, 300)),
        st.tuples(st.just("refund_line"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("refund_rest"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("redeem"), st.integers(1, 400), st.just(0)),
        st.tuples(st.just("redeem_for"), st.integers(1, 400), st.integers(0, 20)),
        st.tuples(st.just("adjust"), st.integers(-400, 400).filter(bool), st.just(0)),
        st.tuples(st.just("release"), st.just(0), st.just(0)),
    ),
    max_size=18,
)


@dataclass
class Sale:
    id: uuid.UUID
    lines: tuple[int, int]
    earned: int
    earned_growth: int
    taken_points: int = 0
    taken_growth: int = 0
    refunded: set[int] = field(default_factory=set)
    pending: bool = False  # earned into the pending balance, not yet released
    paid: int = 0  # points redeemed naming this sale
    restored: int = 0  # of those, returned by its refunds


@dataclass
class Model:
    points: int = 0
    growth: int = 0
    pending: int = 0
    sales: list[Sale] = field(default_factory=list)

    def restore(self, sale: Sale, share: Fraction) -> None:
        """Points paid for the sale: the refunded share (exact, rounded down) comes back, never
        more than were paid; before the sale's own points are taken back."""
        points = min(sale.paid - sale.restored, math.floor(sale.paid * share))
        sale.restored += points
        self.points += points

    def reverse(self, sale: Sale, share: Fraction) -> None:
        """The refunded share (exact), rounded up, never more than earned; taken from pending while the
        sale's points are pending, else from points never below zero (what was already spent
        is not taken); growth always."""
        points = min(sale.earned - sale.taken_points, math.ceil(sale.earned * share))
        if sale.pending:
            self.pending -= points
        else:
            points = min(points, self.points)
            self.points -= points
        growth = min(sale.earned_growth - sale.taken_growth, math.ceil(sale.earned_growth * share))
        sale.taken_points += points
        sale.taken_growth += growth
        self.growth -= growth

    def release(self) -> None:
        for sale in self.sales:
            if sale.pending:
                left = sale.earned - sale.taken_points
                self.pending -= left
                self.points += left
                sale.pending = False


async def _scenario(settings_, ops: list[tuple[str, int, int]], window: bool) -> None:
    import datetime as dt

    from core import ValidationFailed
    from core.bootstrap import close_database, open_database
    from core.customers import create_customer
    from core.db import fetch, tenant_tx
    from core.plugins import get_runtime
    from core.plugins.delivery import deliver_pending
    from core.purchases import record_purchase, record_refund
    from plugins.loyalty.ledger import adjust, redeem, release_pending, standings
    from tenants.modules import enable_module
    from tenants.service import create_store, create_tenant

    await open_database(settings_)
    try:
        runtime = get_runtime()
        tenant = await create_tenant({"slug": f"m-{uuid.uuid4().hex[:10]}", "name": "model"})
        await enable_module(
            tenant,
            OWNER,
            runtime,
            "loyalty",
            settings={
                "points_per_unit": str(POINTS),
                "growth_per_unit": str(GROWTH),
                "pending_days": 7 if window else 0,
            },
        )
        store = (await create_store(tenant, OWNER, {"code": "M1", "name": "m"}))["id"]
        customer = (await create_customer(tenant, OWNER, {"name": "model"})).id
        model = Model()
        for step, (kind, a, b) in enumerate(ops):
            if kind == "buy":
                view = await record_purchase(
                    tenant,
                    OWNER,
                    {
                        "store_id": str(store),
                        "customer_id": str(customer),
                        "lines": [
                            {"sku": "a", "unit_price": str(a)},
                            {"sku": "b", "unit_price": str(b)},
                        ],
                    },
                )
                sale = Sale(
                    view.id,
                    (a, b),
                    math.floor((a + b) * POINTS),
                    math.floor((a + b) * GROWTH),
                    pending=window,
                )
                model.sales.append(sale)
                if window:
                    model.pending += sale.earned
                else:
                    model.points += sale.earned
                model.growth += sale.earned_growth
            elif kind in ("refund_line", "refund_rest") and model.sales:
                sale = model.sales[a % len(model.sales)]
                left = [n for n in (1, 2) if n not in sale.refunded]
                lines = [1] if kind == "refund_line" else left
                if not left or (kind == "refund_line" and 1 in sale.refunded):
                    continue
                await record_refund(
                    tenant,
                    OWNER,
                    {
                        "refund_of": str(sale.id),
                        "lines": [{"line_no": n, "qty": "1"} for n in lines],
                    },
                )
                sale.refunded |= set(lines)
                refunded = sum(sale.lines[n - 1] for n in lines)
                model.restore(sale, Fraction(refunded, sum(sale.lines)))
                model.reverse(sale, Fraction(refunded, sum(sale.lines)))
            elif kind == "redeem" or (kind == "redeem_for" and model.sales):
                paying = model.sales[b % len(model.sales)] if kind == "redeem_for" else None
                try:
                    await redeem(
                        tenant,
                        OWNER,
                        customer,
                        a,
                        f"r{step}",
                        purchase_id=paying.id if paying else None,
                    )
                    assert a <= model.points
                    model.points -= a
                    if paying is not None:
                        paying.paid += a
                except ValidationFailed:
                    assert a > model.points
            elif kind == "adjust":
                try:
                    await adjust(tenant, OWNER, customer, a, f"a{step}", "model")
                    assert model.points + a >= 0
                    model.points += a
                except ValidationFailed:
                    assert model.points + a < 0
            await deliver_pending(runtime, tenant)
            if kind == "release":
                later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
                loyalty_settings = await runtime.plugin_settings(tenant.id, "loyalty")
                await release_pending(tenant, loyalty_settings, later)
                model.release()
                await deliver_pending(runtime, tenant)
            points, growth, _tier, pending = (await standings(tenant, [customer])).get(
                customer, (0, 0, "", 0)
            )
            assert (points, pending, growth) == (model.points, model.pending, model.growth), (
                step,
                kind,
                ops,
            )
            assert points >= 0 and pending >= 0
            async with tenant_tx(tenant.id, write=False):
                sums = await fetch(
                    "SELECT COALESCE(SUM(points), 0) AS p, COALESCE(SUM(pending), 0) AS n, "
                    "COALESCE(SUM(growth), 0) AS g FROM loyalty_entry WHERE tenant_id = {}",
                    tenant.id,
                )
            assert (int(sums[0]["p"]), int(sums[0]["n"]), int(sums[0]["g"])) == (
                points,
                pending,
                growth,
            )
    finally:
        await close_database()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@given(ops=operations, window=st.booleans())
def _check(db_settings, ops, window):
    asyncio.run(_scenario(db_settings, ops, window))


def test_ledger_matches_the_reference_model(db, runtime):
    from core.db import set_database

    try:
        _check(db.settings)  # type: ignore[call-arg]
    finally:
        set_database(db)

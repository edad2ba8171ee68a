"""Accrual on sales and reversal on refunds (``ledger/accrual.py``): earn rules, multipliers,
the birthday the sale's event carries, proportional reversals once, the awarded-points hook,
and delivery order under failures."""

from __future__ import annotations

import pytest

from tests.plugins.loyalty.helpers import RECORD, REFUND, customer_and_store, points, sell

pytestmark = pytest.mark.usefixtures("db")


async def test_partial_refunds_take_back_proportionally_once(
    api, tenant, make_key, enable_plugins, deliver_events
):
    await enable_plugins(tenant, "loyalty")
    key = await make_key(tenant)
    customer, store = await customer_and_store(api, key, "13912345001")
    r = await api.gql(
        RECORD,
        {
            "input": {
                "storeId": store,
                "customerId": customer,
                "lines": [{"sku": "a", "unitPrice": "30"}, {"sku": "b", "unitPrice": "70"}],
            }
        },
        key=key,
    )
    sale = r["data"]["purchaseRecord"]["purchase"]["id"]
    await deliver_events(tenant)
    assert await points(api, key, customer) == {"points": 100, "growth": 100}
    refund = {
        "i": {"refundOf": sale, "lines": [{"lineNo": 1, "qty": "1"}], "idempotencyKey": "rf1"}
    }
    await api.gql(REFUND, refund, key=key)
    await api.gql(REFUND, refund, key=key)  # a retried refund is the same refund
    await deliver_events(tenant)
    assert await points(api, key, customer) == {"points": 70, "growth": 70}


async def test_other_plugins_hear_points_awarded_once(
    db, tenant, owner, make_runtime, enable_plugins, deliver_events
):
    """A plugin implementing the published hook gets each award once, without importing loyalty."""
    from core.customers import create_customer
    from plugins.loyalty import plugin as loyalty
    from tenants.service import create_store
    from tests.plugins.conftest import plugin_module

    heard = []

    async def on_loyalty_points_awarded(tenant, event):
        heard.append((event["points"], event["source"]))

    make_runtime(
        loyalty, plugin_module("thanks", on_loyalty_points_awarded=on_loyalty_points_awarded)
    )
    await enable_plugins(tenant, "loyalty", "thanks")
    store = (await create_store(tenant, owner, {"code": "T1", "name": "t"}))["id"]
    c = await create_customer(tenant, owner, {"name": "t"})
    await sell(tenant, owner, store, c.id, "88")
    await deliver_events(tenant)  # the sale → loyalty accrues and emits the award
    await deliver_events(tenant)  # the award → thanks
    await deliver_events(tenant)
    assert heard == [(88, "purchase")]


async def test_earn_rules_discounts_tier_and_birthday_multipliers(
    tenant, owner, runtime, enable_plugins, deliver_events
):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from core.customers import create_customer
    from core.purchases import record_purchase
    from plugins.loyalty.ledger import balances
    from tenants.service import create_store

    await enable_plugins(
        tenant,
        "loyalty",
        settings={
            "rules": [
                {"sku": "tea", "points_per_unit": "3"},
                {"category": "gift", "points_per_unit": "0"},
            ],
            "birthday_multiplier": "2",
            "tiers": [{"code": "silver", "name": "银卡", "threshold": 40, "multiplier": "2"}],
        },
    )
    today = dt.datetime.now(ZoneInfo(tenant.timezone)).date()
    c = await create_customer(
        tenant, owner, {"name": "寿星", "birthday": today.replace(year=1990).isoformat()}
    )
    store = (await create_store(tenant, owner, {"code": "E1", "name": "e"}))["id"]

    async def sale(lines, amount=None):
        await record_purchase(
            tenant,
            owner,
            {"store_id": str(store), "customer_id": str(c.id), "lines": lines}
            | ({"amount": amount} if amount else {}),
        )
        await deliver_events(tenant)
        await deliver_events(tenant)

    # Lines 10 (tea, x3) + 20 (gift, x0) + 30 (base x1) = 60 weighted on 60 listed; paid 48
    # after a discount: 60 x 48/60 = 48, doubled on the birthday = 96; growth 48 → silver.
    await sale(
        [
            {"sku": "tea", "unit_price": "10"},
            {"sku": "cup", "category": "gift", "unit_price": "20"},
            {"sku": "cake", "unit_price": "30"},
        ],
        amount="48",
    )
    assert (await balances(tenant, [c.id]))[c.id] == (96, 48)
    # Now silver (x2) and still the birthday (x2): 10 x 4 = 40.
    await sale([{"sku": "cake", "unit_price": "10"}])
    assert (await balances(tenant, [c.id]))[c.id] == (136, 58)


async def test_accrual_uses_the_birthday_the_sale_carried(
    tenant, owner, runtime, enable_plugins, deliver_events
):
    """The birthday multiplier follows the customer as the sale's event recorded them: a
    birthday set (or cleared) after the sale and before its delivery changes nothing, and the
    accrual does not ask the core for the customer again."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from core.customers import create_customer, update_customer
    from plugins.loyalty.ledger import balances
    from tenants.service import create_store

    await enable_plugins(tenant, "loyalty", settings={"birthday_multiplier": "3"})
    today = dt.datetime.now(ZoneInfo(tenant.timezone)).date()
    birthday = today.replace(year=1988).isoformat()
    other_day = (today + dt.timedelta(days=100)).replace(year=1988).isoformat()
    store = (await create_store(tenant, owner, {"code": "B1", "name": "b"}))["id"]
    celebrating = await create_customer(tenant, owner, {"name": "今天", "birthday": birthday})
    ordinary = await create_customer(tenant, owner, {"name": "平日", "birthday": other_day})
    await sell(tenant, owner, store, celebrating.id, "20")
    await sell(tenant, owner, store, ordinary.id, "20")
    # Profiles change between the sale and its delivery: the sale's own facts count.
    await update_customer(tenant, owner, celebrating.id, {"birthday": None})
    await update_customer(tenant, owner, ordinary.id, {"birthday": birthday})
    await deliver_events(tenant)
    assert await balances(tenant, [celebrating.id, ordinary.id]) == {
        celebrating.id: (60, 20),  # tripled: it was their birthday when they bought
        ordinary.id: (20, 20),
    }


async def test_earn_rules_are_validated(tenant, owner, runtime):
    from core import ValidationFailed
    from tenants.modules import enable_module

    with pytest.raises(ValidationFailed) as exc:
        await enable_module(
            tenant,
            owner,
            runtime,
            "loyalty",
            settings={"rules": [{"sku": "a", "category": "b", "points_per_unit": "1"}]},
        )
    assert "either a sku or a category" in exc.value.message
    assert await runtime.enabled(tenant.id) == frozenset()


async def test_a_failed_batch_never_lets_a_refund_overtake_its_sale(
    tenant, owner, make_runtime, enable_plugins, deliver_events, monkeypatch
):
    """Handlers commit in batches; when a batch fails (another plugin's handler here), its items
    run one by one before the next batch, so the refund's reversal never runs before the sale's
    accrual, and a reversal that finds the accrual still due is retried after it."""
    import datetime as dt

    from core.customers import create_customer
    from core.plugins import delivery
    from core.purchases import record_refund
    from plugins.loyalty.ledger import balances
    from tenants.modules import enable_module
    from tenants.service import create_store
    from tests.plugins.conftest import plugin_module

    # Handlers in order: customer.created (loyalty), the sale (loyalty, flaky), the refund
    # (loyalty), customer.created (loyalty), the next sale (loyalty, flaky). Batches of three:
    # the first fails on flaky; the second holds the refund's reversal.
    monkeypatch.setattr(delivery, "HANDLER_BATCH", 3)
    broken = {"on": True}

    async def on_purchase_recorded(tenant, event):
        if broken["on"]:
            raise RuntimeError("flaky")

    runtime = make_runtime(
        plugin_module("flaky", on_purchase_recorded=on_purchase_recorded), discover=True
    )
    await enable_plugins(tenant, "loyalty")
    await enable_module(tenant, owner, runtime, "flaky")
    store = (await create_store(tenant, owner, {"code": "O1", "name": "o"}))["id"]
    c = await create_customer(tenant, owner, {"name": "order"})
    sale = await sell(tenant, owner, store, c.id, "100")
    await record_refund(tenant, owner, {"refund_of": str(sale.id)})
    other = await create_customer(tenant, owner, {"name": "next in line"})
    # so that the refund's handler shares a batch with a later one
    await sell(tenant, owner, store, other.id, "5")
    await delivery.deliver_pending(runtime, tenant)
    assert (await balances(tenant, [c.id]))[c.id] == (0, 0)  # earned 100, then all taken back
    broken["on"] = False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    await delivery.deliver_pending(runtime, tenant, now=later)
    assert (await balances(tenant, [c.id]))[c.id] == (0, 0)


async def test_refunded_shares_round_as_exact_fractions(
    tenant, owner, store, runtime, enable_plugins, deliver_events
):
    """A refund's share arrives as a 28-digit decimal (2/3 is 0.666…7, 1/3 is 0.333…3); the
    points taken back (rounded up) and the points paid returned (rounded down) are those of the
    exact fraction: 30 x 2/3 takes 20, not 21; 3 x 1/3 returns 1, not 0."""
    from core.customers import create_customer
    from core.purchases import record_refund
    from plugins.loyalty.ledger import redeem
    from tests.plugins.loyalty.helpers import account, ledger_sums

    await enable_plugins(tenant, "loyalty")
    c = await create_customer(tenant, owner, {"name": "thirds"})
    sale = await sell(tenant, owner, store, c.id, "10", "10", "10")
    await deliver_events(tenant)
    await redeem(tenant, owner, c.id, 3, "paid", purchase_id=sale.id)
    assert await account(tenant, c.id) == (27, 0, 30)
    two = [{"line_no": 1, "qty": "1"}, {"line_no": 2, "qty": "1"}]
    await record_refund(tenant, owner, {"refund_of": str(sale.id), "lines": two})
    await deliver_events(tenant)
    assert await account(tenant, c.id) == (9, 0, 10)  # 27 + 2 returned - 20 taken back
    await record_refund(tenant, owner, {"refund_of": str(sale.id)})
    await deliver_events(tenant)
    assert await account(tenant, c.id) == (0, 0, 0)  # 9 + 1 returned - 10 taken back
    assert await ledger_sums(tenant, c.id) == (0, 0, 0)

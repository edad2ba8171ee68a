"""PLUG-4/5, CORE-15: per-tenant dispatch, fault isolation, durable exactly-once delivery."""

import asyncio
import datetime as dt
import uuid

import msgspec
import pytest

from core.auditing import audit
from core.context import Actor
from core.customers import create_customer
from core.db import tenant_tx
from core.errors import Conflict, NotFound, ValidationFailed
from core.plugins.delivery import deliver_pending
from core.purchases import record_purchase
from core.tables import AuditLog, EventOutbox, PluginProblem, Purchase
from tenants.modules import (
    disable_module,
    enable_module,
    list_modules,
    plan_enable,
    set_allowed_modules,
)
from tests.plugins.conftest import plugin_module


async def audited(tenant, action):
    async with tenant_tx(tenant.id):
        return await AuditLog.count().where(AuditLog.action == action)


def counting_plugin(plugin_id, calls, *, fail=None):
    """A plugin whose on_purchase_recorded writes an audit row (a real write in the delivery tx)."""

    async def on_purchase_recorded(tenant, event):
        calls.append((tenant.id, event["purchase_id"]))
        if fail and fail():
            raise RuntimeError("boom")
        await audit(Actor.system(plugin_id), f"{plugin_id}.saw", subject_id=event["purchase_id"])

    return plugin_module(plugin_id, on_purchase_recorded=on_purchase_recorded)


async def buy(tenant, owner, store):
    return await record_purchase(
        tenant, owner, {"store_id": str(store), "lines": [{"sku": "a", "unit_price": "1"}]}
    )


async def test_hooks_reach_only_tenants_that_enabled_the_plugin(
    make_runtime, tenant, other_tenant, owner
):
    calls = []
    runtime = make_runtime(counting_plugin("counter", calls))
    await enable_module(tenant, owner, runtime, "counter")
    from tenants.service import create_store

    a_store = uuid.UUID(str((await create_store(tenant, owner, {"code": "A", "name": "a"}))["id"]))
    b_store = uuid.UUID(
        str((await create_store(other_tenant, owner, {"code": "B", "name": "b"}))["id"])
    )
    p = await buy(tenant, owner, a_store)
    await buy(other_tenant, owner, b_store)
    await deliver_pending(runtime, tenant)
    await deliver_pending(runtime, other_tenant)
    assert calls == [(tenant.id, str(p.id))]
    assert await audited(tenant, "counter.saw") == 1
    assert await audited(other_tenant, "counter.saw") == 0


async def test_sample_plugin_installed_with_pip_works_end_to_end(
    make_runtime, tenant, other_tenant, owner, store
):
    from mendian_sample.tables import SampleVisit

    runtime = make_runtime(discover=True)
    await enable_module(
        tenant, owner, runtime, "sample", settings={"greeting": "你好", "api_token": "t0k"}
    )
    c = await create_customer(tenant, owner, {"name": "x"})
    p = await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(c.id),
            "lines": [{"sku": "a", "unit_price": "1"}],
        },
    )
    from tenants.service import create_store

    b_store = (await create_store(other_tenant, owner, {"code": "B", "name": "b"}))["id"]
    await record_purchase(
        other_tenant, owner, {"store_id": str(b_store), "lines": [{"sku": "a", "unit_price": "1"}]}
    )
    await deliver_pending(runtime, tenant)
    await deliver_pending(runtime, other_tenant)
    async with tenant_tx(tenant.id):
        assert [r["purchase_id"] for r in await SampleVisit.select(SampleVisit.purchase_id)] == [
            p.id
        ]
    async with tenant_tx(other_tenant.id):
        assert await SampleVisit.count() == 0
    status = {m.id: m for m in await list_modules(tenant, runtime)}
    assert status["sample"].enabled and status["sample"].settings["api_token"] == "********"
    assert status["sample"].settings["greeting"] == "你好"
    assert not {m.id: m for m in await list_modules(other_tenant, runtime)}["sample"].enabled
    from core.privacy import export_customer

    exported = await export_customer(tenant, owner, c.id, runtime=runtime)
    assert exported["plugins"]["sample"] == {"visits": [str(p.id)]}


async def test_raising_hook_never_fails_the_purchase_and_is_retried_once_fixed(
    make_runtime, tenant, owner, store
):
    broken = {"on": True}
    bad_calls, good_calls = [], []
    runtime = make_runtime(
        counting_plugin("flaky", bad_calls, fail=lambda: broken["on"]),
        counting_plugin("steady", good_calls),
    )
    await enable_module(tenant, owner, runtime, "flaky")
    await enable_module(tenant, owner, runtime, "steady")
    p = await buy(tenant, owner, store)
    stats = await deliver_pending(runtime, tenant)
    assert (stats.delivered, stats.failed, stats.dispatched) == (1, 1, 0)
    async with tenant_tx(tenant.id):
        assert await Purchase.count().where(Purchase.id == p.id) == 1
        problems = await PluginProblem.select(
            PluginProblem.plugin_id, PluginProblem.hook, PluginProblem.kind
        )
    assert problems == [{"plugin_id": "flaky", "hook": "on_purchase_recorded", "kind": "error"}]
    assert await audited(tenant, "flaky.saw") == 0 and await audited(tenant, "steady.saw") == 1
    broken["on"] = False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    stats = await deliver_pending(runtime, tenant, now=later)
    assert (stats.delivered, stats.failed, stats.dispatched) == (1, 0, 1)
    assert await deliver_pending(runtime, tenant, now=later) == type(stats)()  # nothing left
    assert await audited(tenant, "flaky.saw") == 1 and await audited(tenant, "steady.saw") == 1
    assert len(good_calls) == 1


async def test_one_failing_event_in_a_batch_leaves_the_others_applied_once(
    make_runtime, tenant, owner, store
):
    """Handlers commit in batches; one failure in a batch rolls it back and each item runs on
    its own, so the others are applied exactly once and only the failing one is retried."""
    calls = []
    bought = [await buy(tenant, owner, store) for _ in range(5)]
    bad = str(bought[2].id)
    runtime = make_runtime(
        counting_plugin("picky", calls, fail=lambda: calls[-1][1] == bad),
    )
    await enable_module(tenant, owner, runtime, "picky")
    stats = await deliver_pending(runtime, tenant)
    assert (stats.delivered, stats.failed, stats.dispatched) == (4, 1, 4)
    assert await audited(tenant, "picky.saw") == 4
    async with tenant_tx(tenant.id):
        problems = await PluginProblem.count()
        seen = sorted(
            r["subject_id"]
            for r in await AuditLog.select(AuditLog.subject_id).where(
                AuditLog.action == "picky.saw"
            )
        )
    assert problems == 1
    assert seen == sorted(str(b.id) for b in bought if str(b.id) != bad)


async def test_slow_hook_times_out_and_repeated_failures_suspend_for_that_tenant_only(
    make_runtime, tenant, other_tenant, owner
):
    async def on_customer_created(tenant, event):
        await asyncio.sleep(5)

    runtime = make_runtime(
        plugin_module("slow", on_customer_created=on_customer_created),
        hook_timeout=0.05,
        failure_threshold=2,
    )
    await enable_module(tenant, owner, runtime, "slow")
    await enable_module(other_tenant, owner, runtime, "slow")
    await create_customer(tenant, owner, {"name": "a"})
    await deliver_pending(runtime, tenant)
    assert "slow" in await runtime.enabled(tenant.id)
    await deliver_pending(runtime, tenant, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert "slow" not in await runtime.enabled(tenant.id)
    assert "slow" in await runtime.enabled(other_tenant.id)
    async with tenant_tx(tenant.id):
        kinds = [r["kind"] for r in await PluginProblem.select(PluginProblem.kind)]
    assert kinds == ["timeout", "timeout"]


async def test_concurrent_deliverers_apply_each_event_once(make_runtime, tenant, owner, store):
    calls = []
    runtime = make_runtime(counting_plugin("once", calls))
    await enable_module(tenant, owner, runtime, "once")
    for _ in range(5):
        await buy(tenant, owner, store)
    await asyncio.gather(*(deliver_pending(runtime, tenant) for _ in range(4)))
    assert await audited(tenant, "once.saw") == 5
    async with tenant_tx(tenant.id):
        assert await EventOutbox.count().where(EventOutbox.dispatched_at.is_null()) == 0


async def test_rolled_back_change_emits_no_event(make_runtime, tenant, owner):
    make_runtime()
    with pytest.raises(ValidationFailed):
        await create_customer(tenant, owner, {"name": "x", "phone": "bad"})
    async with tenant_tx(tenant.id):
        assert await EventOutbox.count() == 0


async def test_enable_shows_dependencies_validates_settings_and_audits(
    make_runtime, tenant, owner, store
):
    class Settings(msgspec.Struct, forbid_unknown_fields=True):
        rate: int = 1
        token: str = ""

    runtime = make_runtime(
        plugin_module("base"),
        plugin_module("addon", depends=("base",), settings=Settings, secret_settings=("token",)),
    )
    assert await plan_enable(tenant, runtime, "addon") == ["base", "addon"]
    with pytest.raises(ValidationFailed) as err:
        await enable_module(tenant, owner, runtime, "addon")
    assert err.value.code == "dependencies_required" and "base" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        await enable_module(
            tenant, owner, runtime, "addon", settings={"rate": "fast"}, include_dependencies=True
        )
    assert err.value.field == "settings.rate"
    assert await runtime.enabled(tenant.id) == frozenset()
    newly = await enable_module(
        tenant,
        owner,
        runtime,
        "addon",
        settings={"rate": 5, "token": "abc"},
        include_dependencies=True,
        store_ids=[store],
    )
    assert newly == ["base", "addon"]
    assert await runtime.enabled(tenant.id) == {"base", "addon"}
    assert await runtime.enabled(tenant.id, store_id=uuid.uuid4()) == {"base"}
    await enable_module(tenant, owner, runtime, "addon", settings={"rate": 6, "token": "********"})
    assert (await runtime.settings(tenant.id, "addon")) == {"rate": 6, "token": "abc"}
    with pytest.raises(Conflict):
        await disable_module(tenant, owner, runtime, "base")
    assert await disable_module(tenant, owner, runtime, "base", cascade=True) == ["base", "addon"]
    assert await runtime.enabled(tenant.id) == frozenset()
    assert (
        await audited(tenant, "module.enable") == 2 and await audited(tenant, "module.disable") == 2
    )
    with pytest.raises(NotFound):
        await enable_module(tenant, owner, runtime, "nope")


async def test_plan_allow_list_limits_what_a_tenant_can_enable(make_runtime, tenant, owner):
    runtime = make_runtime(plugin_module("premium"), plugin_module("basic"))
    await set_allowed_modules(tenant.slug, ["basic"], runtime)
    with pytest.raises(ValidationFailed) as err:
        await enable_module(tenant, owner, runtime, "premium")
    assert err.value.code == "not_allowed"
    await enable_module(tenant, owner, runtime, "basic")
    assert [m.id for m in await list_modules(tenant, runtime) if m.allowed] == ["basic"]


async def test_lifecycle_hooks_are_called(make_runtime, tenant, owner):
    seen = []
    runtime = make_runtime(
        plugin_module(
            "life",
            on_plugin_enabled=lambda tenant, settings: seen.append(("enabled", tenant.id)),
            on_plugin_disabled=lambda tenant: seen.append(("disabled", tenant.id)),
            on_tenant_created=lambda tenant: seen.append(("tenant", tenant.slug)),
        )
    )
    await enable_module(tenant, owner, runtime, "life")
    await disable_module(tenant, owner, runtime, "life")
    from tests.conftest import make_tenant

    new = await make_tenant()
    assert seen == [("enabled", tenant.id), ("disabled", tenant.id), ("tenant", new.slug)]


async def test_per_tenant_callers_are_cached_per_enabled_set(make_runtime):
    runtime = make_runtime(
        plugin_module("one", on_tenant_created=lambda tenant: None),
        plugin_module("two", on_tenant_created=lambda tenant: None),
    )
    a = runtime.caller("on_tenant_created", frozenset({"one"}))
    assert runtime.caller("on_tenant_created", frozenset({"one"})) is a
    assert [p for p, _ in runtime.implementations("on_tenant_created", frozenset({"one"}))] == [
        "one"
    ]
    assert sorted(
        p for p, _ in runtime.implementations("on_tenant_created", frozenset({"one", "two"}))
    ) == ["one", "two"]


async def test_a_stuck_backlog_does_not_starve_newer_events(make_runtime, tenant, owner):
    """Events a failing plugin keeps retrying fill the first page; newer ones still go out."""
    import datetime as dt

    from core.customers.service import create_customer
    from core.plugins.delivery import deliver_pending

    seen = []

    async def on_customer_created(tenant, event):
        if event["customer_id"] in stuck:
            raise RuntimeError("not yet")
        seen.append(event["customer_id"])

    runtime = make_runtime(plugin_module("picky", on_customer_created=on_customer_created))
    await enable_module(tenant, owner, runtime, "picky")
    stuck = {str((await create_customer(tenant, owner, {"name": f"s{i}"})).id) for i in range(3)}
    await deliver_pending(runtime, tenant, limit=3)  # the three fail and wait for their retry
    fresh = str((await create_customer(tenant, owner, {"name": "fresh"})).id)
    stats = await deliver_pending(runtime, tenant, limit=3, now=dt.datetime.now(dt.UTC))
    assert seen == [fresh] and stats.delivered == 1

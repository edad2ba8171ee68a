"""Every hookspec is documented and exercised here (the meta-test keeps it that way)."""

import datetime as dt
import inspect
import pathlib
import uuid

import click
import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from core import hookspecs
from core.consent import set_consent
from core.customers import create_customer, merge_customers, update_customer
from core.errors import ValidationFailed
from core.kpis import plugin_kpis
from core.messaging import channels_for
from core.plugins.delivery import deliver_pending
from core.privacy import erase_customer
from core.purchases import record_purchase, record_refund
from core.segments import create_segment, segment_size
from core.types import DeliveryResult, KpiDefinition, MessageChannel, SegmentCondition
from tenants.modules import enable_module
from tests.plugins.conftest import plugin_module

SPECS = sorted(name for name, fn in inspect.getmembers(hookspecs) if hasattr(fn, "mendian_spec"))


def test_every_hookspec_has_docs_with_an_example():
    """Docs and an example for each hookspec; that each one is actually *invoked* by some test
    is checked over the whole suite (``tests/conftest.py``)."""
    from tests.conftest import all_hookspecs

    undocumented = [n for n in SPECS if "Example::" not in (getattr(hookspecs, n).__doc__ or "")]
    assert len(SPECS) >= 20
    assert undocumented == []
    assert set(SPECS) <= all_hookspecs()


async def test_message_templates_belong_to_their_plugin(make_runtime, tenant, other_tenant, owner):
    """A plugin's default template reaches only tenants that enabled it."""
    from core import MessageTemplateDefault
    from core.messaging import MessageRequest, enqueue_many
    from core.tables import Message

    runtime = make_runtime(
        plugin_module(
            "greeter",
            register_message_templates=lambda: [
                MessageTemplateDefault("greeter.hello", "zh-CN", "问候", "{{ name }}，您好")
            ],
        )
    )
    await enable_module(tenant, owner, runtime, "greeter")
    for t in (tenant, other_tenant):
        c = await create_customer(t, owner, {"name": "王芳", "phone": "13912345678"})
        request = MessageRequest(
            customer_id=c.id,
            channel="log",
            template_key="greeter.hello",
            idempotency_key=f"hello-{c.id}",
            source="greeter",
            transactional=True,
        )
        if t is tenant:
            result = await enqueue_many(t, [request], await channels_for(t, runtime))
            assert result.queued == 1
            from core.db import tenant_tx

            async with tenant_tx(t.id, write=False):
                row = await Message.select(Message.body).first()
            assert row["body"] == "王芳，您好"
        else:
            with pytest.raises(ValidationFailed) as err:
                await enqueue_many(t, [request], await channels_for(t, runtime))
            assert err.value.code == "unknown_template"


def test_installed_plugins_holding_personal_data_implement_privacy_hooks(runtime):
    missing = [
        (pid, hook)
        for pid, lp in runtime.registry.plugins.items()
        if lp.manifest.personal_data
        for hook in ("customer_export_data", "customer_erase_data")
        if pid not in runtime.registry.hookimpl_plugins(hook)
    ]
    assert missing == []


async def test_event_hooks_receive_core_events(make_runtime, tenant, owner, store):
    seen = []

    def record(name):
        return lambda tenant, event: seen.append((name, event))

    names = [
        "on_customer_created",
        "on_customer_updated",
        "on_customer_merged",
        "on_customer_erased",
        "on_purchase_recorded",
        "on_purchase_refunded",
        "on_consent_changed",
        "on_interaction_logged",
    ]
    runtime = make_runtime(plugin_module("watcher", **{n: record(n) for n in names}))
    await enable_module(tenant, owner, runtime, "watcher")
    a = await create_customer(tenant, owner, {"name": "a"})
    b = await create_customer(tenant, owner, {"name": "b"})
    await update_customer(tenant, owner, a.id, {"birthday": "1990-01-02"})
    p = await record_purchase(
        tenant,
        owner,
        {
            "store_id": str(store),
            "customer_id": str(a.id),
            "lines": [{"sku": "x", "unit_price": "10"}],
        },
    )
    await record_refund(tenant, owner, {"refund_of": str(p.id)})
    await set_consent(
        tenant, owner, {"customer_id": str(a.id), "purpose": "surveys", "granted": True}
    )
    from core.activity import log_interaction

    await log_interaction(
        tenant, owner, {"customer_id": str(a.id), "channel": "phone", "content": "hi"}
    )
    await merge_customers(tenant, owner, b.id, a.id)
    await erase_customer(tenant, owner, a.id)
    await deliver_pending(runtime, tenant)
    order = [n for n, _e in seen]
    assert order == [
        "on_customer_created",
        "on_customer_created",
        "on_customer_updated",
        "on_purchase_recorded",
        "on_purchase_refunded",
        "on_consent_changed",
        "on_interaction_logged",
        "on_customer_merged",
        "on_customer_erased",
    ]
    events = dict(seen)
    assert events["on_customer_updated"]["fields"] == ["birthday"]
    assert events["on_purchase_refunded"]["refund_of_id"] == str(p.id)
    assert events["on_purchase_refunded"]["refunded_share"] == "1"
    assert events["on_customer_merged"] == {"source_id": str(b.id), "target_id": str(a.id)}


async def test_validate_hooks_veto_with_typed_errors(make_runtime, tenant, owner, store):
    def purchase_validate(tenant, actor, purchase):
        if len(purchase["lines"]) > 1:
            raise ValidationFailed(
                "one line per ticket in this chain", field="lines", code="chain_rule"
            )

    def customer_validate(tenant, actor, customer):
        if not customer.get("phone"):
            raise ValidationFailed("this chain requires a phone", field="phone", code="chain_rule")

    def broken_validate(tenant, actor, purchase):
        raise RuntimeError("bug in a plugin")

    runtime = make_runtime(
        plugin_module(
            "rules", purchase_validate=purchase_validate, customer_validate=customer_validate
        ),
        plugin_module("buggy", purchase_validate=broken_validate),
    )
    await enable_module(tenant, owner, runtime, "rules")
    await enable_module(tenant, owner, runtime, "buggy")
    with pytest.raises(ValidationFailed) as err:
        await create_customer(tenant, owner, {"name": "no phone"}, runtime=runtime)
    assert (err.value.field, err.value.code) == ("phone", "chain_rule")
    line = {"sku": "x", "unit_price": "1"}
    with pytest.raises(ValidationFailed):
        await record_purchase(
            tenant, owner, {"store_id": str(store), "lines": [line, line]}, runtime=runtime
        )
    ok = await record_purchase(
        tenant, owner, {"store_id": str(store), "lines": [line]}, runtime=runtime
    )  # buggy is isolated
    assert ok.amount == 1


async def test_collect_hooks(make_runtime, tenant, owner, store):
    async def sms_send(message):
        return DeliveryResult(ok=True, provider_ref="sms-1")

    async def compute(tenant, period_from, period_to, store_id):
        return 42

    @click.command("hello")
    def hello():
        click.echo("hi")

    @get("/ping", operation_id="extras_ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"pong": "extras"}

    runtime = make_runtime(
        plugin_module(
            "extras",
            register_permissions=lambda: {"extras:use": "Use the extras"},
            register_message_channels=lambda: [
                MessageChannel(name="sms", address="phone", send=sms_send, consent_channel="sms")
            ],
            register_kpis=lambda: [
                KpiDefinition(name="answer", description="the answer", compute=compute)
            ],
            register_cli=lambda: [hello],
            register_routes=lambda: [ping],
            register_graphql=lambda: ["contribution"],
            register_segment_conditions=lambda: [
                SegmentCondition(
                    name="extras_vip",
                    sql="",
                    kind="subquery",
                    description="tagged vip",
                    ops=("eq",),
                    subquery="SELECT customer_id FROM customer_tag WHERE tenant_id = :tenant AND tag {op} {v}",
                )
            ],
        )
    )
    assert runtime.registry.permissions()["extras:use"] == "Use the extras"
    assert "sms" not in (await channels_for(tenant, runtime)).names()
    vip = {"name": f"vip-{uuid.uuid4().hex[:4]}", "filter": {"field": "extras_vip", "value": "vip"}}
    # The condition belongs to the plugin: a tenant without it cannot use it.
    with pytest.raises(ValidationFailed) as err:
        await create_segment(tenant, owner, vip, fields=await runtime.segment_fields(tenant))
    assert err.value.code == "unknown_field"
    await enable_module(tenant, owner, runtime, "extras")
    assert (await channels_for(tenant, runtime)).names() == ["email", "log", "sms", "webhook"]
    now = dt.datetime.now(dt.UTC)
    assert await plugin_kpis(tenant, owner, now, now + dt.timedelta(days=1), runtime=runtime) == {
        "extras": {"answer": 42}
    }
    assert runtime.registry.collect_all("register_cli") == [("extras", [hello])]
    assert [v for _p, v in await runtime.collect(tenant, "register_graphql")] == [["contribution"]]
    await create_customer(tenant, owner, {"name": "v", "tags": ["vip"]})
    fields = await runtime.segment_fields(tenant)
    seg = await create_segment(tenant, owner, vip, fields=fields)
    assert await segment_size(tenant, owner, seg["id"], fields) == 1


async def test_plugin_routes_are_mounted(db, make_runtime):
    from api.app import plugin_routers

    @get("/ping", operation_id="routes_ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"pong": "routes"}

    runtime = make_runtime(plugin_module("routes", register_routes=lambda: [ping]))
    from litestar import Litestar

    async with AsyncTestClient(Litestar(route_handlers=plugin_routers(runtime))) as client:
        response = await client.get("/p/routes/ping")
    assert response.json() == {"pong": "routes"}


async def test_lifecycle_settings_changed(make_runtime, tenant, owner):
    import msgspec

    class Settings(msgspec.Struct, frozen=True):
        level: int = 1

    changes = []
    runtime = make_runtime(
        plugin_module(
            "tunable",
            settings=Settings,
            on_plugin_settings_changed=lambda tenant, settings, previous: changes.append(
                (previous, settings)
            ),
        )
    )
    await enable_module(tenant, owner, runtime, "tunable")
    await enable_module(tenant, owner, runtime, "tunable", settings={"level": 3})
    # Hooks get the plugin's validated settings struct, before and after.
    assert changes == [(Settings(level=1), Settings(level=3))]


def test_the_readmes_hook_reference_is_the_generated_one():
    """Regenerate with ``mendian plugins hooks`` when a hook changes."""
    from api.hookref import hook_table

    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- hooks:begin -->\n", 1)[1].split("<!-- hooks:end -->", 1)[0]
    assert block == hook_table()

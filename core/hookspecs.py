"""Mendian's hook specifications (PLUG-3). Every hook has a docstring and an example.

Kinds: *collect* hooks (``register_*``) return records that the core gathers; *lifecycle* hooks
(``on_plugin_*``, ``on_tenant_created``) and *event* hooks (``on_customer_created``,
``on_purchase_recorded``, …) are notified — event hooks through the durable outbox, once per
plugin, retried until they succeed; *validate* hooks (``*_validate``) may veto with a
:class:`core.errors.ValidationFailed`; *privacy* hooks export and erase a customer's data.

Any hook may be ``async def``. Event hooks receive the tenant and the event payload (JSON-ready)
and run inside that tenant's transaction: what they write commits together with the "processed"
marker, so a retry never applies twice.

What a hook needs is passed in, never fetched from a process-global. Besides the arguments each
spec lists, every tenant-scoped hook (lifecycle, events, validate, privacy) is offered:

* ``settings`` — the plugin's *own* validated settings for that tenant (an instance of its
  manifest's ``settings`` struct, defaults filled in; ``None`` without one);
* ``channels`` — the tenant's message channels and default templates (a
  ``core.ChannelSet``, what ``core.enqueue_messages`` takes).

Declare only the arguments you use (pluggy passes an implementation the subset it names)::

    @hookimpl
    async def on_purchase_recorded(tenant, event, settings):
        await accrue(tenant, event, settings)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import pluggy

if TYPE_CHECKING:
    import click

    from core.context import Actor, TenantInfo
    from core.messaging.channels import ChannelSet
    from core.types import (
        DemoData,
        KpiDefinition,
        MessageChannel,
        MessageTemplateDefault,
        ReportSection,
        ScheduledJob,
        SegmentCondition,
    )

hookspec = pluggy.HookspecMarker("mendian")
hookimpl = pluggy.HookimplMarker("mendian")

__all__ = ["hookimpl", "hookspec"]

# --- collect -----------------------------------------------------------------------------


@hookspec
def register_permissions() -> dict[str, str]:  # type: ignore[empty-body]
    """Permission strings the plugin defines, with a description each.

    Example::

        @hookimpl
        def register_permissions():
            return {"loyalty:redeem": "Redeem points for a customer"}
    """


@hookspec
def register_message_channels() -> list[MessageChannel]:  # type: ignore[empty-body]
    """Channels through which the messaging pipeline can reach customers.

    Example::

        @hookimpl
        def register_message_channels():
            return [MessageChannel(name="sms", address="phone", send=send_sms)]
    """


@hookspec
def register_message_templates() -> list[MessageTemplateDefault]:  # type: ignore[empty-body]
    """Default message templates (per key and locale) the plugin sends with; they reach only
    tenants that enabled the plugin, and a tenant's own template of the same key wins.

    Example::

        @hookimpl
        def register_message_templates():
            return [MessageTemplateDefault(key="visits.thanks", locale="zh-CN",
                                           subject="感谢光临", body="{{ name }}, 感谢您的光临")]
    """


@hookspec
def register_scheduled_jobs() -> list[ScheduledJob]:  # type: ignore[empty-body]
    """Periodic jobs; each runs once per tenant that has the plugin enabled, with the tenant and
    (if ``run`` declares them) ``settings``, ``channels``, ``segment_fields`` and ``now``.

    Example::

        async def expire_points(tenant, settings, now): ...

        @hookimpl
        def register_scheduled_jobs():
            return [ScheduledJob(name="loyalty.expire", cron="0 3 * * *", run=expire_points)]
    """


@hookspec
def register_segment_conditions() -> list[SegmentCondition]:  # type: ignore[empty-body]
    """Fields that segments can filter on (e.g. loyalty tier, NPS). They belong to the plugin:
    only tenants that enabled it can use them (elsewhere a segment naming one is
    ``unknown_field``). Names start with the plugin id.

    Example::

        @hookimpl
        def register_segment_conditions():
            return [SegmentCondition(name="loyalty_tier", kind="subquery", sql="",
                    description="tier code",
                    subquery="SELECT customer_id FROM loyalty_account "
                             "WHERE tenant_id = :tenant AND tier {op} {v}")]
    """


@hookspec
def register_kpis() -> list[KpiDefinition]:  # type: ignore[empty-body]
    """KPIs the plugin contributes to reports.

    Example::

        @hookimpl
        def register_kpis():
            return [KpiDefinition(name="points_issued", description="…", compute=points_issued)]
    """


@hookspec
def register_cli() -> list[click.Command]:  # type: ignore[empty-body]
    """Extra ``mendian`` sub-commands.

    Example::

        @hookimpl
        def register_cli():
            return [my_click_group]
    """


@hookspec
def register_routes() -> list[Any]:  # type: ignore[empty-body]
    """Extra litestar route handlers (public forms, callbacks); mounted under ``/p/<plugin>``.

    Example::

        @hookimpl
        def register_routes():
            return [public_form_handler]
    """


@hookspec
def register_graphql() -> list[Any]:  # type: ignore[empty-body]
    """GraphQL contributions (root fields, fields on Customer/Store/Purchase, node loaders).

    Example::

        @hookimpl
        def register_graphql():
            return [GraphQLContribution(
                queries={"visit_total": strawberry.field(resolver=resolve_total)},
                fields={"Customer": {"visits": strawberry.field(resolver=resolve_visits)}},
            )]
    """


@hookspec
def register_report_sections() -> list[ReportSection]:  # type: ignore[empty-body]
    """Sections of the weekly store and chain report (CORE-14) the plugin contributes; each
    computes a ``ReportData`` (figures, tables, charts) for a tenant, a store (or the chain)
    and a week. They appear only for tenants that enabled the plugin.

    Example::

        async def visits_section(tenant, store_id, start, end) -> ReportData:
            return ReportData(figures=[ReportFigure("visits", {"zh-CN": "到店"}, 42, 37)])

        @hookimpl
        def register_report_sections():
            return [ReportSection(key="visits", title={"zh-CN": "到店", "en": "Visits"},
                                  compute=visits_section)]
    """


# --- lifecycle ---------------------------------------------------------------------------


@hookspec
def on_plugin_enabled(tenant: TenantInfo, settings: Any, channels: ChannelSet) -> None:
    """The plugin was enabled for ``tenant`` (never runs DDL: tables exist already).

    Example::

        @hookimpl
        async def on_plugin_enabled(tenant, settings):
            await create_default_program(tenant, settings)
    """


@hookspec
def on_plugin_disabled(tenant: TenantInfo, settings: Any, channels: ChannelSet) -> None:
    """The plugin was disabled for ``tenant``; its data is kept.

    Example::

        @hookimpl
        def on_plugin_disabled(tenant):
            log.info("loyalty off for %s", tenant.slug)
    """


@hookspec
def on_plugin_settings_changed(
    tenant: TenantInfo, settings: Any, previous: Any, channels: ChannelSet
) -> None:
    """The tenant changed the plugin's settings; ``settings`` and ``previous`` are validated
    instances of the manifest's settings struct.

    Example::

        @hookimpl
        def on_plugin_settings_changed(tenant, settings, previous):
            invalidate_rules_cache(tenant.id)
    """


@hookspec
def on_tenant_created(tenant: TenantInfo, settings: Any, channels: ChannelSet) -> None:
    """A tenant was created (called for every installed plugin).

    Example::

        @hookimpl
        def on_tenant_created(tenant):
            metrics.incr("tenants")
    """


# --- domain events (delivered from the outbox, exactly once per plugin) -------------------


@hookspec
def on_customer_created(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A customer was created. ``event``: ``customer_id``, ``source``.

    Example::

        @hookimpl
        async def on_customer_created(tenant, event):
            await open_card(tenant, UUID(event["customer_id"]))
    """


@hookspec
def on_customer_updated(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A customer's profile changed. ``event``: ``customer_id``, ``fields``.

    Example::

        @hookimpl
        def on_customer_updated(tenant, event):
            if "birthday" in event["fields"]: ...
    """


@hookspec
def on_customer_merged(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """Two customers were merged: re-point your rows from ``source_id`` to ``target_id``.

    Example::

        @hookimpl
        async def on_customer_merged(tenant, event):
            await Account.update({Account.customer_id: event["target_id"]}).where(
                Account.customer_id == event["source_id"])
    """


@hookspec
def on_customer_erased(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A customer was erased (the privacy hook already removed your personal data).

    Example::

        @hookimpl
        def on_customer_erased(tenant, event):
            forget_cached(event["customer_id"])
    """


@hookspec
def on_purchase_recorded(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A sale was recorded. ``event``: ``purchase_id``, ``kind`` (``sale``), ``customer_id``
    (or null), ``store_id``, ``staff_id`` (or null), ``amount`` (decimal string, what was paid),
    ``currency``, ``occurred_at`` (ISO 8601), ``receipt_no``, ``lines`` [{line_no, sku, name,
    category, qty, amount}], and — when a customer is known — ``customer`` {``status``,
    ``birthday`` (ISO date or null), ``birthday_calendar``, ``home_store_id``,
    ``first_purchase`` (true for the customer's first sale)}: what handlers need, so they never
    read the core's tables.

    Example::

        @hookimpl
        async def on_purchase_recorded(tenant, event):
            await accrue_points(tenant, event)
    """


@hookspec
def on_purchase_refunded(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A refund was recorded; as ``on_purchase_recorded`` (``kind`` is ``refund``, amounts are
    negative) plus ``refund_of_id`` and ``refunded_share`` (the paid share of the original that
    was refunded, a decimal string).

    Example::

        @hookimpl
        async def on_purchase_refunded(tenant, event):
            await reverse_points(tenant, event["refund_of_id"], Decimal(event["refunded_share"]))
    """


@hookspec
def on_consent_changed(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """Consent was granted or withdrawn. ``event``: ``customer_id``, ``purpose``, ``channel``, ``granted``.

    Example::

        @hookimpl
        def on_consent_changed(tenant, event):
            if not event["granted"]: cancel_pending_invitations(...)
    """


@hookspec
def on_interaction_logged(
    tenant: TenantInfo, event: dict[str, Any], settings: Any, channels: ChannelSet
) -> None:
    """A contact with a customer was logged. ``event``: ``interaction_id``, ``customer_id``, ``channel``.

    Example::

        @hookimpl
        def on_interaction_logged(tenant, event):
            ...
    """


# --- validate ----------------------------------------------------------------------------


@hookspec
def purchase_validate(
    tenant: TenantInfo, actor: Actor, purchase: dict[str, Any], settings: Any
) -> None:
    """Veto a purchase before it is written by raising ``ValidationFailed``.

    Example::

        @hookimpl
        def purchase_validate(tenant, actor, purchase):
            if len(purchase["lines"]) > 200:
                raise ValidationFailed("too many lines for this chain", field="lines")
    """


@hookspec
def customer_validate(
    tenant: TenantInfo, actor: Actor, customer: dict[str, Any], settings: Any
) -> None:
    """Veto a customer create or update by raising ``ValidationFailed``; on update,
    ``customer`` holds the changed fields and the ``id``.

    Example::

        @hookimpl
        def customer_validate(tenant, actor, customer):
            if not customer.get("phone"):
                raise ValidationFailed("this chain requires a phone", field="phone")
    """


# --- privacy -----------------------------------------------------------------------------


@hookspec
def customer_export_data(  # type: ignore[empty-body]
    tenant: TenantInfo, customer_id: UUID, settings: Any
) -> dict[str, Any]:
    """Everything the plugin holds about the customer, JSON-ready (runs in the tenant transaction).

    Example::

        @hookimpl
        async def customer_export_data(tenant, customer_id):
            return {"ledger": await ledger_rows(customer_id)}
    """


@hookspec
def customer_erase_data(tenant: TenantInfo, customer_id: UUID, settings: Any) -> None:
    """Remove the customer's personal data (keep financial rows under the pseudonymous id).

    Example::

        @hookimpl
        async def customer_erase_data(tenant, customer_id):
            await Card.update({Card.holder_name: ""}).where(Card.customer_id == customer_id)
    """


# --- the demo (``mendian demo``) -----------------------------------------------------------


@hookspec
def demo_settings() -> dict[str, Any]:  # type: ignore[empty-body]
    """The settings ``mendian demo`` enables the plugin with (defaults otherwise): a demo that
    shows what the plugin does (tiers, thresholds, a schedule).

    Example::

        @hookimpl
        def demo_settings():
            return {"tiers": [{"code": "gold", "name": "金卡", "threshold": 5000}]}
    """


@hookspec
async def seed_demo(tenant: TenantInfo, demo: DemoData, settings: Any) -> None:
    """Fill the demo tenant with a year of the plugin's believable activity, built on what the
    core seeded (``demo``: stores, staff by login and role, customers, every sale with its
    store, cashier and time, and a seed for a reproducible ``random.Random``). Write in bulk to
    your own tables inside ``tenant_tx``; the plugin is enabled already. Called once per
    ``mendian demo``, after the core's data, in no order relative to other plugins.

    Example::

        @hookimpl
        async def seed_demo(tenant, demo):
            rng = random.Random(demo.seed)
            async with tenant_tx(tenant.id):
                await insert_rows("visits_note", [{"tenant_id": tenant.id, "id": uuid4(),
                    "customer_id": c, "text": "到店"} for c in rng.sample(demo.customers, 50)])
    """


EVENT_HOOKS: dict[str, str] = {
    "customer.created": "on_customer_created",
    "customer.updated": "on_customer_updated",
    "customer.merged": "on_customer_merged",
    "customer.erased": "on_customer_erased",
    "purchase.recorded": "on_purchase_recorded",
    "purchase.refunded": "on_purchase_refunded",
    "consent.changed": "on_consent_changed",
    "interaction.logged": "on_interaction_logged",
}

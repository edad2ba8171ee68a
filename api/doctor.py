"""``mendian plugins doctor``: what is wrong with the installed plugins, and for a tenant."""

from __future__ import annotations

from core.db import get_database, tenant_tx
from core.plugins import get_runtime
from core.tables import PluginProblem, TenantModule

__all__ = ["diagnose"]


async def diagnose(tenant_slug: str | None) -> tuple[list[tuple[str, str]], bool]:
    runtime = get_runtime()
    registry = runtime.registry
    findings: list[tuple[str, str]] = []
    for q in registry.quarantined.values():
        findings.append(("error", f"{q.id} quarantined: {q.reason}"))
    for pid in registry.dependency_order():
        manifest = registry.manifest(pid)
        findings.append(
            ("ok", f"{pid} {manifest.version} loaded from {registry.plugins[pid].source}")
        )
        if manifest.personal_data:
            missing = [
                h
                for h in ("customer_export_data", "customer_erase_data")
                if pid not in registry.hookimpl_plugins(h)
            ]
            if missing:
                findings.append(
                    (
                        "error",
                        f"{pid} holds personal data but does not implement {', '.join(missing)}",
                    )
                )
        if manifest.piccolo_app:
            module = __import__(manifest.piccolo_app, fromlist=["APP_CONFIG"])
            for table in module.APP_CONFIG.table_classes:
                if not await _table_exists(table._meta.tablename):
                    findings.append(
                        (
                            "error",
                            f"{pid}: table {table._meta.tablename} missing: run `mendian migrate`",
                        )
                    )
    from core.calendars import calendar_data_gaps

    for gap in await calendar_data_gaps(days=60):
        findings.append(("warn", f"calendar: {gap.message} — load it: mendian calendar load FILE"))
    if tenant_slug:
        from tenants.service import get_tenant

        tenant = await get_tenant(tenant_slug)
        async with tenant_tx(tenant.id, write=False):
            suspended = await TenantModule.select().where(
                TenantModule.suspended_until.is_not_null()
            )
            problems = (
                await PluginProblem.select().order_by(PluginProblem.at, ascending=False).limit(20)
            )
        for s in suspended:
            findings.append(
                (
                    "warn",
                    f"{s['plugin_id']} suspended for {tenant_slug} until {s['suspended_until']}",
                )
            )
        for p in problems:
            findings.append(
                (
                    "warn",
                    f"{p['at']:%Y-%m-%d %H:%M} {p['plugin_id']}.{p['hook']} {p['kind']}: {p['message']}",
                )
            )
    return findings, not any(level == "error" for level, _ in findings)


async def _table_exists(name: str) -> bool:
    engine = get_database().engine
    if get_database().is_postgres:
        sql = f"SELECT 1 AS x FROM information_schema.tables WHERE table_name = '{name}'"
    else:
        sql = f"SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = '{name}'"
    from piccolo.querystring import QueryString

    return bool(await engine.run_querystring(QueryString(sql)))

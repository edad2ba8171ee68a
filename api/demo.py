"""``mendian demo``: a demo chain with a year of believable activity — 3 stores, staff in every
role (named, with work e-mail addresses), 2,000 customers, sales served by named cashiers,
sign-ups, revisit tasks done on time or late, consents, targets — then every built-in plugin
enabled (with its ``demo_settings``) and asked to seed its own year (``seed_demo``): loyalty
balances and redemptions, survey answers, complaints, a care campaign. Seeded in bulk, then one
set-based RFM recompute."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any
from uuid import UUID, uuid4

from core.consent import CHANNELS, PURPOSES
from core.context import Actor, TenantInfo
from core.customers.service import cipher, field_context
from core.db import insert_rows, json_text, tenant_tx
from core.errors import Conflict, NotFound
from core.kpis import set_target
from core.plugins import PluginRuntime
from core.reports import last_week, report_link
from core.rfm import recompute_all
from core.tables import (
    ConsentRecord,
    Customer,
    CustomerStats,
    CustomerTag,
    Purchase,
    PurchaseLine,
)
from core.types import DemoData, DemoSale
from tenants.credentials import create_api_key, create_staff
from tenants.modules import enable_module
from tenants.service import create_store, create_tenant, delete_tenant, get_tenant

__all__ = ["DemoResult", "Progress", "builtin_plugins", "seed_demo"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欣晨雪琳晶妍茜婷"
STORES = [
    ("SH01", "上海南京路店", "华东"),
    ("BJ01", "北京王府井店", "华北"),
    ("GZ01", "广州天河店", "华南"),
]
# Per store: (login suffix, role, name, share of the store's sales served). Cashiers differ
# (one sells more, one less), so the staff league of the report has a story to tell.
TEAM = [
    ("manager", "store_manager", "店长", 0.10),
    ("cashier1", "cashier", "收银甲", 0.50),
    ("cashier2", "cashier", "收银乙", 0.30),
    ("service", "service_agent", "客服", 0.10),
]
STAFF_NAMES = {
    "SH01": ["周敏", "李娜", "王强", "陈静"],
    "BJ01": ["刘洋", "张伟", "赵丽", "孙杰"],
    "GZ01": ["黄婷", "吴浩", "郑欣", "林涛"],
}
CATALOGUE = [
    ("SKU-TEA-01", "龙井茶 250g", "茶叶", "128.00"),
    ("SKU-TEA-02", "铁观音 200g", "茶叶", "98.00"),
    ("SKU-SNK-01", "坚果礼盒", "零食", "68.00"),
    ("SKU-SNK-02", "牛肉干", "零食", "35.50"),
    ("SKU-DRK-01", "矿泉水 24瓶", "饮料", "29.90"),
    ("SKU-DRK-02", "果汁 1L", "饮料", "12.80"),
    ("SKU-HMS-01", "保温杯", "家居", "159.00"),
    ("SKU-HMS-02", "毛巾套装", "家居", "45.00"),
    ("SKU-GFT-01", "中秋月饼礼盒", "礼品", "288.00"),
    ("SKU-GFT-02", "春节年货礼包", "礼品", "399.00"),
]
TAGS = ["vip", "老客户", "喜欢茶叶", "企业客户", "价格敏感", "生日会员", "线上活跃"]
PASSWORD = "demo-password-2026"  # noqa: S105 - the documented demo login, printed by `mendian demo`

# (stage, done, total): the CLI draws one progress bar per stage.
Progress = Callable[[str, int, int], None]


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


@dataclass
class DemoResult:
    tenant: TenantInfo
    api_key: str
    customers: int
    purchases: int
    seconds: float
    rfm_seconds: float
    plugins: list[str] = field(default_factory=list)
    plugin_seconds: dict[str, float] = field(default_factory=dict)
    report_path: str = ""  # last week's chain report, for the ``hq`` login (a signed path)
    store_report_path: str = ""  # last week's SH01 report, for its manager


def builtin_plugins() -> list[str]:
    """The plugins Mendian ships (its own entry points, ``plugins.*``), in name order."""
    return sorted(
        ep.name for ep in entry_points(group="mendian.plugins") if ep.value.startswith("plugins.")
    )


async def _reset(slug: str, reset: bool) -> None:
    try:
        await get_tenant(slug)
    except NotFound:
        return
    if not reset:
        raise Conflict(f"tenant {slug!r} exists; pass --reset to recreate it", field="slug")
    await delete_tenant(slug)


async def _team(
    tenant: TenantInfo, owner: Actor, stores: list[UUID]
) -> tuple[dict[str, UUID], dict[UUID, tuple[str, UUID | None]]]:
    logins: dict[str, UUID] = {}
    roles: dict[UUID, tuple[str, UUID | None]] = {}
    for login, role, name in (("boss", "owner", "陈总"), ("hq", "hq_manager", "总部运营 何经理")):
        staff_id = await create_staff(
            tenant,
            owner,
            {
                "login": login,
                "name": name,
                "password": PASSWORD,
                "role": role,
                "email": f"{login}@demo.mendian.example",
            },
        )
        logins[login], roles[staff_id] = staff_id, (role, None)
    for (code, _name, _region), store_id in zip(STORES, stores, strict=True):
        for (suffix, role, title, _share), person in zip(TEAM, STAFF_NAMES[code], strict=True):
            login = f"{code.lower()}-{suffix}"
            staff_id = await create_staff(
                tenant,
                owner,
                {
                    "login": login,
                    "name": f"{person}（{title}）",
                    "password": PASSWORD,
                    "role": role,
                    "store_ids": [store_id],
                    "email": f"{login}@demo.mendian.example",
                },
            )
            logins[login], roles[staff_id] = staff_id, (role, store_id)
    return logins, roles


def _pick_cashier(rng: random.Random, team: list[tuple[UUID, float]]) -> UUID:
    return rng.choices([s for s, _ in team], weights=[w for _, w in team])[0]


async def seed_demo(
    *,
    slug: str = "demo",
    customers: int = 2000,
    reset: bool = False,
    seed: int = 20261122,
    runtime: PluginRuntime | None = None,
    plugins: list[str] | None = None,
    progress: Progress = _quiet,
    now: dt.datetime | None = None,
) -> DemoResult:
    """Seed the demo chain; ``plugins`` (default: every built-in one installed) are enabled and
    seed their own data through ``seed_demo``."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
    await _reset(slug, reset)
    tenant = await create_tenant({"slug": slug, "name": "门店演示连锁"}, runtime=runtime)
    owner = Actor(kind="system", id="demo")
    stores: list[UUID] = []
    for code, name, region in STORES:
        row = await create_store(tenant, owner, {"code": code, "name": name, "region": region})
        stores.append(row["id"])
    logins, roles = await _team(tenant, owner, stores)
    sellers = {
        store: [
            (logins[f"{code.lower()}-{suffix}"], share) for suffix, _role, _title, share in TEAM
        ]
        for (code, _n, _r), store in zip(STORES, stores, strict=True)
    }
    _key_id, api_key = await create_api_key(tenant, owner, name="demo POS", role="owner")
    progress("stores and staff", 1, 1)

    c = cipher()
    now = now or dt.datetime.now(dt.UTC)
    used_phones: set[str] = set()
    customer_ids: list[UUID] = []
    sales: list[DemoSale] = []
    batch = 250
    for start in range(0, customers, batch):
        async with tenant_tx(tenant.id):
            rows, tags, stats, consents, purchases, lines = [], [], [], [], [], []
            for i in range(start, min(start + batch, customers)):
                cid = uuid4()
                customer_ids.append(cid)
                phone = ""
                while not phone or phone in used_phones:
                    phone = f"+86139{rng.randrange(10**8):08d}"
                used_phones.add(phone)
                email = f"customer{i}@example.com" if rng.random() < 0.3 else None
                created = now - dt.timedelta(days=rng.randrange(1, 720), hours=rng.randrange(24))
                home = rng.choice(stores)
                my_tags = rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2]))
                signed_up_by = _pick_cashier(rng, sellers[home]) if rng.random() < 0.6 else None
                rows.append(
                    Customer(
                        id=cid,
                        name=rng.choice(SURNAMES)
                        + "".join(rng.choices(GIVEN, k=rng.choice([1, 2]))),
                        phone_enc=c.encrypt(phone, context=field_context(tenant.id, "phone")),
                        phone_hash=c.blind_index(tenant.id, phone),
                        email_enc=c.encrypt(email, context=field_context(tenant.id, "email"))
                        if email
                        else None,
                        email_hash=c.blind_index(tenant.id, email) if email else None,
                        gender=rng.choice(["male", "female", "female", "unknown"]),
                        birthday=dt.date(
                            rng.randrange(1955, 2005), rng.randrange(1, 13), rng.randrange(1, 29)
                        ),
                        birthday_calendar="lunar" if rng.random() < 0.15 else "solar",
                        tags=json_text(my_tags),
                        source=rng.choice(
                            ["registration_form", "membership_card", "pos", "questionnaire"]
                        ),
                        card_no=f"M{100000 + i}",
                        home_store_id=home,
                        created_by_staff_id=signed_up_by,
                        created_at=created,
                        updated_at=created,
                    )
                )
                tags += [CustomerTag(customer_id=cid, tag=t) for t in my_tags]
                stats.append(CustomerStats(customer_id=cid))
                seq = 0
                for purpose in PURPOSES:
                    if rng.random() < {"marketing": 0.6, "surveys": 0.6, "service": 0.9}[purpose]:
                        seq += 1
                        channel = rng.choice([ch for ch in CHANNELS if ch != "any"])
                        consents.append(
                            ConsentRecord(
                                customer_id=cid,
                                purpose=purpose,
                                channel=channel,
                                granted=True,
                                source="demo",
                                recorded_at=created,
                                seq=seq,
                            )
                        )
                        if purpose == "marketing" and rng.random() < 0.2:
                            seq += 1
                            consents.append(
                                ConsentRecord(
                                    customer_id=cid,
                                    purpose=purpose,
                                    channel=channel,
                                    granted=False,
                                    source="reply:退订",
                                    recorded_at=created + dt.timedelta(days=10),
                                    seq=seq,
                                )
                            )
                # A year of visits, most to the home store, none before the customer existed.
                n = min(int(rng.expovariate(1 / 5)), 40)
                for _ in range(n):
                    pid = uuid4()
                    when = now - dt.timedelta(seconds=rng.random() * 365 * 86400)
                    if when < created:
                        continue
                    store = home if rng.random() < 0.8 else rng.choice(stores)
                    cashier = _pick_cashier(rng, sellers[store])
                    total = 0
                    for line_no in range(1, rng.randint(1, 4) + 1):
                        sku, name, cat, price = rng.choice(CATALOGUE)
                        qty = rng.randint(1, 3)
                        unit = int(price.replace(".", ""))
                        total += unit * qty
                        lines.append(
                            PurchaseLine(
                                purchase_id=pid,
                                line_no=line_no,
                                sku=sku,
                                name=name,
                                category=cat,
                                qty_milli=qty * 1000,
                                unit_price_minor=unit,
                                amount_minor=unit * qty,
                            )
                        )
                    purchases.append(
                        Purchase(
                            id=pid,
                            customer_id=cid,
                            store_id=store,
                            staff_id=cashier,
                            kind="sale",
                            occurred_at=when,
                            amount_minor=total,
                            currency=tenant.currency,
                            channel="pos",
                            receipt_no=f"R{pid.hex[:16]}",
                            request_hash="demo",
                        )
                    )
                    sales.append(DemoSale(pid, cid, store, cashier, when, total))
            for table, items in (
                (Customer, rows),
                (CustomerTag, tags),
                (CustomerStats, stats),
                (ConsentRecord, consents),
                (Purchase, purchases),
                (PurchaseLine, lines),
            ):
                for k in range(0, len(items), 500):
                    await table.insert(*items[k : k + 500])
        progress("customers and sales", min(start + batch, customers), customers)

    await _tasks(tenant, rng, customer_ids, stores, roles, now)
    await _targets(tenant, owner, stores, now)
    progress("tasks and targets", 1, 1)
    rfm_started = time.perf_counter()
    await recompute_all(tenant)
    rfm_seconds = time.perf_counter() - rfm_started
    progress("RFM", 1, 1)

    enabled: list[str] = []
    timings: dict[str, float] = {}
    if runtime is not None:
        demo = DemoData(
            stores=stores,
            staff=logins,
            roles=roles,
            customers=customer_ids,
            sales=sorted(sales, key=lambda s: s.occurred_at),
            start=now - dt.timedelta(days=365),
            now=now,
            seed=seed,
        )
        enabled, timings = await _plugins(tenant, owner, runtime, plugins, demo, progress)
    week = last_week(now, tenant.timezone)
    chain = report_link(tenant, None, week, tenant.locale, staff_id=logins["hq"], base="", now=now)
    first = report_link(
        tenant, stores[0], week, tenant.locale, staff_id=logins["sh01-manager"], base="", now=now
    )
    return DemoResult(
        tenant=tenant,
        api_key=api_key,
        customers=customers,
        purchases=len(sales),
        seconds=time.perf_counter() - started,
        rfm_seconds=rfm_seconds,
        plugins=enabled,
        plugin_seconds=timings,
        report_path=chain.page,
        store_report_path=first.page,
    )


async def _tasks(
    tenant: TenantInfo,
    rng: random.Random,
    customers: list[UUID],
    stores: list[UUID],
    roles: dict[UUID, tuple[str, UUID | None]],
    now: dt.datetime,
) -> None:
    """Revisit calls (回访) over the year: most done, by the store's service agent or manager,
    most by their due time; a few still open, some of them overdue."""
    doers = {
        store: [s for s, (role, at) in roles.items() if at == store and role != "cashier"]
        for store in stores
    }
    tasks: list[dict[str, Any]] = []
    for customer in rng.sample(customers, min(len(customers), max(1, len(customers) // 4))):
        store = rng.choice(stores)
        due = now - dt.timedelta(days=rng.uniform(-14, 360))
        owner_id = rng.choice(doers[store])
        done = due < now and rng.random() < 0.85
        late = rng.random() < 0.2
        completed = due + dt.timedelta(hours=rng.uniform(2, 72) if late else -rng.uniform(1, 48))
        tasks.append(
            dict(
                tenant_id=tenant.id,
                id=uuid4(),
                customer_id=customer,
                store_id=store,
                owner_staff_id=owner_id,
                title="回访：购买后关怀",
                due_at=due,
                status="done" if done else "open",
                completed_at=min(completed, now) if done else None,
                completed_by=owner_id if done else None,
                notes="",
                revisit_plan_id=None,
                created_at=due - dt.timedelta(days=7),
            )
        )
    async with tenant_tx(tenant.id):
        for k in range(0, len(tasks), 500):
            await insert_rows("task", tasks[k : k + 500])


async def _targets(tenant: TenantInfo, owner: Actor, stores: list[UUID], now: dt.datetime) -> None:
    """This month's and last month's targets: the chain's net sales, each store's sign-ups."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(tenant.timezone)).date()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    for month in (last_month, this_month):
        await set_target(
            tenant,
            owner,
            kpi="core.net_sales",
            period="month",
            period_start=month,
            target="220000",
            runtime=None,
        )
        for i, store in enumerate(stores):
            await set_target(
                tenant,
                owner,
                kpi="core.new_customers",
                period="month",
                period_start=month,
                target=str(30 + 10 * i),
                store_id=store,
                runtime=None,
            )


async def _plugins(
    tenant: TenantInfo,
    owner: Actor,
    runtime: PluginRuntime,
    wanted: list[str] | None,
    demo: DemoData,
    progress: Progress,
) -> tuple[list[str], dict[str, float]]:
    """Enable the plugins with their demo settings, then let each seed its year."""
    installed = set(runtime.registry.plugins)
    ids = [p for p in (wanted if wanted is not None else builtin_plugins()) if p in installed]
    all_of_them = frozenset(ids)
    settings: dict[str, Any] = {}
    for plugin_id, fn in runtime.implementations("demo_settings", all_of_them):
        settings[plugin_id] = fn()
    for plugin_id in ids:
        await enable_module(
            tenant,
            owner,
            runtime,
            plugin_id,
            settings=settings.get(plugin_id),
            include_dependencies=True,
        )
    enabled = await runtime.enabled(tenant.id)
    timings: dict[str, float] = {}
    seeders = runtime.implementations("seed_demo", enabled)
    for done, (plugin_id, fn) in enumerate(seeders, start=1):
        started = time.perf_counter()
        await fn(**await runtime.offer(tenant, plugin_id, {"tenant": tenant, "demo": demo}, fn))
        timings[plugin_id] = time.perf_counter() - started
        progress("modules", done, len(seeders))
    return sorted(enabled), timings

"""``mendian demo``: a demo chain — 3 stores, staff in every role, 2,000 customers, a year of
purchases, a mix of consents — seeded in bulk, then one set-based RFM recompute."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from core.consent import CHANNELS, PURPOSES
from core.context import Actor, TenantInfo
from core.customers.service import cipher, field_context
from core.db import json_text, tenant_tx
from core.errors import Conflict, NotFound
from core.rfm import recompute_all
from core.tables import ConsentRecord, Customer, CustomerStats, CustomerTag, Purchase, PurchaseLine
from tenants.credentials import create_api_key, create_staff
from tenants.service import create_store, create_tenant, delete_tenant, get_tenant

__all__ = ["DemoResult", "seed_demo"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欣晨雪琳晶妍茜婷"
STORES = [
    ("SH01", "上海南京路店", "华东"),
    ("BJ01", "北京王府井店", "华北"),
    ("GZ01", "广州天河店", "华南"),
]
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
ROLES = ["store_manager", "cashier", "service_agent"]
PASSWORD = "demo-password-2026"  # noqa: S105 - the documented demo login, printed by `mendian demo`


@dataclass
class DemoResult:
    tenant: TenantInfo
    api_key: str
    customers: int
    purchases: int
    seconds: float
    rfm_seconds: float


async def seed_demo(
    *,
    slug: str = "demo",
    customers: int = 2000,
    reset: bool = False,
    seed: int = 20261122,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DemoResult:
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
    try:
        await get_tenant(slug)
        if not reset:
            raise Conflict(f"tenant {slug!r} exists; pass --reset to recreate it", field="slug")
        await delete_tenant(slug)
    except NotFound:
        pass
    tenant = await create_tenant({"slug": slug, "name": "门店演示连锁 Demo Chain"})
    owner = Actor(kind="system", id="demo")
    stores: list[UUID] = []
    for code, name, region in STORES:
        row = await create_store(tenant, owner, {"code": code, "name": name, "region": region})
        stores.append(row["id"])
    await create_staff(
        tenant, owner, {"login": "boss", "name": "老板", "password": PASSWORD, "role": "owner"}
    )
    await create_staff(
        tenant,
        owner,
        {"login": "hq", "name": "总部经理", "password": PASSWORD, "role": "hq_manager"},
    )
    for (code, _n, _r), store_id in zip(STORES, stores, strict=True):
        for role in ROLES:
            await create_staff(
                tenant,
                owner,
                {
                    "login": f"{code.lower()}-{role}",
                    "name": f"{code} {role}",
                    "password": PASSWORD,
                    "role": role,
                    "store_ids": [store_id],
                },
            )
    _key_id, api_key = await create_api_key(tenant, owner, name="demo POS", role="owner")
    progress("stores, staff and API key created")

    c = cipher()
    now = dt.datetime.now(dt.UTC)
    used_phones: set[str] = set()
    purchase_total = 0
    batch = 250
    for start in range(0, customers, batch):
        async with tenant_tx(tenant.id):
            rows, tags, stats, consents, purchases, lines = [], [], [], [], [], []
            for i in range(start, min(start + batch, customers)):
                cid = uuid4()
                phone = ""
                while not phone or phone in used_phones:
                    phone = f"+86139{rng.randrange(10**8):08d}"
                used_phones.add(phone)
                email = f"customer{i}@example.com" if rng.random() < 0.3 else None
                created = now - dt.timedelta(days=rng.randrange(30, 720))
                my_tags = rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2]))
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
                        tags=json_text(my_tags),
                        source=rng.choice(
                            ["registration_form", "membership_card", "pos", "questionnaire"]
                        ),
                        card_no=f"M{100000 + i}",
                        home_store_id=rng.choice(stores),
                        created_at=created,
                        updated_at=created,
                    )
                )
                tags += [CustomerTag(customer_id=cid, tag=t) for t in my_tags]
                stats.append(CustomerStats(customer_id=cid))
                seq = 0
                for purpose in PURPOSES:
                    if rng.random() < {"marketing": 0.6, "surveys": 0.5, "service": 0.9}[purpose]:
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
                n = min(int(rng.expovariate(1 / 5)), 40)
                for _ in range(n):
                    pid = uuid4()
                    when = now - dt.timedelta(days=rng.random() * 365)
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
                            store_id=rng.choice(stores),
                            kind="sale",
                            occurred_at=when,
                            amount_minor=total,
                            currency=tenant.currency,
                            channel="pos",
                            receipt_no=f"R{pid.hex[:16]}",
                            request_hash="demo",
                        )
                    )
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
            purchase_total += len(purchases)
        progress(f"{min(start + batch, customers)}/{customers} customers")
    rfm_started = time.perf_counter()
    await recompute_all(tenant)
    rfm_seconds = time.perf_counter() - rfm_started
    return DemoResult(
        tenant=tenant,
        api_key=api_key,
        customers=customers,
        purchases=purchase_total,
        seconds=time.perf_counter() - started,
        rfm_seconds=rfm_seconds,
    )

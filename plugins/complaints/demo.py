"""``mendian demo``: a year of complaints, praise and damaged goods in every store, so the
register, ``complaintReport`` and the weekly report's section have a story: about three
complaints a store a week (goods, cashier errors, attitude, waiting), most closed after a
satisfied follow-up, a few acknowledged or resolved late, a few reopened; the last days'
still open (some overdue, one waiting for the customer); one product (the 果汁 1L, SKU-DRK-02)
complained about in every store in the last weeks, so it is flagged for the supplier; praise
for the cashiers every week or so; a damaged-goods record or two a month.

Rows are written in bulk with the same SLA due times intake computes (the store's calendar).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from core import DemoData, TenantInfo, insert_rows, json_text, seal_pii, tenant_tx, to_minor
from plugins.complaints import sla
from plugins.complaints.settings import ComplaintsSettings
from plugins.complaints.timeline import STEPS

__all__ = ["DEMO_SETTINGS", "seed"]

DEMO_SETTINGS: dict[str, Any] = {}
PER_STORE_WEEK = 3
HOUR = dt.timedelta(hours=1)
# (category, summary, sku, product, channel, resolution type, resolution): the everyday
# cases name a product without its SKU, so only the juice below is flagged for its supplier.
CASES = [
    ("goods.quality", "茶叶受潮结块", "", "铁观音 200g", "in_store", "exchange", "换货"),
    ("goods.expired", "牛肉干过期", "", "牛肉干", "phone", "return", "退货退款"),
    (
        "goods.price_label",
        "标价与收银价格不一致",
        "",
        "",
        "in_store",
        "price_adjustment",
        "按标价退差价",
    ),
    (
        "goods.out_of_stock",
        "促销保温杯缺货",
        "",
        "保温杯",
        "wechat",
        "explanation",
        "到货后电话通知",
    ),
    (
        "service.cashier.overcharge",
        "收银多收款",
        "",
        "",
        "in_store",
        "return",
        "退还多收款项并道歉",
    ),
    (
        "service.cashier.short_change",
        "少找零钱",
        "",
        "",
        "phone",
        "compensation",
        "补足零钱并赠送积分",
    ),
    (
        "service.cashier.long_wait",
        "排队结账时间过长",
        "",
        "",
        "online_form",
        "service_change",
        "高峰期增开收银台",
    ),
    (
        "service.attitude",
        "营业员态度冷淡",
        "",
        "",
        "phone",
        "explanation",
        "店长致电道歉，员工培训",
    ),
    (
        "environment.safety",
        "门口地面湿滑",
        "",
        "",
        "letter",
        "service_change",
        "增设防滑垫与提示牌",
    ),
]
FLAGGED = (
    "goods.quality",
    "果汁变质有异味",
    "SKU-DRK-02",
    "果汁 1L",
    "phone",
    "return",
    "退货退款",
)
PRAISE = [
    "收银员耐心帮我找零钱，态度非常好",
    "帮忙把年货礼包提到车上，非常感谢",
    "推荐的茶叶很合口味，讲解专业",
    "电话回访很及时，问题解决得很快",
]
DAMAGE = [
    ("SKU-HMS-01", "保温杯", "customer", False, "", "顾客照价赔偿", "159.00"),
    ("SKU-GFT-01", "中秋月饼礼盒", "store", False, "", "店方责任，不向顾客收费", "0"),
    ("SKU-DRK-01", "矿泉水 24瓶", "store", True, "手指轻微划伤，已处理", "赠送购物卡致歉", "50.00"),
    ("SKU-TEA-01", "龙井茶 250g", "supplier", False, "", "包装破损，退回供应商", "0"),
]


def _at(day: dt.date, zone: ZoneInfo, rng: random.Random) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(rng.randint(10, 19), rng.randint(0, 59)), zone)
    return local.astimezone(dt.UTC)


def _action(
    tenant: TenantInfo, cid: UUID, action: str, at: dt.datetime, staff: UUID | None, note: str
) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "id": uuid4(),
        "complaint_id": cid,
        "action": action,
        "step": STEPS.get(action, ""),
        "actor": f"staff:{staff}" if staff else "system:demo",
        "staff_id": staff,
        "note": note,
        "data": "{}",
        "at": at,
    }


def _lifecycle(
    rng: random.Random, received: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None, bool, bool]:
    """When it was acknowledged and resolved (None: not yet), reopened, customer satisfied."""
    ack = received + HOUR * rng.choice((0.5, 1, 2, 3, 5, 20, 30))
    resolved = ack + HOUR * rng.choice((2, 4, 8, 24, 30, 50, 90))
    reopened = rng.random() < 0.08
    if reopened:
        resolved += HOUR * 48
    return (
        (ack if ack <= now else None),
        (resolved if resolved <= now else None),
        reopened,
        (rng.random() < 0.9),
    )


async def seed(tenant: TenantInfo, demo: DemoData, settings: ComplaintsSettings) -> None:
    rng = random.Random(demo.seed + 13)  # noqa: S311 - reproducible fake data
    now: dt.datetime = demo.now
    stores = list(demo.stores)
    calendars = await sla.calendars_for(tenant, stores)
    complaints: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    praise: list[dict[str, Any]] = []
    damage: list[dict[str, Any]] = []
    start_day = (demo.start + dt.timedelta(days=1)).date()
    days = (now.date() - start_day).days
    for store in stores:
        calendar = calendars[store]
        zone = calendar.tz
        handlers = demo.staff_in("store_manager", store) + demo.staff_in("service_agent", store)
        cashiers = demo.staff_in("cashier", store) or handlers
        dates = sorted(
            start_day + dt.timedelta(days=rng.randrange(days + 1))
            for _ in range(days * PER_STORE_WEEK // 7)
        )
        # The juice everyone complains about: four times per store in the last three weeks.
        flagged = [now.date() - dt.timedelta(days=rng.randint(1, 20)) for _ in range(4)]
        cases = [(d, rng.choice(CASES)) for d in dates] + [(d, FLAGGED) for d in flagged]
        for day, case in cases:
            received = _at(day, zone, rng)
            if received > now:
                continue
            category, summary, sku, product, channel, rtype, resolution = case
            handler = rng.choice(handlers) if handlers else None
            receiver = rng.choice(cashiers) if cashiers else None
            involved = [rng.choice(cashiers)] if category.startswith("service") and cashiers else []
            policy = sla.policy_for(
                settings, kind="complaint", category=category, channel=channel, severity="normal"
            )
            ack, done, reopened, satisfied = _lifecycle(rng, received, now)
            waiting = ack is not None and done is None and rng.random() < 0.15
            cycle_start = done - HOUR * 50 if (reopened and done) else received
            due = sla.deadlines(
                calendar,
                received_at=received,
                cycle_started_at=cycle_start,
                business_time=policy.business_time,
                ack_minutes=policy.acknowledge_minutes,
                resolve_minutes=policy.resolve_minutes,
                pauses=[(ack, now + dt.timedelta(days=3650))] if waiting and ack else [],
                kind="complaint",
                warn_pct=settings.warn_at_pct,
            )
            closed = done + HOUR * 30 if done and done + HOUR * 30 <= now else None
            state = (
                "closed"
                if closed
                else "resolved"
                if done
                else "waiting"
                if waiting
                else "in_progress"
                if ack
                else "received"
            )
            cid = uuid4()
            complaints.append(
                {
                    "tenant_id": tenant.id,
                    "id": cid,
                    "number": f"C-{received:%Y%m%d}-{cid.hex[:6].upper()}",
                    "kind": "complaint",
                    "channel": channel,
                    "state": state,
                    "severity": "normal",
                    "category": category,
                    "store_id": store,
                    "spot": "",
                    "occurred_at": received - HOUR,
                    "customer_id": rng.choice(demo.customers) if demo.customers else None,
                    "contact_name": seal_pii(tenant, "complaint.name", ""),
                    "contact_phone": seal_pii(tenant, "complaint.phone", ""),
                    "contact_index": "",
                    "staff_involved": json_text([str(s) for s in involved]),
                    "summary": summary,
                    "description": summary,
                    "circumstances": "",
                    "sku": sku,
                    "product": product,
                    "receiver_id": receiver,
                    "handler_id": handler if ack else None,
                    "hq_only": False,
                    "level": 0,
                    "promised_reply_at": received + HOUR * 24,
                    "received_at": received,
                    "acknowledged_at": ack,
                    "resolved_at": done,
                    "followed_up_at": closed,
                    "closed_at": closed,
                    "business_time": policy.business_time,
                    "ack_minutes": policy.acknowledge_minutes,
                    "resolve_minutes": policy.resolve_minutes,
                    **due.columns(),
                    "waiting_since": ack if waiting else None,
                    "pauses": "[]",
                    "cycle": 1 if reopened and done else 0,
                    "cycle_started_at": cycle_start,
                    "resolution_type": rtype if done else "",
                    "resolution": resolution if done else "",
                    "compensation_points": 0,
                    "compensation_coupon": "",
                    "follow_up": "call" if done else "",
                    "satisfied": satisfied if closed else None,
                    "dissatisfied_count": 1 if reopened and done else 0,
                    "source": "",
                    "token_hash": "",
                    "created_by": "system:demo",
                    "created_at": received,
                    "updated_at": closed or done or ack or received,
                }
            )
            actions.append(_action(tenant, cid, "received", received, receiver, summary))
            for action, at, note in (
                ("acknowledged", ack, "感谢您的反映"),
                ("waiting", ack if waiting else None, "等待顾客提供小票"),
                ("resolved", done, resolution),
                ("closed", closed, "顾客满意"),
            ):
                if at is not None:
                    actions.append(_action(tenant, cid, action, at, handler, note))
        # Praise: about one a store a week, for one or two of its cashiers.
        for _ in range(days // 7):
            day = start_day + dt.timedelta(days=rng.randrange(days + 1))
            at = _at(day, zone, rng)
            if at > now or not cashiers:
                continue
            named = rng.sample(cashiers, k=min(len(cashiers), rng.choice((1, 1, 2))))
            praise.append(
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "store_id": store,
                    "staff_ids": json_text([str(s) for s in named]),
                    "channel": rng.choice(("in_store", "phone", "wechat", "letter")),
                    "customer_id": rng.choice(demo.customers) if demo.customers else None,
                    "contact_name": seal_pii(tenant, "praise.name", ""),
                    "contact_phone": seal_pii(tenant, "praise.phone", ""),
                    "text": rng.choice(PRAISE),
                    "received_at": at,
                    "recorded_by": "system:demo",
                    "created_at": at,
                }
            )
        # Damaged goods: one or two a month, the last one this week.
        for i in range(days // 20):
            day = (
                now.date() - dt.timedelta(days=2)
                if i == 0
                else start_day + dt.timedelta(days=rng.randrange(days + 1))
            )
            sku, product, liable, hurt, injury, settlement, amount = rng.choice(DAMAGE)
            at = _at(day, zone, rng)
            damage.append(
                {
                    "tenant_id": tenant.id,
                    "id": uuid4(),
                    "store_id": store,
                    "customer_id": None,
                    "complaint_id": None,
                    "sku": sku,
                    "product": product,
                    "occurred_at": min(at, now),
                    "customer_hurt": hurt,
                    "injury": injury,
                    "responsibility": liable,
                    "settlement": settlement,
                    "settlement_minor": to_minor(amount, tenant.currency, field="amount"),
                    "description": "顾客不慎碰落商品",
                    "recorded_by": "system:demo",
                    "created_at": min(at, now),
                }
            )
    async with tenant_tx(tenant.id):
        for table, rows in (
            ("complaints_complaint", complaints),
            ("complaints_action", actions),
            ("complaints_praise", praise),
            ("complaints_damage", damage),
        ):
            for i in range(0, len(rows), 200):
                await insert_rows(table, rows[i : i + 200])

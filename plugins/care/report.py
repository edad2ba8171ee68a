"""The care section of the weekly store and chain report (``register_report_sections``): the
campaigns whose runs started in the week, their messages (queued, sent, suppressed by reason),
the held-out control group, call tasks, purchasers and purchase rate of treatment against
control with the uplift and the two-proportion p-value, and offers granted and redeemed.

Purchases count within each campaign's ``window_days`` of its run's start (they may fall after
the week). Campaigns are chain-wide: a store's report shows the chain's figures (said in a
note)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from uuid import UUID

from core import ReportData, ReportFigure, ReportSection, ReportTable, TenantInfo, fetch
from plugins.care.results import GroupResult, Results

__all__ = ["report_section", "report_sections", "week_results"]

WEEK = dt.timedelta(days=7)


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


async def week_results(
    tenant: TenantInfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[dict[str, Any], Results]]:
    """Each campaign with a run started in ``[start, end)`` and the results of those runs, by
    name."""
    from plugins.care.campaigns import get_campaign
    from plugins.care.results import campaign_results

    rows = await fetch(
        "SELECT DISTINCT campaign_id FROM care_run WHERE tenant_id = {} AND trigger <> 'test' "
        "AND started_at >= {} AND started_at < {}",
        tenant.id,
        start,
        end,
    )
    out = []
    for r in rows:
        campaign = await get_campaign(tenant, UUID(str(r["campaign_id"])))
        if campaign is not None:
            out.append((campaign, await campaign_results(tenant, campaign, started=(start, end))))
    return sorted(out, key=lambda pair: (str(pair[0]["name"]), str(pair[0]["id"])))


def _totals(found: list[tuple[dict[str, Any], Results]]) -> dict[str, int]:
    t = GroupResult()
    held = 0
    for _campaign, res in found:
        g = res.treatment
        t.queued += g.queued
        t.sent += g.sent
        t.tasks += g.tasks
        t.offers_granted += g.offers_granted
        t.offers_redeemed += g.offers_redeemed
        t.suppressed.update(g.suppressed)
        held += res.control.targeted
    return {
        "campaigns": len(found),
        "queued": t.queued,
        "sent": t.sent,
        "suppressed": sum(t.suppressed.values()),
        "held_out": held,
        "tasks": t.tasks,
        "offers_granted": t.offers_granted,
        "offers_redeemed": t.offers_redeemed,
    }


FIGURES = [
    ("campaigns", _label("开展的关怀活动", "Campaigns run")),
    ("queued", _label("排队发送的消息", "Messages queued")),
    ("sent", _label("已发送的消息", "Messages sent")),
    ("suppressed", _label("未发送（同意、频次等）", "Messages suppressed")),
    ("held_out", _label("对照组（未发送）", "Held out (control)")),
    ("tasks", _label("回访电话任务", "Call tasks")),
    ("offers_granted", _label("发放的礼遇", "Offers granted")),
    ("offers_redeemed", _label("已使用的礼遇", "Offers redeemed")),
]
KINDS = {
    "birthday": "生日 birthday",
    "festival": "节日 festival",
    "thank_you": "感谢 thank-you",
    "revisit": "回访 revisit",
    "winback": "召回 win-back",
    "points_expiring": "积分到期 points expiring",
    "one_off": "一次性 one-off",
}


def _campaign_row(campaign: dict[str, Any], res: Results) -> list[Any]:
    t, c = res.treatment, res.control
    controlled = c.targeted > 0
    p = res.p_value
    return [
        campaign["name"],
        KINDS.get(campaign["kind"], campaign["kind"]),
        t.targeted + c.targeted,
        t.queued,
        t.sent,
        sum(t.suppressed.values()),
        c.targeted,
        t.tasks,
        t.purchasers,
        round(t.rate, 4) if t.targeted else None,
        c.purchasers if controlled else None,
        round(c.rate, 4) if controlled else None,
        round(res.uplift, 4) if controlled and t.targeted else None,
        round(p, 4) if p is not None and controlled else None,
        t.offers_granted,
        t.offers_redeemed,
    ]


CAMPAIGN_COLUMNS = [
    (_label("活动", "Campaign"), "text"),
    (_label("类型", "Kind"), "text"),
    (_label("目标顾客", "Targeted"), "number"),
    (_label("排队", "Queued"), "number"),
    (_label("已发送", "Sent"), "number"),
    (_label("未发送", "Suppressed"), "number"),
    (_label("对照组", "Held out"), "number"),
    (_label("回访任务", "Call tasks"), "number"),
    (_label("购买人数（发送组）", "Purchasers (treatment)"), "number"),
    (_label("购买率（发送组）", "Purchase rate (treatment)"), "percent"),
    (_label("购买人数（对照组）", "Purchasers (control)"), "number"),
    (_label("购买率（对照组）", "Purchase rate (control)"), "percent"),
    (_label("提升", "Uplift"), "change"),
    (_label("p 值", "p-value"), "number"),
    (_label("发放礼遇", "Offers granted"), "number"),
    (_label("已使用礼遇", "Offers redeemed"), "number"),
]


async def report_section(
    tenant: TenantInfo, store_id: UUID | None, start: dt.datetime, end: dt.datetime
) -> ReportData:
    found = await week_results(tenant, start, end)
    this = _totals(found)
    before = _totals(await week_results(tenant, start - WEEK, start))
    reasons: Counter[str] = Counter()
    for _campaign, res in found:
        reasons.update(res.treatment.suppressed)
    tables = []
    if found:
        tables.append(
            ReportTable(
                "campaigns",
                _label("关怀活动效果（发送组对照组）", "Campaigns: treatment against control"),
                [label for label, _fmt in CAMPAIGN_COLUMNS],
                [_campaign_row(campaign, res) for campaign, res in found],
                formats=[fmt for _label_, fmt in CAMPAIGN_COLUMNS],
            )
        )
    if reasons:
        tables.append(
            ReportTable(
                "suppressed",
                _label("未发送原因", "Suppressed by reason"),
                [_label("原因", "Reason"), _label("消息数", "Messages")],
                [[reason, n] for reason, n in sorted(reasons.items(), key=lambda i: (-i[1], i[0]))],
                formats=["text", "number"],
            )
        )
    return ReportData(
        figures=[
            ReportFigure(
                key,
                label,
                this[key],
                before[key],
                better="lower" if key == "suppressed" else "higher",
            )
            for key, label in FIGURES
        ],
        tables=tables,
        notes=["关怀活动为全连锁数据 / campaigns are chain-wide"] if store_id else [],
    )


def report_sections() -> list[ReportSection]:
    return [
        ReportSection(
            key="campaigns",
            title=_label("客户关怀", "Customer care campaigns"),
            compute=report_section,
            order=45,
        )
    ]

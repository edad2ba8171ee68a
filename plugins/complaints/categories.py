"""Complaint categories: seed 003's tree (goods, service, equipment and environment) with codes
and zh-CN/en names, merged with the tenant's own (``settings.categories``: new codes extend the
tree under their parent code, a built-in code renames it, ``active: false`` hides it)."""

from __future__ import annotations

from dataclasses import dataclass

from core import ValidationFailed
from plugins.complaints.settings import ComplaintsSettings

__all__ = ["BUILTIN", "Category", "category_tree", "check_category"]


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str
    builtin: bool
    active: bool = True

    @property
    def parent(self) -> str:
        return self.code.rpartition(".")[0]


BUILTIN: tuple[tuple[str, str, str], ...] = (
    ("goods", "商品原因", "Goods"),
    ("goods.quality", "商品质量低劣", "Poor quality"),
    ("goods.info", "商品信息不全", "Incomplete product information"),
    ("goods.expired", "商品过期", "Expired"),
    ("goods.out_of_stock", "商品不全、畅销商品缺货", "Out of stock"),
    ("goods.price_higher", "定价高于其他商家", "Priced higher than elsewhere"),
    ("goods.price_label", "标价不清、双重价格", "Unclear or double price labels"),
    ("service", "服务原因", "Service"),
    ("service.attitude", "营业员态度恶劣", "Staff attitude"),
    ("service.ethics", "职业道德差", "Poor professional ethics"),
    ("service.skill", "业务不熟练", "Lack of skill"),
    ("service.cashier", "收银作业不当", "Cashier errors"),
    ("service.cashier.overcharge", "多收款", "Overcharged"),
    ("service.cashier.short_change", "少找钱", "Short change"),
    ("service.cashier.long_wait", "等候时间过长", "Long wait"),
    ("service.missing", "服务项目不全", "Missing services"),
    ("service.after_sales", "售后服务不及时", "Late after-sales service"),
    ("environment", "设备与环境原因", "Equipment and environment"),
    ("environment.equipment", "设备故障", "Equipment out of order"),
    ("environment.hygiene", "卫生环境差", "Cleanliness"),
    ("environment.safety", "安全隐患", "Safety hazard"),
    ("other", "其他", "Other"),
)


def category_tree(settings: ComplaintsSettings) -> list[Category]:
    """Every category of the tenant in tree order (a parent before its children)."""
    merged: dict[str, Category] = {
        code: Category(code, zh, en, builtin=True) for code, zh, en in BUILTIN
    }
    for own in settings.categories:
        builtin = own.code in merged and merged[own.code].builtin
        merged[own.code] = Category(own.code, own.zh, own.en or own.zh, builtin, own.active)
    return sorted(merged.values(), key=lambda c: c.code.split("."))


def check_category(settings: ComplaintsSettings, code: str) -> str:
    """``code`` if it names an active category of the tenant (``''``: none given)."""
    if not code:
        return ""
    if not any(c.code == code and c.active for c in category_tree(settings)):
        raise ValidationFailed(
            f"unknown complaint category {code!r}", field="category", code="unknown_category"
        )
    return code

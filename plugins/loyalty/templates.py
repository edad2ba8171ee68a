"""The loyalty programme's default message templates (zh-CN first, en), registered through
``register_message_templates``: they reach only tenants with loyalty enabled, and a tenant's
own template of the same key wins."""

from __future__ import annotations

from core import MessageTemplateDefault

__all__ = ["EXPIRING_NOTICE", "TEMPLATES", "TIER_NOTICE"]

TIER_NOTICE = "loyalty.tier_changed"
EXPIRING_NOTICE = "loyalty.points_expiring"

TEMPLATES = [
    MessageTemplateDefault(
        TIER_NOTICE, "zh-CN", "会员等级变更", "{{ name }}，您好！您的会员等级已变为{{ tier }}。"
    ),
    MessageTemplateDefault(
        TIER_NOTICE,
        "en",
        "Your membership level",
        "Hello {{ name }}, your level is now {{ tier }}.",
    ),
    MessageTemplateDefault(
        EXPIRING_NOTICE,
        "zh-CN",
        "积分即将过期",
        "{{ name }}，您好！您有{{ points }}{{ unit }}将于{{ date }}过期，欢迎到店使用。",
    ),
    MessageTemplateDefault(
        EXPIRING_NOTICE,
        "en",
        "Points expiring soon",
        "Hello {{ name }}, {{ points }} {{ unit }} expire on {{ date }}.",
    ),
]

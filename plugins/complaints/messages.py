"""Default message templates (zh-CN first, en), registered through
``register_message_templates``; a tenant's own template of the same key wins.

``complaints.escalation`` (to staff): ``number``, ``summary``, ``stage``, ``trigger``,
``level``. ``complaints.follow_up`` (to the customer, when the follow-up is a message):
``number``, ``status_url``."""

from __future__ import annotations

from core import MessageTemplateDefault

__all__ = ["TEMPLATES"]

TEMPLATES = [
    MessageTemplateDefault(
        "complaints.escalation",
        "zh-CN",
        "投诉升级 {{ number }}",
        "投诉 {{ number }}（{{ summary }}）已升级至第 {{ level }} 级"
        "（{{ stage }} {{ trigger }}），请尽快处理。",
    ),
    MessageTemplateDefault(
        "complaints.escalation",
        "en",
        "Complaint {{ number }} escalated",
        "Complaint {{ number }} ({{ summary }}) escalated to level {{ level }} "
        "({{ stage }} {{ trigger }}). Please act on it.",
    ),
    MessageTemplateDefault(
        "complaints.follow_up",
        "zh-CN",
        "{{ tenant }}",
        "您的投诉 {{ number }} 已处理，您对处理结果满意吗？请告诉我们：{{ status_url }}",
    ),
    MessageTemplateDefault(
        "complaints.follow_up",
        "en",
        "{{ tenant }}",
        "Your complaint {{ number }} was resolved. Are you satisfied? Tell us: {{ status_url }}",
    ),
]

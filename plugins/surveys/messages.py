"""Default message templates (zh-CN first, en), registered through
``register_message_templates``; a tenant's own template of the same key wins. Variables:
``name`` (the customer), ``tenant``, ``survey`` (its title), ``url``, ``store``, ``days``."""

from __future__ import annotations

from core import MessageTemplateDefault

__all__ = ["TEMPLATES"]

TEMPLATES = [
    MessageTemplateDefault(
        "surveys.invitation",
        "zh-CN",
        "{{ survey }}",
        "{{ name }}，您好！感谢您光临{{ store or tenant }}。邀请您花一分钟完成满意度调查：{{ url }}"
        "（{{ days }}天内有效）",
    ),
    MessageTemplateDefault(
        "surveys.invitation",
        "en",
        "{{ survey }}",
        "Hello {{ name }}, thank you for visiting {{ store or tenant }}. Would you take a minute "
        "to tell us how we did? {{ url }} (valid for {{ days }} days)",
    ),
    MessageTemplateDefault(
        "surveys.complaint_follow_up",
        "zh-CN",
        "{{ survey }}",
        "{{ name }}，您好！您反映的问题已处理。请告诉我们您是否满意：{{ url }}",
    ),
    MessageTemplateDefault(
        "surveys.complaint_follow_up",
        "en",
        "{{ survey }}",
        "Hello {{ name }}, we have dealt with the problem you reported. Are you satisfied "
        "with the result? {{ url }}",
    ),
]

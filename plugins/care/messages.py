"""Default message templates (zh-CN first, en), registered through
``register_message_templates``; a tenant's own template of the same key wins. Variables:
``name`` (the customer), ``tenant``, ``text`` (the campaign's or variant's message), ``unsubscribe_url`` (CORE-9: every
marketing message carries it)."""

from __future__ import annotations

from core import MessageTemplateDefault

__all__ = ["TEMPLATES"]

TEMPLATES = [
    MessageTemplateDefault(
        "care.message", "zh-CN", "{{ tenant }}", "{{ text }} 退订：{{ unsubscribe_url }}"
    ),
    MessageTemplateDefault(
        "care.message", "en", "{{ tenant }}", "{{ text }} Unsubscribe: {{ unsubscribe_url }}"
    ),
]

"""Tenant-authored templates, rendered in jinja2's sandbox (no attribute tricks, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from core.errors import ValidationFailed
from core.tables import MessageTemplate

__all__ = ["CORE_TEMPLATES", "check_template", "render", "resolve_template"]

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
MAX_TEMPLATE = 10_000

# (key, locale) -> (subject, body): the core's defaults. Plugins ship theirs through the
# ``register_message_templates`` hook; they reach only tenants that enabled the plugin (the
# runtime puts them in the tenant's ``ChannelSet``), so no module-level table is mutated.
CORE_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("generic", "zh-CN"): ("{{ subject }}", "{{ name }}，您好：{{ text }}"),
    ("generic", "en"): ("{{ subject }}", "Hello {{ name }}, {{ text }}"),
    ("core.weekly_report", "zh-CN"): (
        "{{ scope }} 周报 {{ week_start }} 至 {{ week_end }}",
        "{{ name }}，您好：\n\n{{ scope }} 上周（{{ week_start }} 至 {{ week_end }}）的周报已生成。"
        "\n\n{{ summary }}\n\n查看完整周报（图表、员工业绩、目标和各模块数据，30 天内有效）："
        "\n{{ url }}\n",
    ),
    ("core.weekly_report", "en"): (
        "{{ scope }} weekly report, {{ week_start }} to {{ week_end }}",
        "Hello {{ name }},\n\nthe weekly report of {{ scope }} for {{ week_start }} to "
        "{{ week_end }} is ready.\n\n{{ summary }}\n\nThe full report (charts, staff, targets "
        "and every module's figures; the link works for 30 days):\n{{ url }}\n",
    ),
}


def check_template(subject: str, body: str) -> None:
    """Compile both parts (a plugin's default that does not compile fails at startup)."""
    compile_template(subject)
    compile_template(body)


@lru_cache(maxsize=2048)
def compile_template(source: str) -> Any:
    if len(source) > MAX_TEMPLATE:
        raise ValidationFailed("template is too long", field="template", code="too_long")
    try:
        return _env.from_string(source)
    except TemplateError as exc:
        raise ValidationFailed(
            f"template error: {exc}", field="template", code="invalid_template"
        ) from None


def render(source: str, context: dict[str, Any]) -> str:
    try:
        return str(compile_template(source).render(**context))
    except ValidationFailed:
        raise
    except Exception as exc:  # undefined variables, sandbox violations
        raise ValidationFailed(
            f"template error: {exc}", field="template", code="render_failed"
        ) from None


async def resolve_template(
    key: str,
    locale: str,
    fallback_locale: str,
    defaults: Mapping[tuple[str, str], tuple[str, str]] = CORE_TEMPLATES,
) -> tuple[str, str]:
    """The tenant's template for (key, locale), else its fallback locale, else ``defaults``
    (the core's and the enabled plugins')."""
    for loc in dict.fromkeys((locale, fallback_locale)):
        row = (
            await MessageTemplate.select(MessageTemplate.subject, MessageTemplate.body)
            .where(MessageTemplate.key == key, MessageTemplate.locale == loc)
            .first()
        )
        if row is not None:
            return row["subject"], row["body"]
    for loc in dict.fromkeys((locale, fallback_locale, "zh-CN", "en")):
        if (key, loc) in defaults:
            return defaults[(key, loc)]
    raise ValidationFailed(f"no template {key!r}", field="template_key", code="unknown_template")

"""Tenant-authored templates, rendered in jinja2's sandbox (no attribute tricks, no I/O)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from core.errors import ValidationFailed
from core.tables import MessageTemplate

__all__ = ["DEFAULT_TEMPLATES", "register_default_template", "render", "resolve_template"]

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
MAX_TEMPLATE = 10_000

# (key, locale) -> (subject, body): defaults shipped by the core and plugins.
DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("generic", "zh-CN"): ("{{ subject }}", "{{ name }}，您好：{{ text }}"),
    ("generic", "en"): ("{{ subject }}", "Hello {{ name }}, {{ text }}"),
}


def register_default_template(key: str, locale: str, subject: str, body: str) -> None:
    compile_template(subject)
    compile_template(body)
    DEFAULT_TEMPLATES[(key, locale)] = (subject, body)


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


async def resolve_template(key: str, locale: str, fallback_locale: str) -> tuple[str, str]:
    """The tenant's template for (key, locale), else its fallback locale, else the defaults."""
    for loc in dict.fromkeys((locale, fallback_locale)):
        row = (
            await MessageTemplate.select(MessageTemplate.subject, MessageTemplate.body)
            .where(MessageTemplate.key == key, MessageTemplate.locale == loc)
            .first()
        )
        if row is not None:
            return row["subject"], row["body"]
    for loc in dict.fromkeys((locale, fallback_locale, "zh-CN", "en")):
        if (key, loc) in DEFAULT_TEMPLATES:
            return DEFAULT_TEMPLATES[(key, loc)]
    raise ValidationFailed(f"no template {key!r}", field="template_key", code="unknown_template")

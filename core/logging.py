"""Logging that never carries a phone number or an email address (CORE-10)."""

from __future__ import annotations

import logging
import re

__all__ = ["MaskingFilter", "install_masking", "mask_text"]

_PHONE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_text(text: str) -> str:
    """Mask mainland mobile numbers (``139****7777``) and emails (``w***@example.com``)."""
    text = _PHONE.sub(lambda m: f"{m.group(2)}****{m.group(4)}", text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_masking() -> None:
    """Mask every record that reaches the root handlers (idempotent)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    saq = logging.getLogger("saq")
    if saq.level == logging.NOTSET:  # one INFO line per enqueued job: per sale, in the API
        saq.setLevel(logging.WARNING)
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())

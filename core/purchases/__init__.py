"""Purchases and refunds (CORE-6), recorded idempotently.

Idempotent twice over: on ``(tenant, receipt_no)`` and on ``(tenant, idempotency_key)``. A
replay with the same payload returns the original purchase (``replayed=True``); the same key
with a different payload is :class:`IdempotencyMismatch`. Concurrent duplicates meet the unique
index: one insert wins, the others read the winner.
"""

from core.purchases._common import get_purchase, load
from core.purchases.refunds import record_refund
from core.purchases.sales import record_purchase
from core.purchases.schemas import (
    CHANNELS,
    LineInput,
    PurchaseInput,
    PurchaseLineView,
    PurchaseView,
    RefundInput,
    RefundLine,
)

__all__ = [
    "CHANNELS",
    "LineInput",
    "PurchaseInput",
    "PurchaseLineView",
    "PurchaseView",
    "RefundInput",
    "RefundLine",
    "get_purchase",
    "load",
    "record_purchase",
    "record_refund",
]

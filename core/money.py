"""Exact money: ``Decimal`` at the edges, integer minor units in the database."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ValidationFailed

__all__ = ["from_minor", "to_minor"]

# ISO 4217 minor units for the currencies a tenant may choose; default 2.
MINOR_UNITS = {"CNY": 2, "HKD": 2, "TWD": 0, "JPY": 0, "KRW": 0, "USD": 2, "EUR": 2, "SGD": 2}
MAX_AMOUNT = Decimal("100000000")  # a single line or ticket above 100 million is a typo


def exponent(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def to_minor(value: Decimal | str | int, currency: str, *, field: str) -> int:
    """``Decimal('12.30')`` → ``1230``; more decimals than the currency has is an error."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed("not a decimal amount", field=field, code="invalid_amount") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise ValidationFailed("amount out of range", field=field, code="invalid_amount")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(
            f"{currency} amounts have at most {exponent(currency)} decimals",
            field=field,
            code="invalid_amount",
        )
    return int(scaled)


def from_minor(value: int, currency: str) -> Decimal:
    places = exponent(currency)
    return (Decimal(value).scaleb(-places)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )

"""Credit amounts: exact decimals, half-up to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

_EXACT = Context(prec=60)


def exact_amount(monthly_fee: Decimal, percent: Decimal) -> Decimal:
    """``monthly_fee`` x ``percent`` / 100, exactly (before rounding)."""
    return _EXACT.divide(_EXACT.multiply(monthly_fee, percent), Decimal(100))


def half_up(amount: Decimal, minor_unit: int) -> Decimal:
    """``amount`` rounded half-up to ``minor_unit`` decimal places."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit), rounding=ROUND_HALF_UP, context=_EXACT)


def credit_amount(monthly_fee: Decimal, percent: Decimal, minor_unit: int) -> Decimal:
    """``percent`` of ``monthly_fee``, half-up to the minor unit."""
    return half_up(exact_amount(monthly_fee, percent), minor_unit)

"""Credit amounts: exact decimals, half-up to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

_EXACT = Context(prec=60)


def credit_amount(monthly_fee: Decimal, percent: Decimal, minor_unit: int) -> Decimal:
    raw = _EXACT.divide(_EXACT.multiply(monthly_fee, percent), Decimal(100))
    return raw.quantize(Decimal(1).scaleb(-minor_unit), rounding=ROUND_HALF_UP, context=_EXACT)

"""Amounts in a currency's minor units (JPY 0 decimals, USD 2, BHD 3), from Babel's CLDR data.

The same source of truth as the account import (`babel.numbers.get_currency_precision`). Without
a currency (None) amounts are in cents, as they were before currencies were told apart.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision

DEFAULT_PLACES = 2


@lru_cache(maxsize=512)
def places(currency: str | None) -> int:
    """The currency's decimals (Babel's default, 2, for a code it does not know)."""
    return DEFAULT_PLACES if not currency else get_currency_precision(currency.upper())


@lru_cache(maxsize=512)
def minor_unit(currency: str | None) -> Decimal:
    """The smallest amount of the currency: 1 for JPY, 0.01 for USD, 0.001 for BHD."""
    return Decimal(1).scaleb(-places(currency))


def round_down(value: Decimal, currency: str | None) -> Decimal:
    """Truncate to the currency's minor unit."""
    return value.quantize(minor_unit(currency), rounding=ROUND_DOWN)


def round_up(value: Decimal, currency: str | None) -> Decimal:
    """Round up to the currency's minor unit."""
    return value.quantize(minor_unit(currency), rounding=ROUND_UP)


def round_half_even(value: Decimal, currency: str | None) -> Decimal:
    """Round to the nearest minor unit (banker's rounding, Decimal's default)."""
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)


def is_whole(value: Decimal, currency: str | None) -> bool:
    """True when `value` is a whole number of the currency's minor units."""
    return value.is_finite() and value % minor_unit(currency) == 0

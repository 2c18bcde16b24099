"""Installment schedules exact to the currency's minor unit: equal installments, the last absorbs
the rounding (or the debtor's own amount each time, the last paying what is left)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from backend.services.policy import money
from bot.facts import Installment

PER_YEAR = {"weekly": 52, "biweekly": 26, "monthly": 12}


@lru_cache(maxsize=4096)  # offers rebuild the same schedules many times per turn
def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_date(first: date, frequency: str, n: int) -> date:
    """The n-th (0-based) due date of a schedule."""
    if frequency == "monthly":
        return add_months(first, n)
    return first + timedelta(days=n * (7 if frequency == "weekly" else 14))


def max_count(frequency: str, months: int) -> int:
    """How many installments of `frequency` fit in `months`."""
    return months * PER_YEAR[frequency] // 12


def amounts(
    total: Decimal, count: int, down: Decimal | None = None, currency: str | None = None
) -> list[Decimal]:
    """`count` amounts adding up to `total` exactly, each a whole number of the currency's minor
    units (when `total` is); the last absorbs the rounding; a larger first one when `down` asks."""
    regular = money.round_down(total / count, currency)
    if down is not None and count > 1 and down > regular:
        return [down, *amounts(total - down, count - 1, currency=currency)]
    return [regular] * (count - 1) + [total - regular * (count - 1)]


def count_at_most(total: Decimal, amount: Decimal) -> int:
    """The fewest installments of at most `amount` that pay `total` (rounded up, exactly)."""
    whole, rest = divmod(total, amount)
    return int(whole) + (1 if rest else 0)


def capped(total: Decimal, amount: Decimal) -> list[Decimal]:
    """`amount` each time until the last, which pays what is left (at most `amount`)."""
    count = count_at_most(total, amount)
    return [amount] * (count - 1) + [total - amount * (count - 1)]


def dated(values: Sequence[Decimal], frequency: str, first: date) -> tuple[Installment, ...]:
    """`values` due one `frequency` apart from `first`."""
    return tuple(
        Installment(due_date(first, frequency, i), amount) for i, amount in enumerate(values)
    )


def build(
    total: Decimal, count: int, frequency: str, first: date, down: Decimal | None = None,
    currency: str | None = None,
) -> tuple[Installment, ...]:
    """The full schedule of `count` installments."""
    return dated(amounts(total, count, down, currency), frequency, first)

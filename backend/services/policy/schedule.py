"""Installment schedules exact to the cent: equal installments, the last absorbs the rounding."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from bot.facts import CENT, Installment

PER_YEAR = {"weekly": 52, "biweekly": 26, "monthly": 12}


def cents_down(value: Decimal) -> Decimal:
    """Truncate to the cent."""
    return value.quantize(CENT, rounding=ROUND_DOWN)


def cents_up(value: Decimal) -> Decimal:
    """Round up to the cent."""
    return value.quantize(CENT, rounding=ROUND_UP)


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


def amounts(total: Decimal, count: int, down: Decimal | None = None) -> list[Decimal]:
    """`count` amounts adding up to `total` exactly; a larger first one when `down` asks."""
    if down is not None and count > 1 and down > cents_down(total / count):
        rest = amounts(total - down, count - 1)
        return [down, *rest]
    regular = cents_down(total / count)
    return [regular] * (count - 1) + [total - regular * (count - 1)]


def build(
    total: Decimal, count: int, frequency: str, first: date, down: Decimal | None = None
) -> tuple[Installment, ...]:
    """The full schedule."""
    return tuple(
        Installment(due_date(first, frequency, i), amount)
        for i, amount in enumerate(amounts(total, count, down))
    )

"""Date arithmetic for resolving what debtors say against a reference day."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_today(reference_time: datetime, timezone: str | None) -> date:
    """The debtor's calendar day at `reference_time` (naive times are read in `timezone`)."""
    if timezone is None:
        return reference_time.date()
    zone = ZoneInfo(timezone)
    if reference_time.tzinfo is None:
        return reference_time.replace(tzinfo=zone).date()
    return reference_time.astimezone(zone).date()


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def clamped(year: int, month: int, day: int) -> date | None:
    """A valid date, clamping the day to the month's length; None for impossible months/days."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def weekday_from(today: date, weekday: int, *, past: bool, skip_week: bool = False) -> date:
    """The next (or, when `past`, the previous) `weekday` strictly after (before) `today`."""
    if past:
        back = (today.weekday() - weekday) % 7 or 7
        return today - timedelta(days=back)
    ahead = (weekday - today.weekday()) % 7 or 7
    target = today + timedelta(days=ahead)
    if skip_week and target.isocalendar()[1] == today.isocalendar()[1]:
        target += timedelta(days=7)
    return target


def day_of_month(today: date, day: int, *, past: bool) -> date | None:
    """The `day` of this month if still ahead (or behind, when `past`), else of the next (last)."""
    this = clamped(today.year, today.month, day)
    if this is None:
        return None
    if past:
        return this if this <= today else clamped(*_shift(today, -1), day)
    return this if this >= today else clamped(*_shift(today, 1), day)


def nearest_year(today: date, month: int, day: int) -> date | None:
    """`month`/`day` in whichever year puts it closest to today (past or future)."""
    options = [clamped(today.year + delta, month, day) for delta in (-1, 0, 1)]
    valid = [d for d in options if d is not None]
    return min(valid, key=lambda d: abs((d - today).days)) if valid else None


def _shift(today: date, months: int) -> tuple[int, int]:
    moved = add_months(today.replace(day=1), months)
    return moved.year, moved.month

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


def exact(year: int, month: int, day: int) -> date | None:
    """The date as written; None when it does not exist ("Feb 30" is no date, not Feb 28:
    a promise must never land on a day the debtor did not say)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


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
    """The next `day` of a month from today on (or the last one up to today, when `past`):
    "the 31st" said in November is December 31, not November 30."""
    if not 1 <= day <= 31:
        return None
    step = -1 if past else 1
    for months in range(13):
        found = exact(*_shift(today, step * months), day)
        if found is not None and (found <= today if past else found >= today):
            return found
    return None


def nearest_year(today: date, month: int, day: int) -> date | None:
    """`month`/`day` in whichever year puts it closest to today (past or future)."""
    options = [exact(today.year + delta, month, day) for delta in (-1, 0, 1)]
    valid = [d for d in options if d is not None]
    return min(valid, key=lambda d: abs((d - today).days)) if valid else None


def _shift(today: date, months: int) -> tuple[int, int]:
    moved = add_months(today.replace(day=1), months)
    return moved.year, moved.month

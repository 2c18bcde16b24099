"""The clock every part of Parley reads time from: UTC inside, debtor-local at the edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current time, always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until told otherwise (sandbox mode, simulations, tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_utc(start) if start else datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (must be timezone-aware)."""
        self._now = ensure_utc(when)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._now += delta
        return self._now


def ensure_utc(when: datetime) -> datetime:
    """Return `when` in UTC; naive datetimes are refused rather than guessed."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()} has no timezone")
    return when.astimezone(UTC)

"""Quiet hours across every timezone a debtor may be in: only the overlap of the windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WindowState:
    """Whether `now` is allowed in every zone, when it next is, and since when it was closed."""

    open: bool
    next_open: datetime | None
    closed_since: datetime | None
    local_times: dict[str, str]


def window_state(now: datetime, zones: tuple[str, ...], start: time, end: time) -> WindowState:
    """Evaluate the intersection of `start <= local < end` over `zones` at `now`."""
    local = {z: now.astimezone(ZoneInfo(z)).strftime("%Y-%m-%d %H:%M") for z in zones}
    if _open_everywhere(now, zones, start, end):
        return WindowState(True, None, None, local)
    closed_since = min(_last_close(now, ZoneInfo(z), end) for z in zones)
    return WindowState(False, _next_open(now, zones, start, end), closed_since, local)


def _open_everywhere(moment: datetime, zones: tuple[str, ...], start: time, end: time) -> bool:
    return all(start <= moment.astimezone(ZoneInfo(z)).time() < end for z in zones)


def _next_open(now: datetime, zones: tuple[str, ...], start: time, end: time) -> datetime | None:
    candidates = sorted(
        opening
        for z in zones
        for days in range(0, 4)
        if (opening := _local_at(now, ZoneInfo(z), days, start)) > now
    )
    return next((c for c in candidates if _open_everywhere(c, zones, start, end)), None)


def _last_close(now: datetime, zone: ZoneInfo, end: time) -> datetime:
    for days in (0, -1, -2):
        closing = _local_at(now, zone, days, end)
        if closing <= now:
            return closing
    raise AssertionError("a closing time within two days always exists")


def _local_at(now: datetime, zone: ZoneInfo, days: int, at: time) -> datetime:
    day = now.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, at, tzinfo=zone).astimezone(now.tzinfo)

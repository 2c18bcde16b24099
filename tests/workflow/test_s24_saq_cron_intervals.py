"""A periodic job's interval becomes a cron expression that fires that often under SAQ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from croniter import croniter

from backend.workflow.saq_runner import interval_cron

START = datetime(2026, 11, 30, 0, 0, 30, tzinfo=UTC)


def _gaps(cron: str, count: int = 6) -> set[timedelta]:
    it = croniter(cron, START)
    fires = [it.get_next(datetime) for _ in range(count)]
    return {b - a for a, b in zip(fires, fires[1:], strict=False)}


@pytest.mark.parametrize(("interval", "gap"), [
    (timedelta(minutes=5), timedelta(minutes=5)),
    (timedelta(minutes=15), timedelta(minutes=15)),
    (timedelta(hours=1), timedelta(hours=1)),
    (timedelta(hours=6), timedelta(hours=6)),
    (timedelta(days=1), timedelta(days=1)),
])
def test_the_cron_fires_as_often_as_the_interval(interval: timedelta, gap: timedelta) -> None:
    assert _gaps(interval_cron(interval)) == {gap}


def test_a_daily_job_does_not_fire_every_hour() -> None:
    # "*/1440 * * * *" matches minute 0 of every hour: the daily audit head would log hourly.
    assert timedelta(hours=1) not in _gaps(interval_cron(timedelta(days=1)))

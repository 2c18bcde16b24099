"""The in-process scheduler runs jobs when the injected clock says they are due."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.jobs.scheduler import JobScheduler
from bot.clock import SettableClock


async def test_jobs_run_when_due_and_a_failure_does_not_stop_others(clock: SettableClock) -> None:
    scheduler = JobScheduler(clock)
    calls: list[str] = []

    async def boom(now: datetime) -> None:
        raise RuntimeError("broken job")

    async def tick(now: datetime) -> None:
        calls.append(now.isoformat())

    scheduler.every("boom", timedelta(minutes=5), boom)
    scheduler.every("tick", timedelta(minutes=5), tick)
    assert await scheduler.run_due() == ["boom", "tick"]
    clock.advance(timedelta(minutes=4))
    assert await scheduler.run_due() == []
    clock.advance(timedelta(minutes=1))
    assert await scheduler.run_due() == ["boom", "tick"]
    assert len(calls) == 2

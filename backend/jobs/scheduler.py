"""The in-process periodic job scheduler used when no Redis is configured (and by the sandbox)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock

log = logging.getLogger(__name__)
JobFunc = Callable[[datetime], Awaitable[None]]


@dataclass
class PeriodicJob:
    """A job that runs every `interval`, judged by the injected clock."""

    name: str
    interval: timedelta
    func: JobFunc
    last_run: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True when the job has never run or its interval has passed."""
        return self.last_run is None or now - self.last_run >= self.interval


@dataclass
class JobScheduler:
    """Runs registered jobs when they fall due; the clock decides what 'due' means."""

    clock: Clock
    jobs: list[PeriodicJob] = field(default_factory=list)

    def every(self, name: str, interval: timedelta, func: JobFunc) -> None:
        """Register `func` to run every `interval`."""
        self.jobs.append(PeriodicJob(name, interval, func))

    async def run_due(self) -> list[str]:
        """Run every job that is due now; returns the names that ran."""
        now = self.clock.now()
        ran = []
        for job in self.jobs:
            if job.due(now):
                await self._run(job, now)
                ran.append(job.name)
        return ran

    async def _run(self, job: PeriodicJob, now: datetime) -> None:
        job.last_run = now
        try:
            await job.func(now)
        except Exception:
            # One failing job must not stop the others; the traceback goes to the log.
            log.exception("job %s failed", job.name)

    async def run_forever(self, poll_seconds: float = 1.0) -> None:
        """Poll for due jobs until cancelled."""
        while True:
            await self.run_due()
            await asyncio.sleep(poll_seconds)

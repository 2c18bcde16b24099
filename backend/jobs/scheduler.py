"""The in-process periodic job scheduler used when no Redis is configured (and by the sandbox)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.clock import Clock, SettableClock

log = logging.getLogger(__name__)
JobFunc = Callable[[datetime], Awaitable[None]]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class PeriodicJob:
    """A job that runs every `interval`, judged by the injected clock."""

    name: str
    interval: timedelta
    func: JobFunc
    # False: a sandbox move runs it only at its destination (reports, imports, sweeps: the
    # hours on the way change nothing they do, and running them at each stop is most of a
    # move's cost).
    stepped: bool = True
    last_run: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True when the job has never run or its interval has passed."""
        return self.last_run is None or now - self.last_run >= self.interval


@dataclass
class JobScheduler:
    """Runs registered jobs when they fall due; the clock decides what 'due' means."""

    clock: Clock
    jobs: list[PeriodicJob] = field(default_factory=list)
    # One pass at a time: the poller must not run jobs while a sandbox move steps the clock.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    def every(self, name: str, interval: timedelta, func: JobFunc, *, stepped: bool = True
              ) -> None:
        """Register `func` to run every `interval` (`stepped`: also at each stop of a move)."""
        self.jobs.append(PeriodicJob(name, interval, func, stepped))

    async def run_due(self) -> list[str]:
        """Run every job that is due now; returns the names that ran."""
        async with self._lock:
            return await self._run_due(self.clock.now())

    async def run_through(self, until: datetime, step: timedelta) -> list[str]:
        """Move the (settable) clock to `until` stop by stop, running the jobs due at each.

        The stops are the multiples of `step` since the Unix epoch (UTC) after now, then `until`
        itself; returns the names that ran, each once, in the order they first ran.
        """
        clock = self.clock
        if not isinstance(clock, SettableClock):
            raise TypeError("only a settable clock can be moved")
        ran: dict[str, None] = {}
        async with self._lock:
            for stop in grid_stops(clock.now(), until, step):
                clock.set(stop)
                ran.update(dict.fromkeys(await self._run_due(stop, only_stepped=stop != until)))
        return list(ran)

    async def _run_due(self, now: datetime, *, only_stepped: bool = False) -> list[str]:
        ran = []
        for job in self.jobs:
            if job.due(now) and (job.stepped or not only_stepped):
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


def grid_stops(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    """The multiples of `step` since the Unix epoch strictly between `start` and `end`; `end`.

    Nothing when `end` is before `start`: the clock never moves back.
    """
    at = EPOCH + ((start - EPOCH) // step + 1) * step
    while at < end:
        yield at
        at += step
    if end >= start:
        yield end

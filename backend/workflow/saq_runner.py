"""The distributed runner: SAQ over Redis; many `parley worker` processes share one queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from saq import CronJob, Queue, Worker
from saq.job import TERMINAL_STATUSES, Status

from backend.jobs.scheduler import PeriodicJob
from backend.workflow import jobs
from backend.workflow.context import WorkflowContext
from backend.workflow.runner import CycleReport
from backend.workflow.sender import send_contact

log = logging.getLogger(__name__)
QUEUE_NAME = "parley-workflow"
SEND, DISPATCH, PLAN, LIFECYCLES = (
    "workflow.send", "workflow.dispatch", "workflow.plan", "workflow.lifecycles"
)
# A send job that outlives this is presumed dead (its worker was killed) and is retried by
# another worker's sweep; the contact row and the outbox claim make the retry harmless.
SEND_TIMEOUT = 60
SEND_RETRIES = 4
WAIT_SECONDS = 120.0
ENQUEUE_BATCH = 500
CYCLE_RETRIES = 3


async def _send(ctx: dict[str, Any], *, contact_id: int) -> str:
    workflow: WorkflowContext = ctx["workflow"]
    try:
        return await send_contact(workflow, contact_id)
    except Exception as error:
        await jobs.record_failure(workflow, contact_id, error)
        raise


async def _dispatch(ctx: dict[str, Any]) -> list[int]:
    runner: SaqRunner = ctx["runner"]
    return await runner.enqueue_due()


async def _plan(ctx: dict[str, Any]) -> int:
    return (await jobs.plan(ctx["workflow"])).total


async def _lifecycles(ctx: dict[str, Any]) -> dict[str, int]:
    return vars(await jobs.lifecycles(ctx["workflow"]))


# SAQ names functions (and cron jobs) by __qualname__: give them the names the queue uses.
for _func, _name in ((_send, SEND), (_dispatch, DISPATCH), (_plan, PLAN),
                     (_lifecycles, LIFECYCLES)):
    _func.__qualname__ = _name


def send_key(contact_id: int) -> str:
    """One live job per contact: enqueueing it again while queued or running is a no-op."""
    return f"contact:{contact_id}"


class SaqRunner:
    """Periodic jobs as SAQ cron jobs (one run per tick across all workers), sends as jobs.

    Planned contacts are rows, so a Redis that lost its data loses nothing: the next dispatch
    enqueues every contact that is still due.
    """

    def __init__(self, ctx: WorkflowContext, queue: Queue,
                 periodic: Sequence[PeriodicJob] = ()) -> None:
        self.ctx, self.queue, self.periodic = ctx, queue, tuple(periodic)

    @classmethod
    def from_url(cls, ctx: WorkflowContext, redis_url: str,
                 periodic: Sequence[PeriodicJob] = ()) -> SaqRunner:
        """A runner on the queue at `redis_url`."""
        return cls(ctx, Queue.from_url(redis_url, name=QUEUE_NAME), periodic)

    def worker(self, concurrency: int = 10, *, cron: bool = True, **options: Any) -> Worker:
        """A SAQ worker with every workflow function (and, unless told not to, cron job)."""
        functions: list[Any] = [_send, _dispatch, _plan, _lifecycles]
        return Worker(self.queue, functions, concurrency=concurrency,
                      cron_jobs=self._cron_jobs() if cron else (), startup=self._startup,
                      **options)

    def _cron_jobs(self) -> list[CronJob]:
        crons = [CronJob(_lifecycles, cron="*/15 * * * *", timeout=600),
                 CronJob(_plan, cron="1,16,31,46 * * * *", timeout=600),
                 CronJob(_dispatch, cron="* * * * * */30", timeout=120)]
        for job in self.periodic:
            crons.append(CronJob(_bridge(job), cron=interval_cron(job.interval), timeout=300))
        return crons

    async def _startup(self, ctx: dict[str, Any]) -> None:
        ctx["workflow"], ctx["runner"] = self.ctx, self

    async def enqueue_due(self, limit: int = 5000) -> list[int]:
        """Enqueue a send job for every due contact (existing live jobs are left alone)."""
        due = await jobs.due_contacts(self.ctx, limit)
        for start in range(0, len(due), ENQUEUE_BATCH):
            # Concurrent enqueues share SAQ's connection pool (max_concurrent_ops bounds them).
            await asyncio.gather(*(self._enqueue(cid) for cid in due[start:start + ENQUEUE_BATCH]))
        return due

    async def _enqueue(self, contact_id: int) -> None:
        await self.queue.enqueue(
            SEND, key=send_key(contact_id), contact_id=contact_id, timeout=SEND_TIMEOUT,
            retries=SEND_RETRIES, retry_delay=1.0, retry_backoff=60.0)

    async def cycle(self) -> CycleReport:
        """One full pass through the workers; returns when every send job has finished."""
        # Retries: a sweep can catch a job between dequeue and start and abort it as swept.
        await self.queue.apply(LIFECYCLES, timeout=600, retries=CYCLE_RETRIES)
        report = CycleReport(planned=await self.queue.apply(PLAN, timeout=600,
                                                            retries=CYCLE_RETRIES))
        due: list[int] = await self.queue.apply(DISPATCH, timeout=600, retries=CYCLE_RETRIES)
        for contact_id in due:
            report.outcomes[contact_id] = await self._wait(send_key(contact_id))
        return report

    async def _wait(self, key: str) -> str:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                job = await self.queue.job(key)
                if job is None or job.status in TERMINAL_STATUSES:
                    return _outcome(job)
                await asyncio.sleep(0.05)


def _outcome(job: Any) -> str:
    if job is None:
        return "gone"
    return str(job.result) if job.status == Status.COMPLETE else f"job_{job.status.value}"


def _bridge(job: PeriodicJob) -> Any:
    """Another capability's periodic job (e.g. the outbox's release of deferred messages)."""
    async def run(ctx: dict[str, Any]) -> None:
        await job.func(ctx["workflow"].clock.now())

    run.__qualname__ = f"periodic.{job.name}"
    return run


def interval_cron(interval: timedelta) -> str:
    """A cron expression firing about every `interval`: "*/N" only counts within its field
    (minutes 0-59, hours 0-23), so an hour or more becomes whole hours, a day or more daily."""
    minutes = max(1, int(interval.total_seconds() // 60))
    if minutes < 60:
        return f"*/{minutes} * * * *"
    hours = minutes // 60
    if hours < 24:
        return f"0 */{hours} * * *"
    return "0 0 * * *"

"""The runner contract, and the in-process runner that drives jobs from the database alone."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from backend.jobs.scheduler import JobScheduler
from backend.workflow import jobs
from backend.workflow.context import WorkflowContext
from backend.workflow.sender import send_contact

log = logging.getLogger(__name__)
PLAN_EVERY = timedelta(minutes=15)
LIFECYCLE_EVERY = timedelta(minutes=15)
DISPATCH_EVERY = timedelta(seconds=30)


@dataclass
class CycleReport:
    """What one full pass did: contacts planned, and the outcome of every send attempted."""

    planned: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)


class WorkflowRunner(Protocol):
    """Runs the workflow's jobs; in-process and distributed runners pass the same tests."""

    async def cycle(self) -> CycleReport:
        """Judge lifecycles, plan, send everything due now; return when the sends are done."""
        ...


class InProcessRunner:
    """No Redis: the planned-contact rows are the queue; the app's scheduler polls them."""

    def __init__(self, ctx: WorkflowContext) -> None:
        self.ctx = ctx

    def register(self, scheduler: JobScheduler) -> None:
        """Add the periodic jobs to the in-process scheduler."""
        scheduler.every("workflow.lifecycles", LIFECYCLE_EVERY, self._lifecycles)
        scheduler.every("workflow.plan", PLAN_EVERY, self._plan)
        scheduler.every("workflow.dispatch", DISPATCH_EVERY, self._dispatch)

    async def cycle(self) -> CycleReport:
        """One full pass, in order."""
        await jobs.lifecycles(self.ctx)
        report = CycleReport(planned=(await jobs.plan(self.ctx)).total)
        report.outcomes = await self.dispatch()
        return report

    async def dispatch(self) -> dict[int, str]:
        """Send every due contact; a failure is counted and retried later with backoff."""
        outcomes: dict[int, str] = {}
        for contact_id in await jobs.due_contacts(self.ctx):
            try:
                outcomes[contact_id] = await send_contact(self.ctx, contact_id)
            except Exception as error:
                log.exception("workflow contact %s failed", contact_id)
                await jobs.record_failure(self.ctx, contact_id, error)
                outcomes[contact_id] = "retrying"
        return outcomes

    async def _lifecycles(self, _now: datetime) -> None:
        await jobs.lifecycles(self.ctx)

    async def _plan(self, _now: datetime) -> None:
        await jobs.plan(self.ctx)

    async def _dispatch(self, _now: datetime) -> None:
        await self.dispatch()

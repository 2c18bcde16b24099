"""Sandbox mode: read, set or advance the clock; a move steps through time running due jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from backend.api.deps import ContainerDep
from bot.clock import SettableClock

router = APIRouter(prefix="/sandbox", tags=["sandbox"])
# Each stop runs every job (none is slower than 15 minutes), so stops cost: on the UTC hour, a
# step's window opening on the local hour is met exactly (on the half hour, half an hour late).
STEP = timedelta(hours=1)
MAX_MOVE = timedelta(days=31)


class ClockPublic(BaseModel):
    """The sandbox clock's time, and the jobs a move ran (each name once)."""

    now: datetime
    jobs_run: list[str] = []


class ClockUpdate(BaseModel):
    """Set the clock to `now`, or move it forward by `advance_seconds`."""

    now: datetime | None = None
    advance_seconds: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockUpdate:
        if (self.now is None) == (self.advance_seconds is None):
            raise ValueError("give exactly one of `now` or `advance_seconds`")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("`now` needs a timezone offset, e.g. 2026-11-25T14:00:00Z")
        return self


def _clock(container: ContainerDep) -> SettableClock:
    if not isinstance(container.clock, SettableClock):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "sandbox mode is off (PARLEY_SANDBOX)")
    return container.clock


def _destination(update: ClockUpdate, now: datetime) -> datetime:
    if update.now is None:
        # Checked before adding: a huge advance_seconds would overflow datetime.
        if update.advance_seconds and update.advance_seconds > MAX_MOVE.total_seconds():
            raise _too_far()
        return now + timedelta(seconds=update.advance_seconds or 0)
    if update.now < now:
        raise HTTPException(status.HTTP_409_CONFLICT, "the sandbox clock only moves forward")
    if update.now - now > MAX_MOVE:
        raise _too_far()
    return update.now


def _too_far() -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        f"the sandbox clock moves at most {MAX_MOVE.days} days at a time; move it in parts",
    )


@router.get("/clock", response_model=ClockPublic)
async def read_clock(container: ContainerDep) -> ClockPublic:
    """The sandbox time."""
    return ClockPublic(now=_clock(container).now())


@router.post("/clock", response_model=ClockPublic)
async def change_clock(update: ClockUpdate, container: ContainerDep) -> ClockPublic:
    """Set or advance the sandbox time, stepping through it as the live jobs would have run.

    The clock stops at every whole UTC hour on the way (STEP) and at the destination, and at
    each stop runs the jobs due then, with the clock at that stop: a reminder falling due
    mid-move is sent at its time, not skipped. Reports, imports and sweeps run only at the
    destination (`stepped=False`). A move longer than MAX_MOVE (31 days) is refused with 422
    rather than stepped coarser, since coarser steps would skip local days: a move costs the
    workflow's jobs 24 times a simulated day, and one request should not run for minutes.
    `jobs_run` names each job that ran at least once.
    """
    clock = _clock(container)
    destination = _destination(update, clock.now())
    ran = await container.scheduler.run_through(destination, STEP)
    return ClockPublic(now=clock.now(), jobs_run=ran)

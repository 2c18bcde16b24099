"""Sandbox mode: read, set or advance the clock; advancing runs the jobs that fell due."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from backend.api.deps import ContainerDep
from bot.clock import SettableClock

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


class ClockPublic(BaseModel):
    """The sandbox clock's time, and the jobs an advance ran."""

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


@router.get("/clock", response_model=ClockPublic)
async def read_clock(container: ContainerDep) -> ClockPublic:
    """The sandbox time."""
    return ClockPublic(now=_clock(container).now())


@router.post("/clock", response_model=ClockPublic)
async def change_clock(update: ClockUpdate, container: ContainerDep) -> ClockPublic:
    """Set or advance the sandbox time, then run what fell due."""
    clock = _clock(container)
    if update.now is not None:
        if update.now < clock.now():
            raise HTTPException(status.HTTP_409_CONFLICT, "the sandbox clock only moves forward")
        clock.set(update.now)
    else:
        clock.advance(timedelta(seconds=update.advance_seconds or 0))
    ran = await container.scheduler.run_due()
    return ClockPublic(now=clock.now(), jobs_run=ran)

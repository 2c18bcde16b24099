"""The composition root: every long-lived object Parley needs, built once from Settings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.db.engine import build_engine, build_sessionmaker
from backend.jobs.scheduler import JobScheduler
from backend.settings import Settings
from bot.clock import Clock, SettableClock, SystemClock

log = logging.getLogger(__name__)


@dataclass
class Container:
    """What the app, the CLI and the worker share; built by `build_container`, closed once."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis | None
    scheduler: JobScheduler
    interpreter: Any = None
    services: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run `closer` when the container closes (latest registered runs first)."""
        self.closers.append(closer)

    async def close(self) -> None:
        """Run the extensions' closers, then release connections."""
        for closer in reversed(self.closers):
            await closer()
        self.closers.clear()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def build_clock(settings: Settings) -> Clock:
    """A settable clock in sandbox mode, the wall clock otherwise."""
    return SettableClock() if settings.parley_sandbox else SystemClock()


def build_container(settings: Settings, clock: Clock | None = None) -> Container:
    """Create engines and clients (no I/O happens until they are used)."""
    clock = clock or build_clock(settings)
    engine = build_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    return Container(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=build_sessionmaker(engine),
        redis=redis,
        scheduler=JobScheduler(clock),
    )

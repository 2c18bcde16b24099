"""Wiring account imports as jobs: the periodic job that runs queued imports."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI

from backend.container import Container
from backend.services.imports.jobs import run_due

# In-process: every 10 s. On SAQ workers periodic jobs run as cron, once a minute.
IMPORTS_EVERY = timedelta(seconds=10)


def install_imports(app: FastAPI | None, container: Container) -> None:
    """Queued imports (POST /api/accounts/imports) run on the job scheduler, not the request."""

    async def run_imports(now: datetime) -> None:
        # The container's clock, read again when each import ends, dates its finish.
        await run_due(container.sessions, now, clock=container.clock)

    container.scheduler.every("imports.run", IMPORTS_EVERY, run_imports, stepped=False)

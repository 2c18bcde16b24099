"""The FastAPI application factory and its lifespan (where the container is built and closed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from backend.api.access_log import install_access_log_filter
from backend.api.body_limit import BodyLimit
from backend.api.routes import accounts, audit, health, sandbox
from backend.container import Container, build_container
from backend.db.migrate import upgrade
from backend.settings import Settings
from bot.clock import Clock

log = logging.getLogger(__name__)
Extension = Callable[[FastAPI | None, Container], Any]
# The account-file uploads: every other request body is held to MAX_BODY_BYTES.
UPLOAD_PATHS = ("/api/accounts/import", "/api/accounts/imports")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    extensions: tuple[Extension, ...] = (),
    run_jobs: bool = False,
) -> FastAPI:
    """Build the app; the container is created when the app starts, not at import.

    With `run_jobs` the app runs the periodic jobs itself (embedded mode: no separate worker).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_access_log_filter()
        if migrate:
            await upgrade(settings.database_url)
        container = build_container(settings, clock)
        app.state.container = container
        for extension in extensions:
            result = extension(app, container)
            if hasattr(result, "__await__"):
                await result
        jobs = asyncio.create_task(container.scheduler.run_forever()) if run_jobs else None
        try:
            yield
        finally:
            if jobs is not None:
                jobs.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await jobs
            await container.close()

    # Swagger/ReDoc assets come from the fastapi-offline package: no CDN in any page.
    app = FastAPIOffline(
        title="Parley",
        version="0.1.0",
        summary="Conversational collections agent: integration API",
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        larger=dict.fromkeys(UPLOAD_PATHS, settings.max_upload_bytes),
    )
    app.include_router(health.router)
    app.include_router(accounts.router)
    app.include_router(audit.router)
    if settings.parley_sandbox:
        app.include_router(sandbox.router)
    return app

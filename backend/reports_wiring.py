"""Wiring the reports into the app: the `/api/reports/...` routes and the snapshot job."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from fastapi import FastAPI

from backend.api.routes import reports as report_routes
from backend.api.routes.reports import automation_targets
from backend.container import Container
from backend.reports.catalog import Options
from backend.reports.refresh import REFRESH_EVERY, refresh_snapshots
from backend.services import audit


def install_reports(app: FastAPI | None, container: Container) -> None:
    """Mount the reports API; keep the console's all-time dashboards as snapshots."""
    if app is not None:
        app.include_router(report_routes.router)

    async def refresh(now: datetime) -> None:
        await refresh_snapshots(container.sessions, page_options(container, now), now)

    container.scheduler.every("reports.snapshots", REFRESH_EVERY, refresh, stepped=False)
    # The log, kept off the database host, then holds a checkpoint a day for `audit verify`.
    container.scheduler.every("audit.head", audit.HEAD_LOG_EVERY,
                              partial(audit.log_head, container.sessions), stepped=False)


def page_options(container: Container, now: datetime) -> Options:
    """The options the console's dashboards use by default (the snapshots are made for them)."""
    queues = container.services["handoff"].queues if "handoff" in container.services else None
    default, per_queue = automation_targets(queues, None)
    return Options(today=now.date(), threshold=container.settings.nlu_confidence_threshold,
                   target_seconds=default, queue_targets=per_queue)

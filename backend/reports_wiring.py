"""Wiring the reports into the app: the `/api/reports/...` routes."""

from __future__ import annotations

from fastapi import FastAPI

from backend.api.routes import reports as report_routes
from backend.container import Container


def install_reports(app: FastAPI | None, container: Container) -> None:
    """Mount the reports API (it needs nothing from the container beyond the session)."""
    if app is not None:
        app.include_router(report_routes.router)

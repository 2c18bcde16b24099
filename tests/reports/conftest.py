"""Fixtures for the dashboard tests: the hand-computed dataset in a fresh database."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.container import Container
from backend.reports_wiring import install_reports
from backend.settings import Settings
from bot.clock import SettableClock
from tests.reports.dataset import Seeded, seed


@pytest.fixture
async def seeded(container: Container) -> Seeded:
    """The dataset of `tests/reports/dataset.py`, committed."""
    async with container.sessions.begin() as session:
        return await seed(session)


@pytest.fixture
def app(settings: Settings, clock: SettableClock) -> FastAPI:
    """The core app with the reports installed (migrations already applied)."""
    return create_app(settings, clock=clock, migrate=False, extensions=(install_reports,))

"""With the console installed, the automation API judges each queue by its configured target."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.console_wiring import install_console
from backend.reports_wiring import install_reports
from backend.settings import Settings
from bot.clock import SettableClock
from tests.reports.dataset import Seeded


@pytest.fixture
def app(settings: Settings, clock: SettableClock) -> FastAPI:
    """Reports next to the console, whose queues file gives the targets."""
    return create_app(settings, clock=clock, migrate=False,
                      extensions=(install_console, install_reports))


async def test_each_queue_has_its_own_target(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    body = (await client.get("/api/reports/automation", headers=auth)).json()
    # complaints 60 min, disputes 240, hardship 120, unmatched 240 (never claimed). Claimed
    # after 4, 10 and 20 minutes: all within.
    assert {h["queue"]: (h["target_seconds"], h["within_target"]) for h in body["handoffs"]} == {
        "complaints": (3600, 1), "disputes": (14400, 1), "hardship": (7200, 1),
        "unmatched": (14400, 0),
    }
    one = (await client.get("/api/reports/automation", headers=auth,
                            params={"target_seconds": 300})).json()
    assert {h["target_seconds"] for h in one["handoffs"]} == {300}

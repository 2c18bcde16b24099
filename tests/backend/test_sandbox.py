"""Sandbox mode: a settable clock over HTTP that runs the jobs falling due."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.settings import Settings
from bot.clock import SettableClock


@pytest.fixture
def sandbox_app(settings: Settings, clock: SettableClock) -> FastAPI:
    return create_app(settings.model_copy(update={"parley_sandbox": True}), clock=clock,
                      migrate=False)


async def test_set_and_advance_the_clock_runs_due_jobs(
    sandbox_app: FastAPI, clock: SettableClock
) -> None:
    ran: list[datetime] = []

    async def job(now: datetime) -> None:
        ran.append(now)

    async with sandbox_app.router.lifespan_context(sandbox_app):
        sandbox_app.state.container.scheduler.every("nightly", timedelta(days=1), job)
        transport = httpx.ASGITransport(app=sandbox_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            start = (await c.get("/sandbox/clock")).json()["now"]
            assert datetime.fromisoformat(start) == clock.now()
            first = (await c.post("/sandbox/clock", json={"advance_seconds": 3600})).json()
            assert first["jobs_run"] == ["nightly"]
            second = (await c.post("/sandbox/clock", json={"advance_seconds": 3600})).json()
            assert second["jobs_run"] == []
            later = (clock.now() + timedelta(days=1)).isoformat()
            third = (await c.post("/sandbox/clock", json={"now": later})).json()
            assert third["jobs_run"] == ["nightly"]
            back = await c.post("/sandbox/clock", json={"now": start})
            assert back.status_code == 409
    assert len(ran) == 2


async def test_the_sandbox_is_absent_when_off(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sandbox/clock")).status_code == 404


def test_production_refuses_sandbox_and_placeholder_secrets() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(_env_file=None, parley_env="production")  # type: ignore[call-arg]
    strong = "x" * 40
    with pytest.raises(ValueError, match="PARLEY_SANDBOX"):
        Settings(_env_file=None, parley_env="production", secret_key=strong,  # type: ignore[call-arg]
                 parley_sandbox=True)
    assert Settings(_env_file=None, parley_env="production", secret_key=strong)  # type: ignore[call-arg]


def test_settings_read_the_operator_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/0")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://collect.example.com")
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (loaded.database_url, loaded.redis_url, loaded.public_base_url) == (
        "postgresql://u@h/db", "redis://h:6379/0", "https://collect.example.com")

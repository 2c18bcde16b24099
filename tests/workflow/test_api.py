"""Strategies over HTTP: versions, activation, the dry run; the schedule in the account detail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.channels_wiring import close_channels, install_channels
from backend.container import Container
from backend.services import apikeys
from backend.settings import Settings
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH
from backend.workflow_wiring import install_workflow
from bot.clock import SettableClock
from tests.workflow import seed


@pytest.fixture
async def wf_client(wf_settings: Settings, clock: SettableClock
                    ) -> AsyncIterator[tuple[httpx.AsyncClient, Container, dict[str, str]]]:
    """A client of the app with channels and workflow installed, and an API key."""
    app: FastAPI = create_app(wf_settings, clock=clock, migrate=False,
                              extensions=(install_channels, install_workflow))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, container, {"Authorization": f"Bearer {raw}"}
        await close_channels(container)


async def test_versions_activation_simulation_and_the_visible_schedule(
    wf_client: tuple[httpx.AsyncClient, Container, dict[str, str]], clock: SettableClock,
) -> None:
    client, container, auth = wf_client
    now = clock.now()
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() + timedelta(days=3))
    source = DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8")
    created = await client.post("/api/strategies", json={"source": source}, headers=auth)
    again = await client.post("/api/strategies", json={"source": source}, headers=auth)
    assert created.status_code == 201 and again.status_code == 201
    strategy_id = created.json()["id"]
    assert [v["version"] for v in again.json()["versions"]] == [2, 1]
    bad = await client.post("/api/strategies", json={"source": "name: x\nsegments: []"},
                            headers=auth)
    assert bad.status_code == 422 and "segments" in bad.json()["detail"]

    sim = await client.post(f"/api/strategies/{strategy_id}/simulate?days=3"
                            f"&portfolio_id={folio.id}", headers=auth)
    assert sim.status_code == 200, sim.text
    assert [(c["step"], c["decision"]) for c in sim.json()["contacts"]] == [
        ("d-3-courtesy", "sent")]

    detail = await client.get(f"/api/accounts/{acct.id}", headers=auth)
    assert detail.json()["planned_contacts"] == []  # nothing is active yet
    on = await client.post(f"/api/strategies/{strategy_id}/activate", json={"version": 2},
                           headers=auth)
    assert on.json()["active_version"] == 2
    detail = await client.get(f"/api/accounts/{acct.id}", headers=auth)
    projected = detail.json()["planned_contacts"]
    assert [p["step"] for p in projected] == ["d-3-courtesy", "d+1", "d+7"]
    assert projected[0]["status"] == "projected" and "segment standard" in projected[0]["reason"]
    assert (await client.get("/api/strategies", headers=auth)).status_code == 200
    assert (await client.post("/api/strategies/999/activate", json={"version": 1},
                              headers=auth)).status_code == 404

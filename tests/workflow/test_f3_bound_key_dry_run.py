"""A creditor-bound API key may dry-run a strategy over its own creditor's accounts only; an
agency-wide key's dry run still covers every creditor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.channels_wiring import close_channels, install_channels
from backend.container import Container
from backend.db.models import Account, Creditor
from backend.services import apikeys
from backend.settings import Settings
from backend.workflow_wiring import install_workflow
from bot.clock import SettableClock
from tests.workflow import seed


@pytest.fixture
async def app_client(
    wf_settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """A client of the app with channels and workflow installed."""
    app: FastAPI = create_app(
        wf_settings, clock=clock, migrate=False, extensions=(install_channels, install_workflow)
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, container
        await close_channels(container)


async def _bearer(container: Container, creditor: Creditor | None) -> dict[str, str]:
    async with container.sessions.begin() as session:
        _, raw = await apikeys.create_key(session, "test", container.clock.now(), None, creditor)
    return {"Authorization": f"Bearer {raw}"}


async def _two_creditors(container: Container) -> tuple[Creditor, Account, Account]:
    """Two creditors, each with one account due in three days; the first creditor."""
    now = container.clock.now()
    async with container.sessions.begin() as session:
        cards, mobile = (
            await seed.portfolio(session, now),
            await seed.portfolio(session, now, "Tel"),
        )
        due = now.date() + timedelta(days=3)
        mine = await seed.account(session, cards, now, due)
        theirs = await seed.account(session, mobile, now, due)
        creditor = await session.get(Creditor, cards.creditor_id)
    assert creditor is not None
    return creditor, mine, theirs


async def test_a_bound_key_dry_runs_its_own_creditors_accounts_only(
    app_client: tuple[httpx.AsyncClient, Container],
) -> None:
    client, container = app_client
    creditor, mine, theirs = await _two_creditors(container)
    agency, bound = await _bearer(container, None), await _bearer(container, creditor)
    async with container.sessions.begin() as session:
        strategy_id = (await seed.activate(session, container.clock.now())).strategy_id
    url = f"/api/strategies/{strategy_id}/simulate?days=3"

    own = await client.post(url, headers=bound)
    assert own.status_code == 200, own.text
    assert {c["account_id"] for c in own.json()["contacts"]} == {mine.id}
    every = await client.post(url, headers=agency)
    assert {c["account_id"] for c in every.json()["contacts"]} == {mine.id, theirs.id}
    # Another creditor's portfolio gives the bound key nothing of that creditor's.
    other = await client.post(f"{url}&portfolio_id={theirs.portfolio_id}", headers=bound)
    assert other.status_code == 200 and other.json()["contacts"] == []


async def test_a_bound_key_still_may_not_change_strategies(
    app_client: tuple[httpx.AsyncClient, Container],
) -> None:
    client, container = app_client
    creditor, _, _ = await _two_creditors(container)
    bound = await _bearer(container, creditor)
    async with container.sessions.begin() as session:
        strategy_id = (await seed.activate(session, container.clock.now())).strategy_id
    off = await client.post(
        f"/api/strategies/{strategy_id}/activate", json={"version": None}, headers=bound
    )
    assert off.status_code == 403 and "strategies are agency-wide" in off.json()["detail"]

"""A debtor whose time zone is unknown still has a visible schedule."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Debtor
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH
from bot.clock import SettableClock
from tests.workflow import seed
from tests.workflow.test_api import wf_client  # noqa: F401


async def test_the_schedule_of_a_debtor_without_a_zone(
    wf_client: tuple[httpx.AsyncClient, Container, dict[str, str]],  # noqa: F811
    clock: SettableClock,
) -> None:
    client, container, auth = wf_client
    now = clock.now()
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() + timedelta(days=3))
        for debtor in await session.scalars(select(Debtor)):
            debtor.timezone = ""  # no state, a phone spanning several zones
    source = DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8")
    created = await client.post("/api/strategies", json={"source": source}, headers=auth)
    await client.post(f"/api/strategies/{created.json()['id']}/activate", json={"version": 1},
                      headers=auth)
    detail = await client.get(f"/api/accounts/{acct.id}", headers=auth)
    assert detail.status_code == 200, detail.text
    assert [p["step"] for p in detail.json()["planned_contacts"]] == ["d-3-courtesy", "d+1", "d+7"]

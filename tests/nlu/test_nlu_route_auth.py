"""POST /model/parse needs an API key: as a Bearer header, or as Rasa's `?token=`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.api.routes import nlu as nlu_routes
from backend.container import Container
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock

BODY = {"text": "cant pay till fri"}


class _Parsed:
    def to_rasa(self) -> dict[str, Any]:
        return {
            "text": BODY["text"],
            "intent": {"name": "promise_to_pay", "confidence": 1.0},
            "intent_ranking": [],
            "entities": [],
        }


class _CountingInterpreter:
    """Stands in for the NLU; counts the parses a caller got out of it."""

    def __init__(self) -> None:
        self.parses = 0

    async def parse(
        self, text: str, *, reference_time: datetime, timezone: str | None = None
    ) -> _Parsed:
        self.parses += 1
        return _Parsed()


@pytest.fixture
async def served(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Container, str]]:
    def install(app: FastAPI | None, container: Container) -> None:
        container.interpreter = _CountingInterpreter()
        assert app is not None
        app.include_router(nlu_routes.router)

    app = create_app(settings, clock=clock, migrate=False, extensions=(install,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "rasa-client", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, container, raw


async def test_without_a_key_the_nlu_is_not_run(served) -> None:  # type: ignore[no-untyped-def]
    client, container, _ = served
    for params in ({}, {"token": "pk_not-a-key"}):
        response = await client.post("/model/parse", json=BODY, params=params)
        assert response.status_code == 401, params
        assert response.headers["www-authenticate"] == "Bearer"
    wrong = await client.post(
        "/model/parse", json=BODY, headers={"Authorization": "Bearer pk_not-a-key"}
    )
    assert wrong.status_code == 401
    assert container.interpreter.parses == 0


async def test_the_key_as_a_bearer_header_or_as_rasas_token_parameter(served) -> None:  # type: ignore[no-untyped-def]
    client, container, raw = served
    header = await client.post(
        "/model/parse", json=BODY, headers={"Authorization": f"Bearer {raw}"}
    )
    assert header.status_code == 200, header.text
    assert header.json()["intent"]["name"] == "promise_to_pay"
    token = await client.post("/model/parse", json=BODY, params={"token": raw})
    assert token.status_code == 200, token.text
    assert container.interpreter.parses == 2


async def test_a_revoked_key_is_refused_at_once(served) -> None:  # type: ignore[no-untyped-def]
    client, container, raw = served
    assert (await client.post("/model/parse", json=BODY, params={"token": raw})).status_code == 200
    async with container.sessions.begin() as session:
        await apikeys.revoke_key(session, raw[:10], container.clock.now(), actor="test")
    assert (await client.post("/model/parse", json=BODY, params={"token": raw})).status_code == 401
    headers = {"Authorization": f"Bearer {raw}"}
    assert (await client.post("/model/parse", json=BODY, headers=headers)).status_code == 401

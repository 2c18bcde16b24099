"""Ids past 64 bits: 422 from the API, the invalid-link page from a portal or payment token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services import apikeys
from backend.services.payments.links import PaymentLinks
from backend.services.portal import PortalLinks
from backend.services.signing import TokenSigner
from backend.settings import Settings
from bot.clock import SettableClock

HUGE = 99999999999999999999999
MAX_ID = 2**63 - 1


@pytest.fixture
async def api(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], Container]]:
    app: FastAPI = create_app(
        settings, clock=clock, migrate=False, extensions=(install_conversations,)
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, {"Authorization": f"Bearer {raw}"}, container


@pytest.mark.parametrize(
    "path",
    [
        "/api/accounts/{id}",
        "/api/accounts/imports/{id}",
        "/api/conversations/{id}",
        "/api/accounts?portfolio_id={id}",
    ],
)
async def test_ids_out_of_range_are_422_and_the_largest_is_404(api, path: str) -> None:  # type: ignore[no-untyped-def]
    client, auth, _ = api
    for bad in (HUGE, MAX_ID + 1, 0, -1):
        response = await client.get(path.format(id=bad), headers=auth)
        assert response.status_code == 422, (bad, response.text)
    largest = await client.get(path.format(id=MAX_ID), headers=auth)
    assert largest.status_code in (200, 404), largest.text


async def test_a_portal_token_with_a_huge_id_is_an_invalid_link(api) -> None:  # type: ignore[no-untyped-def]
    client, _, container = api
    links: PortalLinks = container.services["portal_links"]
    for account_id in (HUGE, -HUGE, MAX_ID + 1):
        page = await client.get(
            f"/p/{links.token_for(account_id)}", headers={"accept": "text/html"}
        )
        assert page.status_code == 404, page.text
        assert page.headers["content-type"].startswith("text/html")
        chat = await client.post(f"/p/{links.token_for(account_id)}/messages", json={"text": "hi"})
        assert chat.status_code == 404
    assert (await client.get(f"/p/{links.token_for(MAX_ID)}")).status_code == 404


async def test_a_payment_token_with_a_huge_id_is_an_invalid_link(api) -> None:  # type: ignore[no-untyped-def]
    client, _, container = api
    links: PaymentLinks = container.services["payment_links"]
    url = links.url_for(HUGE, Decimal("10.00"))
    response = await client.get(url.removeprefix(links.base_url))
    assert response.status_code == 404


def test_the_signer_refuses_numbers_past_64_bits_and_odd_expiries(clock: SettableClock) -> None:
    signer = TokenSigner("k" * 40, "test", clock, timedelta(days=1))
    assert signer.read(signer.sign({"a": MAX_ID})) == {
        "a": MAX_ID,
        "exp": pytest.approx((clock.now() + timedelta(days=1)).timestamp()),
    }
    for value in (HUGE, MAX_ID + 1, -(2**63) - 1):
        assert signer.read(signer.sign({"a": value})) is None
    forged = signer._serializer.dumps({"a": 1, "exp": "tomorrow"})
    assert signer.read(str(forged)) is None


@pytest.fixture
async def whole_app(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    from backend.channels_wiring import install_channels
    from backend.reports_wiring import install_reports
    from backend.workflow_wiring import install_workflow

    app: FastAPI = create_app(settings, clock=clock, migrate=False, extensions=(
        install_channels, install_conversations, install_workflow, install_reports))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/portfolios/{id}/policy"),
    ("PUT", "/api/portfolios/{id}/policy"),
    ("POST", "/api/accounts/{id}/remind"),
    ("POST", "/api/accounts/{id}/payments"),
    ("GET", "/api/strategies/{id}"),
    ("POST", "/api/strategies/{id}/activate"),
    ("POST", "/api/strategies/1/simulate?portfolio_id={id}"),
    ("GET", "/api/reports/outcomes?creditor_id={id}"),
])
async def test_every_other_id_is_bounded_too(whole_app, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    client, auth = whole_app
    response = await client.request(method, path.format(id=HUGE), headers=auth, json={})
    assert response.status_code == 422, response.text
    assert any(d["loc"][-1] in ("portfolio_id", "creditor_id", "account_id", "strategy_id")
               for d in response.json()["detail"])

"""Test cards never move a balance in production; a creditor's own payment page takes over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account, Payment
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock
from tests.backend.test_api_payments import ACCOUNT

CARD = {"card": "4242 4242 4242 4242"}
PAGE = "https://pay.acme.example/checkout?ref={reference}&amt={amount}&cur={currency}&acct={account}"
Served = tuple[Container, httpx.AsyncClient, int, str]


async def _serve(settings: Settings, clock: SettableClock, **update: Any
                 ) -> AsyncIterator[Served]:
    app = create_app(settings.model_copy(update=update), clock=clock, migrate=False,
                     extensions=(install_channels, install_conversations))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {raw}"}) as client:
            account_id = int((await client.post("/api/accounts", json=ACCOUNT)).json()["id"])
            url = container.services["payment_links"].url_for(account_id, Decimal("120.00"))
            yield container, client, account_id, "/pay/" + url.split("/pay/")[1]


@pytest.fixture
async def production(settings: Settings, clock: SettableClock) -> AsyncIterator[Served]:
    """The app as PARLEY_ENV=production runs it, without a payment page of the creditor's."""
    async for served in _serve(settings, clock, parley_env="production"):
        yield served


@pytest.fixture
async def creditor_page(settings: Settings, clock: SettableClock) -> AsyncIterator[Served]:
    """The app with PAYMENT_PAGE_URL set (in development: the page wins over test cards)."""
    async for served in _serve(settings, clock, payment_page_url=PAGE):
        yield served


async def _state(container: Container, account_id: int) -> tuple[Decimal, int]:
    async with container.sessions() as session:
        balance = await session.scalar(
            select(Account.current_balance).where(Account.id == account_id))
        payments = len((await session.scalars(select(Payment))).all())
    assert balance is not None
    return balance, payments


async def test_in_production_a_test_card_posts_nothing(production: Served) -> None:
    container, client, account_id, path = production
    page = await client.get(path)
    assert page.status_code == 200
    assert "Online payment is not available here" in page.text and "$120.00" in page.text
    assert "<form" not in page.text and "4242" not in page.text
    paid = await client.post(path, data=CARD)
    assert paid.status_code == 404
    assert await _state(container, account_id) == (Decimal("300.00"), 0)


async def test_a_creditor_page_receives_the_debtor_with_the_links_reference(
    creditor_page: Served,
) -> None:
    container, client, account_id, path = creditor_page
    page = await client.get(path)
    assert page.status_code == 303
    link = container.services["payment_links"].read(path.removeprefix("/pay/"))
    assert page.headers["location"] == (
        "https://pay.acme.example/checkout?ref=link%3A" + link.nonce
        + "&amt=120.00&cur=USD&acct=PAY-1")
    assert (await client.post(path, data=CARD)).status_code == 404
    assert await _state(container, account_id) == (Decimal("300.00"), 0)
    # The creditor's billing posts the payment under the link's reference: it is that link's.
    posted = await client.post(f"/api/accounts/{account_id}/payments",
                               json={"amount": "120.00", "reference": link.reference})
    assert posted.status_code == 201, posted.text
    after = await client.get(path)  # the link is used now: nothing more to pay through it
    assert after.status_code == 200 and "already been used" in after.text


async def test_outside_production_the_test_cards_still_work(
    settings: Settings, clock: SettableClock,
) -> None:
    async for container, client, account_id, path in _serve(settings, clock):
        assert "4242 4242 4242 4242" in (await client.get(path)).text
        assert (await client.post(path, data=CARD)).status_code == 200
        assert await _state(container, account_id) == (Decimal("180.00"), 1)


@pytest.mark.parametrize(("value", "reason"), [
    ("http://pay.acme.example/?ref={reference}", "must be an https URL"),
    ("https://pay.acme.example/?amount={amount}", "must carry {reference}"),
    ("https://pay.acme.example/?ref={reference}&who={debtor}", "unknown fields ['debtor']"),
    ("https://pay.acme.example/?ref={reference", "not a valid template"),
])
def test_a_bad_payment_page_is_refused_at_start(value: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason.replace("[", r"\[").replace("]", r"\]")
                       .replace("{", r"\{").replace("}", r"\}")):
        Settings(payment_page_url=value)


def test_a_loopback_page_may_be_plain_http() -> None:
    assert Settings(payment_page_url="http://127.0.0.1:9000/pay?r={reference}").payment_page_url


async def test_the_pay_page_carries_the_portals_security_headers(production: Served) -> None:
    _, client, _, path = production
    headers = (await client.get(path)).headers
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"

"""The billing payments API refuses what it would otherwise record wrongly or drop silently."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import AuditEvent
from backend.services import apikeys
from backend.services.payments import stripe
from backend.settings import Settings
from bot.clock import SettableClock

ACCOUNT = {
    "external_ref": "PAY-1", "creditor": "Acme Bank", "portfolio": "Cards",
    "debtor_name": "Jane Roe", "phone": "+12125550123", "state": "NY", "currency": "USD",
    "balance": "300.00", "due_date": "2026-08-22",
}


@pytest.fixture
async def served(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[Container, Any, str]]:
    """The app's container, a client with the payments routes, and one account's payments URL."""
    settings = settings.model_copy(update={"stripe_webhook_secret": "whsec_test"})
    app = create_app(settings, clock=clock, migrate=False,
                     extensions=(install_channels, install_conversations))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {raw}"}) as client:
            created = (await client.post("/api/accounts", json=ACCOUNT)).json()
            yield container, client, f"/api/accounts/{created['id']}/payments"


@pytest.fixture
def api(served: tuple[Container, Any, str]) -> tuple[Any, str]:
    """A client with the payments routes, and the URL of one account's payments."""
    return served[1], served[2]


async def _balance(client: httpx.AsyncClient, url: str) -> str:
    return str((await client.get(url.removesuffix("/payments"))).json()["current_balance"])


async def test_a_replay_is_harmless_but_another_amount_is_a_conflict(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = api
    body = {"amount": "100.00", "reference": "INV-1"}
    assert (await client.post(url, json=body)).status_code == 201
    replay = await client.post(url, json={**body, "amount": "100"})
    assert (replay.status_code, replay.json()["created"]) == (200, False)
    conflict = await client.post(url, json={**body, "amount": "150.00"})
    assert conflict.status_code == 409
    assert conflict.json()["detail"] == (
        "reference 'INV-1' already exists on account "
        f"{url.split('/')[3]} with amount 100.00, not 150.00")
    assert await _balance(client, url) == "200.00"


async def test_another_currency_is_refused(api: tuple[httpx.AsyncClient, str]) -> None:
    client, url = api
    refused = await client.post(url, json={"amount": "10", "reference": "R", "currency": "EUR"})
    assert refused.status_code == 422
    assert "not the account's currency USD" in refused.json()["detail"]
    same = await client.post(url, json={"amount": "10", "reference": "R", "currency": "usd"})
    assert same.status_code == 201
    assert await _balance(client, url) == "290.00"


async def test_a_future_paid_at_and_a_blank_reference_are_refused(
    api: tuple[httpx.AsyncClient, str], clock: SettableClock,
) -> None:
    client, url = api
    future = (clock.now() + timedelta(hours=1)).isoformat()
    refused = await client.post(url, json={"amount": "10", "reference": "F", "paid_at": future})
    assert refused.status_code == 422 and "in the future" in refused.json()["detail"]
    skewed = (clock.now() + timedelta(minutes=1)).isoformat()
    ok = await client.post(url, json={"amount": "10", "reference": "F", "paid_at": skewed})
    assert ok.status_code == 201
    blank = await client.post(url, json={"amount": "10", "reference": "   "})
    assert blank.status_code == 422
    assert "reference is blank" in blank.text
    assert await _balance(client, url) == "290.00"


async def test_posting_the_account_again_keeps_its_payments(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = api
    assert (await client.post(url, json={"amount": "100.00", "reference": "P"})).status_code == 201
    again = await client.post("/api/accounts", json={**ACCOUNT, "creditor": "ACME bank",
                                                     "portfolio": "Cards 2026"})
    assert again.status_code == 200, again.text  # an update
    assert again.json()["id"] == int(url.split("/")[3])  # the creditor matched in any case
    assert again.json()["current_balance"] == "200.00"  # the payment stands
    assert again.json()["ignored"] == ["balance"]  # the 300.00 sent is not applied
    other = await client.post("/api/accounts", json={**ACCOUNT, "currency": "EUR"})
    assert other.status_code == 409 and "currency" in other.text


async def test_a_payment_beyond_the_balance_says_what_is_owed_back(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = api
    paid = await client.post(url, json={"amount": "350.00", "reference": "BIG"})
    assert paid.status_code == 201 and paid.json()["overpaid"] == "50.00"
    assert await _balance(client, url) == "0.00"
    exact = await client.post(url, json={"amount": "1.00", "reference": "AFTER"})
    assert exact.json()["overpaid"] == "1.00"


async def test_an_amount_finer_than_the_currency_is_refused(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = api
    yen = (await client.post("/api/accounts", json={
        **ACCOUNT, "external_ref": "PAY-JPY", "currency": "JPY", "balance": "20000"})).json()
    url = f"/api/accounts/{yen['id']}/payments"
    refused = await client.post(url, json={"amount": "10.50", "reference": "Y1"})
    assert refused.status_code == 422 and "more decimals than JPY" in refused.json()["detail"]
    taken = await client.post(url, json={"amount": "1666", "reference": "Y2"})
    assert taken.status_code == 201 and await _balance(client, url) == "18334"


async def _stripe(client: httpx.AsyncClient, url: str, currency: str, minor: int) -> Any:
    account_id = url.split("/")[3]
    event = json.dumps({"type": "payment_intent.succeeded", "data": {"object": {
        "id": f"pi_{currency}", "amount_received": minor, "currency": currency,
        "metadata": {"account_id": account_id}}}}).encode()
    now = 1795618800  # the test clock, 2026-11-25 15:00 UTC
    signature = stripe.sign("whsec_test", event, now)
    response = await client.post("/webhooks/payments/stripe", content=event,
                                 headers={"Stripe-Signature": signature})
    assert response.status_code == 200  # a retry could not change the currency
    return response.json()


async def test_a_stripe_payment_in_another_currency_is_recorded_not_posted(
    api: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = api
    assert await _stripe(client, url, "eur", 10000) == {"received": 1, "posted": 0, "refused": 1}
    assert await _balance(client, url) == "300.00"  # 100 EUR is not 100 USD off the debt
    assert await _stripe(client, url, "usd", 10000) == {"received": 1, "posted": 1, "refused": 0}
    assert await _balance(client, url) == "200.00"


async def test_the_refused_payment_is_in_the_audit_log(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, client, url = served
    await _stripe(client, url, "eur", 10000)
    async with container.sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "payment.currency_mismatch"))).all()
    assert [(e.subject_id, e.data["currency"], e.data["amount"]) for e in events] == [
        (url.split("/")[3], "EUR", "100.00")]

"""A pay link charges what an agreed settlement still needs, and nothing once a provider's
payment carrying its reference has arrived."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Payment
from backend.services import ledger
from backend.services.payments import stripe
from backend.settings import Settings
from bot.clock import SettableClock
from bot.facts import Offer
from tests.backend import test_api_payments, test_payment_page

CARD = {"card": "4242 4242 4242 4242"}
# The app with the payments routes and a Stripe secret, and one account owing 300.00.
served = test_api_payments.served


def _link(container: Container, account_id: int, amount: str) -> tuple[str, str]:
    """The path of a fresh link for `amount`, and the reference its payment is recorded under."""
    links = container.services["payment_links"]
    path = "/pay/" + links.url_for(account_id, Decimal(amount)).split("/pay/")[1]
    return path, links.read(path.removeprefix("/pay/")).reference


async def _agree_settlement(container: Container, account_id: int, total: str) -> None:
    now = container.clock.now()
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await ledger.record_plan(session, account, Offer(
            "settlement", Decimal(total), now.date() + timedelta(days=7)), ledger.Origin(now))


async def _posted(container: Container) -> list[dict[str, Any]]:
    async with container.sessions() as session:
        return list(await session.scalars(select(AuditEvent.data).where(
            AuditEvent.action == "payment.posted").order_by(AuditEvent.id)))


async def _account(container: Container, account_id: int) -> tuple[str, Decimal]:
    async with container.sessions() as session:
        account = await session.get(Account, account_id)
    assert account is not None
    return account.status, account.current_balance


async def test_a_settlement_link_charges_what_the_settlement_still_needs(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    await _agree_settlement(container, account_id, "250.00")
    path, _ = _link(container, account_id, "250.00")
    paid_by_api = await client.post(url, json={"amount": "100.00", "reference": "API-1"})
    assert paid_by_api.status_code == 201, paid_by_api.text
    page = (await client.get(path)).text
    # The balance is 200.00, but the settlement needs only 150.00 more.
    assert "Amount: <strong>$150.00</strong>" in page and "<form" in page
    assert ("Your agreed settlement now needs $150.00, less than the $250.00 this link was"
            " sent for: you will be charged $150.00.") in page
    assert "$200.00" not in page
    assert "Payment complete" in (await client.post(path, data=CARD)).text
    async with container.sessions() as session:
        amounts = list(await session.scalars(select(Payment.amount).where(
            Payment.account_id == account_id).order_by(Payment.id)))
    assert amounts == [Decimal("100.00"), Decimal("150.00")]
    assert [e["overpaid"] for e in await _posted(container)] == ["0.00", "0.00"]
    assert await _account(container, account_id) == ("settled", Decimal("0.00"))


async def test_a_plain_link_above_the_balance_still_names_the_balance(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    path, _ = _link(container, account_id, "300.00")
    await client.post(url, json={"amount": "120.00", "reference": "API-2"})
    page = (await client.get(path)).text
    assert "The balance is now $180.00, less than the $300.00" in page


def _stripe_payment(account_id: int, reference: str) -> bytes:
    """A $100 Stripe payment made through the creditor's checkout for the link `reference`."""
    return json.dumps({"type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_2a", "object": "payment_intent", "amount_received": 10000,
        "currency": "usd", "metadata": {"account_id": str(account_id),
                                        "reference": reference}}}}).encode()


async def _deliver(container: Container, client: httpx.AsyncClient, body: bytes) -> None:
    stamp = int(container.clock.now().timestamp())
    response = await client.post("/webhooks/payments/stripe", content=body, headers={
        "Stripe-Signature": stripe.sign("whsec_test", body, stamp)})
    assert response.status_code == 200 and response.json()["posted"] == 1, response.text


async def test_a_link_paid_through_stripe_is_used(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    path, reference = _link(container, account_id, "100.00")
    await _deliver(container, client, _stripe_payment(account_id, reference))
    page = (await client.get(path)).text
    assert "already been used" in page and "<form" not in page and "$100.00" not in page
    again = await client.post(path, data=CARD)
    assert "already been used" in again.text and "Payment complete" not in again.text
    assert await _account(container, account_id) == ("active", Decimal("200.00"))


@pytest.fixture
async def creditor_page(settings: Settings, clock: SettableClock
                        ) -> AsyncIterator[test_payment_page.Served]:
    """The app with PAYMENT_PAGE_URL and a Stripe secret."""
    async for served_app in test_payment_page._serve(
            settings, clock, payment_page_url=test_payment_page.PAGE,
            stripe_webhook_secret="whsec_test"):
        yield served_app


async def test_a_link_paid_through_stripe_no_longer_sends_to_the_checkout(
    creditor_page: test_payment_page.Served,
) -> None:
    container, client, account_id, _ = creditor_page
    path, reference = _link(container, account_id, "100.00")
    assert (await client.get(path)).status_code == 303  # to the creditor's checkout
    await _deliver(container, client, _stripe_payment(account_id, reference))
    page = await client.get(path)
    assert page.status_code == 200 and "already been used" in page.text

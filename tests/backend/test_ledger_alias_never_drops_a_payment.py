"""A provider payment naming a billing reference another payment holds is posted as its own
payment, never dropped; a retried billing post answers what its first post did."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Payment
from tests.backend.test_payment_fixes_refund_rules import _events
from tests.backend.test_payment_fixes_stripe_dupes import _deliver
from tests.backend.test_payment_fixes_stripe_dupes import served as served  # noqa: F401

D = Decimal
Served = tuple[Container, httpx.AsyncClient, str]


def _intent(account_id: int, intent: str, cents: int, reference: str) -> tuple[str, dict]:
    return "payment_intent.succeeded", {
        "id": intent, "object": "payment_intent", "amount_received": cents, "currency": "usd",
        "metadata": {"account_id": str(account_id), "reference": reference}}


async def _payments(container: Container, account_id: int) -> list[tuple[str, str | None, D]]:
    async with container.sessions() as session:
        rows = await session.scalars(select(Payment).where(
            Payment.account_id == account_id).order_by(Payment.id))
        return [(p.reference, p.alias, p.amount) for p in rows]


async def test_two_intents_with_one_reference_are_two_payments(served: Served) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    first = await _deliver(client, *_intent(account_id, "pi_2a", 10000, "link:0322"))
    second = await _deliver(client, *_intent(account_id, "pi_2b", 10000, "link:0322"))
    assert (first["posted"], second["posted"]) == (1, 1)
    assert await _payments(container, account_id) == [
        ("pi_2a", "link:0322", D("100.00")), ("pi_2b", None, D("100.00"))]
    events = await _events(container, "payment.posted")
    assert [e.get("alias_not_joined") for e in events] == [None, "link:0322"]


async def test_an_intent_of_another_amount_than_the_billing_payment_is_its_own(
    served: Served,
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    posted = await client.post(url, json={"amount": "20.00", "reference": "LINKX"})
    assert posted.status_code == 201
    answer = await _deliver(client, *_intent(account_id, "pi_8x", 3000, "LINKX"))
    assert answer["posted"] == 1
    assert await _payments(container, account_id) == [
        ("LINKX", None, D("20.00")), ("pi_8x", None, D("30.00"))]
    balance = (await client.get(url.removesuffix("/payments"))).json()["current_balance"]
    assert D(str(balance)) == D("250.00")


async def test_the_billing_api_and_the_webhook_reporting_one_payment_post_it_once(
    served: Served,
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    assert (await client.post(url, json={"amount": "50.00", "reference": "INV-9"})
            ).status_code == 201
    assert (await _deliver(client, *_intent(account_id, "pi_9", 5000, "INV-9")))["posted"] == 0
    assert (await _deliver(client, *_intent(account_id, "pi_9", 5000, "INV-9")))["posted"] == 0
    assert await _payments(container, account_id) == [("INV-9", "pi_9", D("50.00"))]


async def test_the_webhook_first_then_the_billing_api_post_one_payment(served: Served) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    assert (await _deliver(client, *_intent(account_id, "pi_7", 5000, "INV-7")))["posted"] == 1
    again = await client.post(url, json={"amount": "50.00", "reference": "INV-7"})
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert await _payments(container, account_id) == [("pi_7", "INV-7", D("50.00"))]


async def test_a_retried_post_answers_what_the_first_did(served: Served) -> None:
    _, client, url = served
    body = {"amount": "320.00", "reference": "INV-OVER"}
    first = await client.post(url, json=body)
    again = await client.post(url, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    keys = ("payment_id", "applied_to", "overpaid")
    assert [first.json()[k] for k in keys] == [again.json()[k] for k in keys]
    assert D(str(again.json()["overpaid"])) == D("20.00")

"""One Stripe payment is posted once, whichever of its events arrive and in whatever order."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from itertools import permutations
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Payment
from backend.services.payments import stripe
from backend.services.payments.stripe import StripeProvider
from tests.backend import test_api_payments

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # the test clock
# The app with the payments routes and a Stripe secret, and one account owing 300.00.
served = test_api_payments.served


def _objects(account_id: int | str, intent: Any = "pi_3Abc") -> dict[str, tuple[str, dict]]:
    """The three events Stripe sends for one $50 Checkout payment, by their object's prefix."""
    metadata = {"account_id": str(account_id)}
    return {
        "cs": ("checkout.session.completed", {
            "id": "cs_test_a1", "object": "checkout.session", "amount_total": 5000,
            "currency": "usd", "payment_intent": intent, "payment_status": "paid",
            "metadata": metadata}),
        "pi": ("payment_intent.succeeded", {
            "id": "pi_3Abc", "object": "payment_intent", "amount_received": 5000,
            "currency": "usd", "metadata": metadata}),
        "ch": ("charge.succeeded", {
            "id": "ch_3Abc", "object": "charge", "amount": 5000, "currency": "usd",
            "payment_intent": intent, "metadata": metadata}),
    }


def _body(kind: str, obj: dict) -> bytes:
    return json.dumps({"type": kind, "data": {"object": obj}}).encode()


def _references(objects: dict[str, tuple[str, dict]]) -> set[str]:
    provider = StripeProvider("whsec_test")
    return {event.reference for kind, obj in objects.values()
            for event in provider.events(_body(kind, obj), NOW)}


def test_the_session_the_intent_and_the_charge_share_one_reference() -> None:
    assert _references(_objects(7)) == {"pi_3Abc"}


def test_an_expanded_payment_intent_is_read_by_its_id() -> None:
    assert _references(_objects(7, intent={"id": "pi_3Abc", "object": "payment_intent"})) == {
        "pi_3Abc"}


def test_objects_without_a_payment_intent_keep_their_own_id() -> None:
    objects = _objects(7, intent=None)
    assert _references({"ch": objects["ch"]}) == {"ch_3Abc"}
    assert _references({"cs": objects["cs"]}) == {"cs_test_a1"}


def test_a_payers_reference_on_one_event_does_not_split_the_payment() -> None:
    # Stripe copies a session's metadata to none of its intent's events: keying on it would
    # give the session one reference and the intent and charge another.
    objects = _objects(7)
    kind, obj = objects["cs"]
    objects["cs"] = (kind, {**obj, "metadata": {"account_id": "7", "reference": "INV-9"}})
    assert _references(objects) == {"pi_3Abc"}


async def _deliver(client: httpx.AsyncClient, kind: str, obj: dict) -> dict[str, int]:
    body = _body(kind, obj)
    signature = stripe.sign("whsec_test", body, int(NOW.timestamp()))
    response = await client.post("/webhooks/payments/stripe", content=body,
                                 headers={"Stripe-Signature": signature})
    assert response.status_code == 200, response.text
    answer: dict[str, int] = response.json()
    return answer


async def _ledger(container: Container, account_id: int) -> tuple[Decimal, list[str]]:
    async with container.sessions() as session:
        account = await session.get(Account, account_id)
        references = list(await session.scalars(
            select(Payment.reference).where(Payment.account_id == account_id)))
    assert account is not None
    return account.current_balance, references


@pytest.mark.parametrize("order", list(permutations(["cs", "pi", "ch"])), ids="-".join)
async def test_one_charge_is_one_payment_in_any_order(
    served: tuple[Container, httpx.AsyncClient, str], order: tuple[str, ...],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    objects = _objects(account_id)
    answers = [await _deliver(client, *objects[name]) for name in order]
    assert [a["posted"] for a in answers] == [1, 0, 0]
    assert await _ledger(container, account_id) == (Decimal("250.00"), ["pi_3Abc"])


async def test_a_redelivered_event_is_acknowledged_not_posted(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    kind, obj = _objects(account_id, intent=None)["ch"]
    assert (await _deliver(client, kind, obj))["posted"] == 1
    assert await _deliver(client, kind, obj) == {"received": 1, "posted": 0, "refused": 0}
    assert await _ledger(container, account_id) == (Decimal("250.00"), ["ch_3Abc"])

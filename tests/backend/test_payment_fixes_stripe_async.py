"""Stripe: only what Stripe says is paid is posted, and one payment keys one way, whatever
events arrive and in whatever order."""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations

import httpx
import pytest

from backend.container import Container
from backend.services.payments.stripe import StripeProvider
from tests.backend.test_payment_fixes_stripe_dupes import NOW, _body, _deliver, _ledger
from tests.backend.test_payment_fixes_stripe_dupes import served as served  # noqa: F401

D = Decimal
Served = tuple[Container, httpx.AsyncClient, str]


def _session(account_id: int | str, kind: str, paid: str = "paid",
             reference: str | None = None) -> tuple[str, dict]:
    """A $50 Checkout Session event; `paid` is its payment_status."""
    metadata = {"account_id": str(account_id)}
    if reference:
        metadata["reference"] = reference
    return kind, {"id": "cs_test_a1", "object": "checkout.session", "amount_total": 5000,
                  "currency": "usd", "payment_intent": "pi_3Abc", "payment_status": paid,
                  "metadata": metadata}


def _intent(metadata: dict[str, str]) -> tuple[str, dict]:
    return "payment_intent.succeeded", {
        "id": "pi_3Abc", "object": "payment_intent", "amount_received": 5000,
        "currency": "usd", "metadata": metadata}


def _charge(metadata: dict[str, str]) -> tuple[str, dict]:
    return "charge.succeeded", {
        "id": "ch_3Abc", "object": "charge", "amount": 5000, "currency": "usd",
        "payment_intent": "pi_3Abc", "metadata": metadata}


def _events(kind: str, obj: dict) -> list[tuple[str, str]]:
    return [(e.status, e.reference) for e in StripeProvider("whsec_test").events(
        _body(kind, obj), NOW)]


def test_an_unpaid_completed_session_is_no_payment() -> None:
    assert _events(*_session(7, "checkout.session.completed", paid="unpaid")) == []
    assert _events(*_session(7, "checkout.session.completed", paid="no_payment_required")) == []


def test_the_delayed_payment_succeeds_or_fails_later() -> None:
    assert _events(*_session(7, "checkout.session.async_payment_succeeded")) == [
        ("succeeded", "pi_3Abc")]
    assert _events(*_session(7, "checkout.session.async_payment_failed", paid="unpaid")) == [
        ("failed", "pi_3Abc")]


async def test_a_bank_debit_is_posted_when_its_money_arrives(served: Served) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    completed = await _deliver(client, *_session(account_id, "checkout.session.completed",
                                                 paid="unpaid"))
    assert completed["posted"] == 0
    assert await _ledger(container, account_id) == (D("300.00"), [])
    arrived = await _deliver(client, *_session(account_id,
                                               "checkout.session.async_payment_succeeded"))
    assert arrived["posted"] == 1
    assert (await _deliver(client, *_intent({})))["posted"] == 0
    assert await _ledger(container, account_id) == (D("250.00"), ["pi_3Abc"])


async def test_a_failed_bank_debit_posts_nothing(served: Served) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    for kind in ("checkout.session.completed", "checkout.session.async_payment_failed"):
        answer = await _deliver(client, *_session(account_id, kind, paid="unpaid"))
        assert (answer["received"], answer["posted"]) == (int(kind.endswith("failed")), 0)
    assert await _ledger(container, account_id) == (D("300.00"), [])


EVENTS = ["cs", "pi", "ch"]


@pytest.mark.parametrize("order", list(permutations(EVENTS)), ids="-".join)
@pytest.mark.parametrize("intent_says", ["account", "nothing"])
async def test_a_session_reference_and_an_intent_without_it_post_once(
    served: Served, order: tuple[str, ...], intent_says: str,
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    # The session carries the creditor's reference; the intent and charge at most our account.
    metadata = {"account_id": str(account_id)} if intent_says == "account" else {}
    events = {"cs": _session(account_id, "checkout.session.completed", reference="INV-9"),
              "pi": _intent(metadata), "ch": _charge(metadata)}
    posted = [(await _deliver(client, *events[name]))["posted"] for name in order]
    assert sum(posted) == 1
    assert await _ledger(container, account_id) == (D("250.00"), ["pi_3Abc"])

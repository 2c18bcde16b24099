"""Stripe amounts are in each currency's smallest unit, by Stripe's own list."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backend.services.payments.stripe import StripeProvider

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("currency", "minor", "amount"), [
    ("usd", 12345, Decimal("123.45")),
    ("jpy", 1666, Decimal("1666")),
    ("kwd", 12345, Decimal("12.345")),
    (None, 100000, Decimal("1000.00")),  # an event without a currency: cents, as before
])
def test_a_succeeded_payment_posts_its_amount_in_the_currency(
    currency: str | None, minor: int, amount: Decimal
) -> None:
    obj = {"id": "pi_1", "amount_received": minor, "metadata": {"account_id": "7"}}
    if currency:
        obj["currency"] = currency
    body = json.dumps({"type": "payment_intent.succeeded", "data": {"object": obj}}).encode()
    [event] = StripeProvider("whsec_test").events(body, NOW)
    assert event.amount == amount and event.account_id == 7

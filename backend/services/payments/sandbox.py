"""The built-in sandbox provider: a hosted pay page on Parley with test cards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from backend.services.payments.base import PaymentEvent, WebhookRejected

# Test cards, as payment providers document them.
TEST_CARDS = {
    "4242424242424242": "succeeded",
    "4000000000000002": "declined",
    "4000000000009995": "failed",  # insufficient funds
}


def charge(card_number: str) -> str:
    """What the sandbox does with a card: succeeded, declined or failed."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    return TEST_CARDS.get(digits, "declined")


class SandboxProvider:
    """Payments happen on Parley's own page; there are no webhooks to receive."""

    name = "sandbox"

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        raise WebhookRejected("the sandbox provider sends no webhooks")

    def events(self, body: bytes, now: datetime) -> list[PaymentEvent]:
        return []

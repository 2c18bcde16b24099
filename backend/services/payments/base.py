"""The payment-provider role: a checkout for a link, and verified webhooks of money moving."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class PaymentEvent:
    """Money that moved (or failed to) at a provider, for one account."""

    provider: str
    reference: str
    # None only on a refund, whose payment is found by its reference.
    account_id: int | None
    # For "refunded": the total given back so far, not this refund alone; for
    # "refund_failed": the failed refund alone.
    amount: Decimal
    status: str  # "succeeded" | "failed" | "refunded" | "refund_failed"
    occurred_at: datetime
    # ISO 4217, upper case; None when the provider did not say (the account's is assumed).
    currency: str | None = None
    # The billing system's own reference for the same payment (Stripe: `metadata.reference`).
    alias: str | None = None
    # The provider's id of the refund that failed ("refund_failed" only).
    refund_id: str | None = None
    # The account as the provider's metadata named it, kept as sent: a succeeded payment
    # naming no account here (unknown, or no possible id) is refused and audited with it.
    account_ref: str | None = None


class CurrencyMismatch(Exception):
    """Money that moved in another currency than the account's: recorded, never posted."""


class NothingPaid(Exception):
    """A payment of zero or less (money that did not move): recorded, never posted."""


class WebhookRejected(Exception):
    """A webhook whose signature, timestamp or body cannot be trusted."""


class PaymentProvider(Protocol):
    """A payment service Parley can send debtors to and hear back from."""

    name: str

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Raise WebhookRejected unless the request is authentic and fresh."""
        ...

    def events(self, body: bytes, now: datetime) -> list[PaymentEvent]:
        """The payment events in a verified webhook body (others ignored)."""
        ...

"""Stripe-style webhooks: `Stripe-Signature: t=...,v1=...` over the raw body, then the events."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from backend.services.payments.base import PaymentEvent, WebhookRejected

TOLERANCE_SECONDS = 300
# A Checkout Session completes before a delayed method (ACH, SEPA and other bank debits) has
# moved any money: it is posted when its `payment_status` is "paid", or later by
# `async_payment_succeeded`.
COMPLETED = "checkout.session.completed"
SUCCEEDED = {"payment_intent.succeeded", "charge.succeeded",
             "checkout.session.async_payment_succeeded"}
FAILED = {"payment_intent.payment_failed", "charge.failed",
          "checkout.session.async_payment_failed"}
# The Charge carries `amount_refunded`, the total given back so far: applying that total is
# harmless however often, and in whatever order, the event is delivered.
REFUNDED = "charge.refunded"
# A Refund object whose money came back to us (its `amount` alone, its `charge` and
# `payment_intent` name the payment); a repeated delivery is known by the refund's id.
REFUND_FAILED = "refund.failed"
# Ids are 64-bit in the database: a larger one names no account (the driver would overflow).
MAX_ID = 2**63 - 1


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a Stripe-style sender would put on `body` (tests, fakes)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class StripeProvider:
    """Verifies and reads Stripe webhooks; amounts arrive in cents."""

    name = "stripe"

    def __init__(self, webhook_secret: str, tolerance: int = TOLERANCE_SECONDS) -> None:
        self.secret = webhook_secret
        self.tolerance = tolerance

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        header = {k.lower(): v for k, v in headers.items()}.get("stripe-signature", "")
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        stamps = [v for k, v in parts if k == "t"]
        signatures = [v for k, v in parts if k == "v1"]
        if not stamps or not signatures or not stamps[0].isdigit():
            raise WebhookRejected("missing or malformed Stripe-Signature header")
        timestamp = int(stamps[0])
        if abs(now.timestamp() - timestamp) > self.tolerance:
            raise WebhookRejected("signature timestamp outside the tolerance")
        expected = sign(self.secret, body, timestamp).split("v1=", 1)[1]
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            raise WebhookRejected("signature does not match")

    def events(self, body: bytes, now: datetime) -> list[PaymentEvent]:
        try:
            event = json.loads(body)
            kind = event["type"]
            obj: dict[str, Any] = event["data"]["object"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected(f"unreadable event: {exc}") from exc
        status = _status(kind, obj)
        if status is None:
            return []
        if status == "refund_failed":
            return [_refund_failed(obj, now)]
        account_ref = _account_ref(obj)
        if account_ref is None and status != "refunded":
            # Only the objects that carry our metadata can be posted; Stripe does not copy a
            # session's metadata onto its payment intent, whose other events key the same.
            return []
        return [PaymentEvent(
            provider=self.name, reference=payment_key(obj), account_id=_account_id(account_ref),
            amount=_amount(obj, status), status=status, occurred_at=now,
            currency=str(obj["currency"]).upper() if obj.get("currency") else None,
            alias=_reference(obj), account_ref=account_ref,
        )]


def _refund_failed(obj: Mapping[str, Any], now: datetime) -> PaymentEvent:
    """The failed Refund as an event on the payment it was of; its own metadata is not ours."""
    try:
        minor = int(obj.get("amount") or 0)
        refund_id = str(obj["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WebhookRejected(f"unreadable refund: {exc}") from exc
    charge = obj.get("charge")
    if isinstance(charge, Mapping):  # expanded
        charge = charge.get("id")
    if not obj.get("payment_intent") and not charge:
        raise WebhookRejected(f"refund {refund_id} names no charge or payment intent")
    return PaymentEvent(
        provider="stripe", reference=payment_key({**obj, "id": charge}), account_id=None,
        amount=Decimal(minor).scaleb(-stripe_places(obj.get("currency"))),
        status="refund_failed", occurred_at=now, refund_id=refund_id,
        currency=str(obj["currency"]).upper() if obj.get("currency") else None)


def _status(kind: str, obj: Mapping[str, Any]) -> str | None:
    """What the event says happened to the money, or None when it says nothing yet."""
    if kind == COMPLETED:
        return "succeeded" if obj.get("payment_status") == "paid" else None
    if kind in SUCCEEDED:
        return "succeeded"
    if kind in FAILED:
        return "failed"
    if kind == REFUND_FAILED:
        return "refund_failed"
    return "refunded" if kind == REFUNDED else None


def _account_ref(obj: Mapping[str, Any]) -> str | None:
    """The account the metadata names, as written (bounded), or None when it names none."""
    account_ref = str((obj.get("metadata") or {}).get("account_id") or "").strip()
    return account_ref[:64] or None


def _account_id(account_ref: str | None) -> int | None:
    """The account id the metadata names; None for one that cannot be an id here."""
    if account_ref is None or not account_ref.isascii() or not account_ref.isdigit():
        return None
    account_id = int(account_ref)
    return account_id if 1 <= account_id <= MAX_ID else None


def _reference(obj: Mapping[str, Any]) -> str | None:
    """The billing system's own reference the pay link put in the metadata, if any."""
    reference = str((obj.get("metadata") or {}).get("reference") or "").strip()
    return reference[:128] or None


def _amount(obj: Mapping[str, Any], status: str) -> Decimal:
    """The money moved; for a refund, the total refunded so far."""
    if status == "refunded":
        minor = obj.get("amount_refunded") or 0
    else:
        minor = obj.get("amount_received") or obj.get("amount_total") or obj.get("amount") or 0
    return Decimal(int(minor)).scaleb(-stripe_places(obj.get("currency")))


def payment_key(obj: Mapping[str, Any]) -> str:
    """The PaymentIntent a Stripe object belongs to (its own id for a payment intent), else
    the object's own id (a charge made without one).

    The only key: one payment arrives as a checkout session, a payment intent and a charge,
    and only some of them carry our metadata; keyed on their PaymentIntent, the ledger posts
    it once whichever come and in whatever order, and a refund of its charge finds it.
    """
    intent = obj.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    return str(intent or obj["id"])


# Stripe counts amounts in the currency's smallest unit, by its own list, not ISO 4217's:
# https://docs.stripe.com/currencies#zero-decimal and #three-decimal.
ZERO_DECIMAL = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
})
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def stripe_places(currency: object) -> int:
    """Decimals of a Stripe amount in `currency` (2 when the event names none)."""
    code = str(currency or "").lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2

"""A provider's payment of zero or less is acknowledged and recorded as refused, never posted."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Payment
from backend.services.payments import stripe
from tests.backend import test_api_payments

# The app with the payments routes and a Stripe secret, and one account owing 300.00.
served = test_api_payments.served


def _event(account_id: int, kind: str, amounts: dict[str, int]) -> bytes:
    return json.dumps({"type": kind, "data": {"object": {
        "id": "cs_zero", "object": "checkout.session", "currency": "usd",
        "payment_status": "paid", "payment_intent": "pi_zero",
        "metadata": {"account_id": str(account_id)}, **amounts}}}).encode()


@pytest.mark.parametrize(("kind", "amounts"), [
    ("checkout.session.completed", {"amount_total": 0}),
    ("payment_intent.succeeded", {"amount_received": -500}),
], ids=["zero-checkout", "negative-intent"])
async def test_nothing_paid_is_refused(
    served: tuple[Container, httpx.AsyncClient, str], kind: str, amounts: dict[str, int],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    body = _event(account_id, kind, amounts)
    stamp = int(container.clock.now().timestamp())
    response = await client.post("/webhooks/payments/stripe", content=body, headers={
        "Stripe-Signature": stripe.sign("whsec_test", body, stamp)})
    assert response.status_code == 200
    assert response.json() == {"received": 1, "posted": 0, "refused": 1}
    async with container.sessions() as session:
        payments = list(await session.scalars(select(Payment)))
        account = await session.get(Account, account_id)
        refusals = list(await session.scalars(select(AuditEvent.data).where(
            AuditEvent.action == "payment.refused")))
        posted = list(await session.scalars(select(AuditEvent.id).where(
            AuditEvent.action == "payment.posted")))
    assert payments == [] and posted == []
    assert account is not None and account.current_balance == Decimal("300.00")
    assert [(r["reference"], r["reason"]) for r in refusals] == [
        ("pi_zero", "not a positive amount")]

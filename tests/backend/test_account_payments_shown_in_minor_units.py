"""The account API shows what was refunded of each payment, and amounts in the currency's
minor units (whole yen)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from backend.container import Container
from backend.services.payments import stripe
from tests.backend import test_api_payments

# The app with the payments routes and a Stripe secret, and one account owing 300.00.
served = test_api_payments.served


async def _deliver(container: Container, client: httpx.AsyncClient, kind: str,
                   obj: dict[str, Any]) -> None:
    body = json.dumps({"type": kind, "data": {"object": obj}}).encode()
    stamp = int(container.clock.now().timestamp())
    response = await client.post("/webhooks/payments/stripe", content=body, headers={
        "Stripe-Signature": stripe.sign("whsec_test", body, stamp)})
    assert response.status_code == 200, response.text


async def test_a_refunded_payment_says_how_much_was_refunded(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, client, url = served
    account_id = int(url.split("/")[3])
    await _deliver(container, client, "charge.succeeded", {
        "id": "ch_1", "object": "charge", "amount": 10000, "currency": "usd",
        "payment_intent": "pi_1", "metadata": {"account_id": str(account_id)}})
    await _deliver(container, client, "charge.refunded", {
        "id": "ch_1", "object": "charge", "amount": 10000, "amount_refunded": 4000,
        "currency": "usd", "payment_intent": "pi_1",
        "metadata": {"account_id": str(account_id)}})
    detail = (await client.get(f"/api/accounts/{account_id}")).json()
    [payment] = detail["payments"]
    assert (payment["amount"], payment["refunded_amount"]) == ("100.00", "40.00")
    assert detail["current_balance"] == "240.00"


async def test_yen_amounts_have_no_decimals(
    served: tuple[Container, httpx.AsyncClient, str],
) -> None:
    _, client, _ = served
    yen = (await client.post("/api/accounts", json={
        **test_api_payments.ACCOUNT, "external_ref": "PAY-JPY", "currency": "JPY",
        "balance": "148334"})).json()
    assert (yen["original_balance"], yen["current_balance"]) == ("148334", "148334")
    paid = await client.post(f"/api/accounts/{yen['id']}/payments",
                             json={"amount": "1666", "reference": "Y1"})
    assert paid.status_code == 201
    assert (paid.json()["amount"], paid.json()["overpaid"]) == ("1666", "0")
    detail = (await client.get(f"/api/accounts/{yen['id']}")).json()
    assert detail["current_balance"] == "146668"
    assert [(p["amount"], p["refunded_amount"]) for p in detail["payments"]] == [("1666", "0")]
    listed = (await client.get("/api/accounts")).json()["items"]
    assert {a["external_ref"]: a["current_balance"] for a in listed} == {
        "PAY-1": "300.00", "PAY-JPY": "146668"}
    assert Decimal(detail["current_balance"]) == Decimal("146668.00")

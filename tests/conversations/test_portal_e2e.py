"""End to end through the portal chat API with the real NLU, the real gate and the sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services import apikeys
from backend.services.payments import stripe
from backend.settings import Settings
from bot.clock import SettableClock
from nlu.types import Interpreter
from tests.services import require

ACCOUNT = {
    "external_ref": "ACME-123456", "creditor": "Acme Bank", "portfolio": "Cards",
    "debtor_name": "Jane Roe", "phone": "+12125550123", "date_of_birth": "1985-03-14",
    "postal_code": "10001", "state": "NY", "currency": "USD", "balance": "1200.00",
    "due_date": "2026-08-22",
}


@pytest.fixture
async def portal(settings: Settings, clock: SettableClock, interpreter: Interpreter,
                 request: pytest.FixtureRequest) -> AsyncIterator[tuple[httpx.AsyncClient, dict]]:
    settings = settings.model_copy(update={"stripe_webhook_secret": "whsec_test"})
    if getattr(request, "param", None) == "redis":  # the working state (and jobs) in Redis
        settings = settings.model_copy(update={"redis_url": require("TEST_REDIS_URL")})
        await _forget_states(settings.redis_url)

    def use_nlu(app: FastAPI, container: Container) -> None:
        container.interpreter = interpreter

    app = create_app(settings, clock=clock, migrate=False,
                     extensions=(install_channels, use_nlu, install_conversations))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, {"Authorization": f"Bearer {raw}"}


async def _forget_states(url: str | None) -> None:
    """Drop states left by earlier runs: their keys are conversation ids, which repeat."""
    redis = Redis.from_url(str(url))
    try:
        async for key in redis.scan_iter("parley:state:*"):
            await redis.delete(key)
    finally:
        await redis.aclose()


async def _say(client: httpx.AsyncClient, path: str, text: str) -> list[dict]:
    response = await client.post(f"{path}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    replies: list[dict] = response.json()["replies"]
    return replies


@pytest.mark.parametrize("portal", ["memory", pytest.param("redis", marks=pytest.mark.redis)],
                         indirect=True)
async def test_a_debtor_verifies_agrees_a_plan_and_pays_in_the_portal(portal) -> None:  # type: ignore[no-untyped-def]
    client, auth = portal
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    portal_url = created["portal_url"]
    assert portal_url and "/p/" in portal_url
    path = "/p/" + portal_url.split("/p/")[1]

    first = await _say(client, path, "how much do I owe?")
    assert "automated assistant" in first[0]["text"]
    assert not any("1,200" in r["text"] or "Acme" in r["text"] for r in first)
    await _say(client, path, "03/14/1985")
    balance = await _say(client, path, "10001")
    assert "This is an attempt to collect a debt" in balance[0]["text"]
    assert "$1,200.00" in balance[0]["text"] and balance[0]["choices"]

    options = await _say(client, path, "can I get a payment plan")
    labels = [c["label"] for c in options[0]["choices"]]
    assert labels[0].startswith("Pay the balance") and len(labels) >= 3
    recorded = await _say(client, path, "3")
    assert "Your plan is set" in recorded[0]["text"]
    pay_url = recorded[0]["text"].split("here: ")[1].split()[0]

    page = await client.get(pay_url.replace("http://127.0.0.1:8000", ""))
    assert page.status_code == 200 and "Secure payment" in page.text
    paid = await client.post(pay_url.replace("http://127.0.0.1:8000", ""),
                             data={"card": "4242 4242 4242 4242"})
    assert "Payment complete" in paid.text
    again = await client.post(pay_url.replace("http://127.0.0.1:8000", ""),
                              data={"card": "4242 4242 4242 4242"})
    assert again.status_code == 200

    detail = (await client.get(f"/api/accounts/{created['id']}", headers=auth)).json()
    assert len(detail["payments"]) == 1 and len(detail["plans"]) == 1
    first_installment = detail["plans"][0]["installments"][0]
    assert first_installment["status"] == "paid"
    expected = Decimal("1200.00") - Decimal(first_installment["amount"])
    assert Decimal(detail["current_balance"]) == expected

    conversation_id = detail["conversations"][0]["id"]
    transcript = (await client.get(f"/api/conversations/{conversation_id}", headers=auth)).json()
    intents = [m["intent"] for m in transcript["messages"] if m["direction"] == "inbound"]
    assert intents[0] == "ask_balance" and intents[3] == "request_payment_plan"
    assert transcript["records"]["plans"]


async def test_once_verification_expires_the_page_hides_the_answers_and_the_debt(
    portal, clock: SettableClock  # type: ignore[no-untyped-def]
) -> None:
    client, auth = portal
    # Not the identity question's own example date (03/14/1985).
    account = {**ACCOUNT, "date_of_birth": "1979-07-21"}
    created = (await client.post("/api/accounts", json=account, headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    for text in ("how much do I owe?", "07/21/1979", "10001"):
        await _say(client, path, text)
    verified_page = (await client.get(path)).text
    # Verified, the page shows the account, but never the identity answers back.
    assert "$1,200.00" in verified_page and "07/21/1979" not in verified_page
    assert "(identity answer hidden)" in verified_page

    clock.advance(timedelta(hours=2))  # verification has expired: whoever holds the link
    again = await _say(client, path, "hi")
    page = (await client.get(path)).text
    for secret in ("07/21/1979", "10001", "1,200", "Acme", "attempt to collect"):
        assert secret not in page, secret
    assert again[0]["text"] in page.replace("&#39;", "'")  # the new identity question shows


async def test_a_yen_plan_is_in_whole_yen(portal) -> None:  # type: ignore[no-untyped-def]
    client, auth = portal
    account = {**ACCOUNT, "currency": "JPY", "balance": "20000", "date_of_birth": "1979-07-21"}
    created = (await client.post("/api/accounts", json=account, headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    for text in ("how much do I owe?", "07/21/1979", "10001"):
        await _say(client, path, text)
    options = await _say(client, path, "can I get a payment plan")
    assert "." not in options[0]["text"].split("¥", 1)[1].split()[0]
    await _say(client, path, str(len(options[0]["choices"]) - 1))  # the longest plan
    detail = (await client.get(f"/api/accounts/{created['id']}", headers=auth)).json()
    amounts = [Decimal(i["amount"]) for i in detail["plans"][0]["installments"]]
    assert len(amounts) > 2 and sum(amounts) == Decimal("20000")
    assert all(a == a.to_integral_value() for a in amounts), amounts


async def test_a_spanish_conversation_stays_spanish_through_dates_and_zip_codes(portal) -> None:  # type: ignore[no-untyped-def]
    client, auth = portal
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]  # preferred language: English

    hello = await _say(client, path, "hola, cuánto debo?")
    assert hello[0]["text"].startswith("Hola, soy Parley")
    after_dob = await _say(client, path, "14/03/1985")  # no words: no language signal
    assert after_dob[0]["text"].startswith("Gracias. Ahora")
    balance = await _say(client, path, "10001")
    assert balance[0]["text"].startswith("Esta es una comunicación de un cobrador de deudas")
    assert "Su saldo con Acme Bank" in balance[0]["text"] and "$1,200.00" in balance[0]["text"]
    promise = await _say(client, path, "le prometo pagar 100 dolares")
    assert promise[0]["text"].startswith("¿Qué día puede pagar?")  # and the short disclosure
    when = await _say(client, path, "5/12")  # no words: read day first, as in Spanish
    assert "el 5 de diciembre de 2026" in when[0]["text"]


async def test_at_night_the_portal_shows_only_the_reply_the_gate_allowed(  # type: ignore[no-untyped-def]
    portal, clock: SettableClock,
) -> None:
    client, auth = portal
    path = "/p/" + (await client.post("/api/accounts", json=ACCOUNT, headers=auth)
                    ).json()["portal_url"].split("/p/")[1]
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))  # 04:00 in New York
    replies = await _say(client, path, "how much do I owe?")
    [reply] = replies  # the one reply of the night introduces the bot and asks the question
    assert "automated assistant" in reply["text"] and "date of birth" in reply["text"]
    held = (await client.post(f"{path}/messages", json={"text": "03/14/1985"})).json()
    assert held["replies"] == []  # a second reply waits for 08:00, and the debtor is told
    assert held["deferred"] == [{"not_before": "2026-11-26T13:00:00Z"}]
    page = (await client.get(path)).text
    assert "date of birth" in page and "ZIP code" not in page
    assert "outside our messaging hours where you are: you will find our reply here from 08:00" \
        in page
    clock.set(datetime(2026, 11, 26, 13, 30, tzinfo=UTC))  # 08:30: the outbox job releases it
    outbox = client._transport.app.state.container.services["outbox"]  # type: ignore[attr-defined]
    assert await outbox.release_due(clock.now())
    page = (await client.get(path)).text
    assert "ZIP code" in page and "outside our messaging hours" not in page


async def test_portal_page_renders_without_external_resources(portal) -> None:  # type: ignore[no-untyped-def]
    client, auth = portal
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    await _say(client, path, "hola, cuánto debo?")
    page = await client.get(path)
    assert page.status_code == 200
    assert 'name="viewport"' in page.text and "<script" not in page.text
    assert "http" not in page.text.split("<main>")[0].replace('charset="utf-8"', "")
    assert "Hola, soy Parley" in page.text
    assert (await client.get("/p/forged-token")).status_code == 404


async def test_the_portal_page_opens_in_the_debtors_preferred_language(portal) -> None:  # type: ignore[no-untyped-def]
    client, auth = portal
    spanish = {**ACCOUNT, "preferred_language": "es"}
    created = (await client.post("/api/accounts", json=spanish, headers=auth)).json()
    page = (await client.get("/p/" + created["portal_url"].split("/p/")[1])).text
    assert '<html lang="es"' in page and "Su cuenta" in page and "Enviar" in page


async def test_stop_in_the_portal_and_a_bad_token(portal) -> None:  # type: ignore[no-untyped-def]
    client, auth = portal
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    stop = await _say(client, path, "STOP")
    assert "unsubscribed" in stop[0]["text"]
    assert await _say(client, path, "hello") == []


async def test_billing_payments_are_idempotent_and_webhooks_are_verified(portal) -> None:  # type: ignore[no-untyped-def]
    client, auth = portal
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    url = f"/api/accounts/{created['id']}/payments"
    body = {"amount": "200.00", "reference": "INV-1"}
    assert (await client.post(url, json=body, headers=auth)).status_code == 201
    assert (await client.post(url, json=body, headers=auth)).status_code == 200
    event = json.dumps({"type": "payment_intent.succeeded", "data": {"object": {
        "id": "pi_1", "amount_received": 100000,
        "metadata": {"account_id": str(created["id"])}}}}).encode()
    now = 1795618800  # 2026-11-25 15:00 UTC, the test clock
    bad = await client.post("/webhooks/payments/stripe", content=event,
                            headers={"Stripe-Signature": f"t={now},v1=" + "0" * 64})
    assert bad.status_code == 400
    good = await client.post("/webhooks/payments/stripe", content=event,
                             headers={"Stripe-Signature": stripe.sign("whsec_test", event, now)})
    assert good.json() == {"received": 1, "posted": 1, "refused": 0}
    detail = (await client.get(f"/api/accounts/{created['id']}", headers=auth)).json()
    assert detail["current_balance"] == "0.00" and detail["status"] == "paid"

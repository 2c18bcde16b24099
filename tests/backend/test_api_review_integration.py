"""What a creditor's integration sees: write-only keys, unmatched provider payments, bounded
query parameters, updates answered as updates, and transcripts without internal state."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import AuditEvent, Conversation, Message, Payment
from backend.services import apikeys
from backend.services.payments import stripe
from backend.settings import Settings
from bot.clock import SettableClock

ACCOUNT = {
    "external_ref": "INT-1", "creditor": "Acme Bank", "portfolio": "Cards",
    "debtor_name": "Jane Roe", "phone": "+12125550123", "state": "NY", "currency": "USD",
    "date_of_birth": "1980-03-14", "postal_code": "10001",
    "balance": "300.00", "due_date": "2026-08-22",
}
Keys = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def served(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[Container, Keys]]:
    """The container, and a maker of clients holding a new key with the given scopes."""
    settings = settings.model_copy(update={"stripe_webhook_secret": "whsec_test"})
    app = create_app(settings, clock=clock, migrate=False,
                     extensions=(install_channels, install_conversations))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        clients: list[httpx.AsyncClient] = []

        async def client(*scopes: str) -> httpx.AsyncClient:
            async with container.sessions.begin() as session:
                _, raw = await apikeys.create_key(session, "test", clock.now(),
                                                  list(scopes) if scopes else None)
            made = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {raw}"})
            clients.append(made)
            return made

        yield container, client
        for made in clients:
            await made.aclose()


@pytest.fixture
async def api(served: tuple[Container, Keys]) -> httpx.AsyncClient:
    """A client with an every-scope key."""
    return await served[1]()


async def test_a_write_only_key_gets_back_only_what_identifies_the_write(
    served: tuple[Container, Keys],
) -> None:
    writer = await served[1]("write")
    created = await writer.post("/api/accounts", json=ACCOUNT)
    assert created.status_code == 201, created.text
    assert created.json() == {"id": created.json()["id"], "external_ref": "INT-1",
                              "status": "active", "created": True, "ignored": []}
    assert (await writer.get(f"/api/accounts/{created.json()['id']}")).status_code == 403


async def test_a_key_with_read_still_gets_the_whole_record(api: httpx.AsyncClient) -> None:
    created = (await api.post("/api/accounts", json=ACCOUNT)).json()
    assert created["debtor"]["date_of_birth"] == "1980-03-14"
    assert (created["created"], created["current_balance"]) == (True, "300.00")


async def test_an_update_is_200_and_names_the_balance_it_did_not_apply(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.post("/api/accounts", json=ACCOUNT)).status_code == 201
    same = await api.post("/api/accounts", json=ACCOUNT)
    assert (same.status_code, same.json()["created"], same.json()["ignored"]) == (
        200, False, [])
    moved = await api.post("/api/accounts", json={**ACCOUNT, "balance": "250.00",
                                                  "original_balance": "300.00"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["ignored"], moved.json()["current_balance"]) == (["balance"], "300.00")


async def _stripe(client: httpx.AsyncClient, account: str, reference: str) -> Any:
    event = json.dumps({"type": "payment_intent.succeeded", "data": {"object": {
        "id": reference, "amount_received": 5000, "currency": "usd",
        "metadata": {"account_id": account, "reference": "BILL-7"}}}}).encode()
    signature = stripe.sign("whsec_test", event, 1795618800)  # the test clock's now
    response = await client.post("/webhooks/payments/stripe", content=event,
                                 headers={"Stripe-Signature": signature})
    assert response.status_code == 200, response.text
    return response.json()


async def _unmatched(container: Container) -> list[tuple[str | None, dict[str, Any]]]:
    async with container.sessions() as session:
        events = await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "payment.unmatched").order_by(AuditEvent.id))
        return [(e.subject_id, e.data) for e in events]


@pytest.mark.parametrize("account", ["987654", "99999999999999999999"])
async def test_a_stripe_payment_for_no_account_here_is_refused_and_audited(
    served: tuple[Container, Keys], api: httpx.AsyncClient, account: str,
) -> None:
    container = served[0]
    assert await _stripe(api, account, "pi_X1") == {"received": 1, "posted": 0, "refused": 1}
    assert await _unmatched(container) == [("pi_X1", {
        "provider": "stripe", "reference": "pi_X1", "alias": "BILL-7", "account": account,
        "amount": "50.00", "currency": "USD"})]
    async with container.sessions() as session:
        assert await session.scalar(select(func.count(Payment.id))) == 0


async def test_a_stripe_payment_for_a_known_account_is_still_posted(
    served: tuple[Container, Keys], api: httpx.AsyncClient,
) -> None:
    created = (await api.post("/api/accounts", json=ACCOUNT)).json()
    answer = await _stripe(api, str(created["id"]), "pi_X2")
    assert answer == {"received": 1, "posted": 1, "refused": 0}
    assert await _unmatched(served[0]) == []


@pytest.mark.parametrize(("query", "parameter"), [
    ("offset=99999999999999999999", "offset"),
    ("max_balance=1e30", "max_balance"),
    ("min_balance=NaN", "min_balance"),
    ("status=bogus", "status"),
])
async def test_an_impossible_listing_parameter_is_a_422_naming_it(
    api: httpx.AsyncClient, query: str, parameter: str,
) -> None:
    response = await api.get(f"/api/accounts?{query}")
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["query", parameter]]


async def test_an_unknown_status_lists_the_allowed_ones(api: httpx.AsyncClient) -> None:
    detail = (await api.get("/api/accounts?status=bogus")).json()["detail"][0]
    for allowed in ("active", "paid", "settled", "closed"):
        assert allowed in detail["msg"]


async def test_the_listing_filters_still_work(api: httpx.AsyncClient) -> None:
    await api.post("/api/accounts", json=ACCOUNT)
    await api.post("/api/accounts", json={**ACCOUNT, "external_ref": "INT-2", "balance": "90"})
    listed = (await api.get("/api/accounts?status=active&max_balance=100.00")).json()
    assert [a["external_ref"] for a in listed["items"]] == ["INT-2"]
    assert (await api.get("/api/accounts?status=paid")).json()["total"] == 0


async def test_a_transcript_shows_no_outbox_envelope_nor_an_intent_on_outbound(
    served: tuple[Container, Keys], api: httpx.AsyncClient, clock: SettableClock,
) -> None:
    container = served[0]
    account = (await api.post("/api/accounts", json=ACCOUNT)).json()
    now = clock.now()
    async with container.sessions.begin() as session:
        conversation = Conversation(channel="sms", address="+12125550123",
                                    account_id=account["id"], debtor_id=account["debtor_id"],
                                    started_at=now, last_message_at=now)
        session.add(conversation)
        await session.flush()
        session.add_all([
            Message(conversation_id=conversation.id, direction="inbound", channel="sms",
                    sender="debtor", text="I can pay 50 friday", intent="promise_to_pay",
                    confidence=0.91, entities=[{"entity": "amount", "value": "50.00"}],
                    delivery_status="received", created_at=now),
            Message(conversation_id=conversation.id, direction="outbound", channel="sms",
                    sender="bot", text="Thanks", intent="reply", delivery_status="sent",
                    entities=[{"outbound": {"idempotency_key": "k", "template_vars": {},
                                            "recipient_verified": True}}], created_at=now),
            Message(conversation_id=conversation.id, direction="outbound", channel="sms",
                    sender="agent:3", text="Hello", intent="agent", delivery_status="pending",
                    entities=[{"outbound": {"idempotency_key": "a"}}], created_at=now),
            Message(conversation_id=conversation.id, direction="outbound", channel="sms",
                    sender="workflow", text="Reminder", intent="reminder",
                    delivery_status="delivered", created_at=now),
        ])
    transcript = (await api.get(f"/api/conversations/{conversation.id}")).json()
    inbound, reply, agent, campaign = transcript["messages"]
    assert (inbound["intent"], inbound["confidence"], inbound["entities"]) == (
        "promise_to_pay", 0.91, [{"entity": "amount", "value": "50.00", "start": None,
                                  "end": None}])
    assert (inbound["sender_kind"], inbound["purpose"]) == ("debtor", None)
    shown = [(m["sender_kind"], m["intent"], m["confidence"], m["entities"], m["purpose"],
              m["delivery_status"]) for m in (reply, agent, campaign)]
    assert shown == [("bot", None, None, [], "reply", "sent"),
                     ("agent", None, None, [], "agent", "pending"),
                     ("campaign", None, None, [], "reminder", "delivered")]
    assert "idempotency_key" not in json.dumps(transcript)

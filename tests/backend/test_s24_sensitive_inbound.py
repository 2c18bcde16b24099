"""Card data a debtor types is never stored: not by SMS, not in the portal chat, not in the API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend.api.app import create_app
from backend.channels_wiring import install_channels
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Message
from backend.services import apikeys
from backend.services.compliance.card_data import MARKERS
from backend.services.inbox import store_inbound
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage
from nlu.types import Interpreter
from tests.channels.helpers import PHONE, PUBLIC_BASE_URL, payload, seed_debtor, twilio_post
from tests.conversations.test_portal_e2e import ACCOUNT
from tests.fakes.server import FakeServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

SMS = "/webhooks/twilio/sms"
TYPED = "Michael Hall here, my card 4111 1111 1111 1111 exp 12/27 cvv 123, ssn 123-45-6789"
STORED = (
    f"Michael Hall here, my card {MARKERS['card_number']} exp {MARKERS['card_expiry']} "
    f"cvv {MARKERS['security_code']}, ssn {MARKERS['ssn']}"
)
# What must be nowhere once stored: the number as typed and bare, the code, the SSN.
SECRETS = ("4111 1111 1111 1111", "4111111111111111", "cvv 123", "123-45-6789", "12/27")


@dataclass
class Parley:
    """The running app (SMS through a fake Twilio, the portal, the API) and an API key."""

    client: httpx.AsyncClient
    container: Container
    auth: dict[str, str]


@pytest.fixture
def twilio_api() -> Iterator[FakeServer]:
    """A fake Twilio REST API that accepts every message."""
    server = fake_twilio()
    yield server
    server.stop()


@pytest.fixture
async def parley(
    settings: Settings, clock: SettableClock, interpreter: Interpreter, twilio_api: FakeServer
) -> AsyncIterator[Parley]:
    """The app with channels, the real NLU and the conversations installed."""
    configured = settings.model_copy(
        update={
            "public_base_url": PUBLIC_BASE_URL,
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_api_url": twilio_api.base,
            "twilio_sms_from": "+12125550100",
        }
    )

    def use_nlu(app: FastAPI | None, container: Container) -> None:
        container.interpreter = interpreter

    app = create_app(
        configured,
        clock=clock,
        migrate=False,
        extensions=(install_channels, use_nlu, install_conversations),
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        # The public address: the portal's cookies are Secure when PUBLIC_BASE_URL is https.
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as client:
            yield Parley(client, container, {"Authorization": f"Bearer {raw}"})
            await container.services["dispatcher"].idle()


async def _text(parley: Parley, n: int, body: str) -> None:
    form = payload("twilio_sms_inbound.json")
    sid = f"SMcard{n:028d}"
    form.update({"Body": body, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid})
    response = await parley.client.post(**twilio_post(SMS, form))
    assert response.status_code == 200, response.text
    await parley.container.services["dispatcher"].idle()


async def _inbound(container: Container, channel: str) -> list[Message]:
    async with container.sessions() as session:
        return list(
            await session.scalars(
                select(Message)
                .where(Message.direction == "inbound", Message.channel == channel)
                .order_by(Message.id)
            )
        )


async def _transcript(parley: Parley, conversation_id: int) -> httpx.Response:
    response = await parley.client.get(f"/api/conversations/{conversation_id}", headers=parley.auth)
    assert response.status_code == 200, response.text
    return response


def _holds_no_card_data(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


async def test_a_signed_sms_with_card_data_is_stored_and_shown_without_it(
    parley: Parley, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_debtor(parley.container, now=parley.container.clock.now())
    with caplog.at_level(logging.INFO, logger="backend.services.inbox"):
        await _text(parley, 1, TYPED)
    # The identity answers that follow are stored as typed, and verify the debtor.
    await _text(parley, 2, "04/02/1985")
    await _text(parley, 3, "10001")

    first, dob, zip_code = await _inbound(parley.container, "sms")
    assert first.text == STORED and first.intent != "opt_out"  # the markers read as no STOP
    assert (dob.text, zip_code.text) == ("04/02/1985", "10001")
    transcript = await _transcript(parley, first.conversation_id)
    _holds_no_card_data(transcript.text)
    shown = [m["text"] for m in transcript.json()["messages"] if m["direction"] == "inbound"]
    assert shown == [STORED, "04/02/1985", "10001"]
    assert "you're verified" in transcript.json()["messages"][-1]["text"]

    [record] = [r for r in caplog.records if "card data removed" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        f"message {first.id}: card data removed (card_number, card_expiry, security_code, ssn)"
    )


async def test_a_portal_chat_message_with_card_data_is_stored_and_shown_without_it(
    parley: Parley,
) -> None:
    created = (await parley.client.post("/api/accounts", json=ACCOUNT, headers=parley.auth)).json()
    path = "/p/" + created["portal_url"].split("/p/")[1]
    for text in (TYPED, "03/14/1985", "10001"):
        response = await parley.client.post(f"{path}/messages", json={"text": text})
        assert response.status_code == 200, response.text
    assert "you're verified" in response.json()["replies"][0]["text"]  # the answers still work

    typed, dob, zip_code = await _inbound(parley.container, "web")
    assert (typed.text, dob.text, zip_code.text) == (STORED, "03/14/1985", "10001")
    _holds_no_card_data((await _transcript(parley, typed.conversation_id)).text)
    page = await parley.client.get(path)
    assert page.status_code == 200 and MARKERS["card_number"] in page.text
    _holds_no_card_data(page.text)


async def test_a_duplicate_delivery_finds_the_redacted_message(container: Container) -> None:
    inbound = InboundMessage(
        ConversationKey("whatsapp", PHONE), TYPED, "wamid.card1", container.clock.now()
    )
    async with container.sessions.begin() as session:
        first = await store_inbound(session, inbound, now=container.clock.now())
    async with container.sessions.begin() as session:
        again = await store_inbound(session, inbound, now=container.clock.now())
        stored = await session.get(Message, first.message_id)
    assert again.duplicate and again.message_id == first.message_id
    assert stored is not None and stored.text == STORED

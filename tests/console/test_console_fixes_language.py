"""One language per agent reply — notice, text, link sentence, STOP line — and canned replies,
and a slangy English message does not turn the conversation Spanish."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend.console import users
from backend.container import Container
from backend.db.models import Conversation, Debtor, Handoff
from backend.db.models.enums import Role
from backend.services.payments.links import PaymentLinks
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from backend.settings import Settings
from backend.wiring import build_parley_app
from bot.clock import SettableClock
from bot.dialogs.base import DialogState
from bot.engine import state_key
from bot.responses import Renderer
from bot.state import MemoryStateStore
from tests.channels.helpers import PHONE, PUBLIC_BASE_URL, payload, seed_debtor, twilio_post
from tests.console.conftest import NOW, PASSWORD, LoggedIn, Seeder, login
from tests.fakes.server import FakeServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

ENGLISH = ("This is a communication from a debt collector", "You can pay $",
           "Reply STOP to stop messages to this number.")
# The keyword the Spanish STOP line names may change (BAJA, STOP); its wording is Spanish.
SPANISH = ("Esta es una comunicación de un cobrador de deudas", "Puede pagar $",
           "para dejar de recibir mensajes en este número.")
CANNED = {"en": "Hi, this is Ana. I have read your messages",
          "es": "Hola, soy Ana. He leído sus mensajes"}
CANNED_OPTIONS = re.compile(r'<select id="canned".*?</select>', re.S)


def _in_one_language(body: str, language: str) -> None:
    said, other = (ENGLISH, SPANISH) if language == "en" else (SPANISH, ENGLISH)
    assert all(part in body for part in said), body
    assert not any(part in body for part in other), body


@dataclass
class Parley:
    """The assembled app, sending SMS through a fake Twilio."""

    client: httpx.AsyncClient
    container: Container
    twilio: FakeServer

    async def texts(self, n: int, body: str) -> None:
        """The debtor sends SMS number `n` and the turn runs."""
        form = payload("twilio_sms_inbound.json")
        sid = f"SMlang{n:028d}"
        form.update({"Body": body, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid})
        response = await self.client.post(**twilio_post("/webhooks/twilio/sms", form))
        assert response.status_code == 200, response.text
        await self.container.services["dispatcher"].idle()

    def sent(self) -> list[str]:
        return [c.form["Body"] for c in self.twilio.calls("/Messages.json")
                if c.form["To"] == PHONE]


@pytest.fixture
def twilio_api() -> AsyncIterator[FakeServer]:
    """A fake Twilio REST API that accepts every message."""
    server = fake_twilio()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
async def parley(settings: Settings, clock: SettableClock, trained_model_dir: Path,
                 twilio_api: FakeServer) -> AsyncIterator[Parley]:
    """The app `parley serve` runs, with the trained NLU and SMS through the fake Twilio."""
    configured = settings.model_copy(update={
        "nlu_model_dir": trained_model_dir, "public_base_url": PUBLIC_BASE_URL,
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_url": twilio_api.base, "twilio_sms_from": "+12125550100",
    })
    app = build_parley_app(configured, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as c:
            yield Parley(c, app.state.container, twilio_api)


async def _agent_claims(parley: Parley) -> tuple[str, str]:
    """Ana logs in and claims the queued conversation: (its page, her CSRF token)."""
    async with parley.container.sessions.begin() as session:
        handoff = await session.scalar(select(Handoff))
        await users.create_agent(session, email="ana@example.com", name="Ana", role=Role.AGENT,
                                 password=PASSWORD, now=parley.container.clock.now())
    assert handoff is not None, "the debtor asked for a person"
    token = await login(parley.client, "ana@example.com")
    page = f"/console/conversations/{handoff.conversation_id}"
    claimed = await parley.client.post(f"{page}/claim", data={"csrf_token": token})
    assert claimed.status_code == 303
    return page, token


async def _link_sent(parley: Parley, page: str, token: str) -> str:
    before = len(parley.sent())
    response = await parley.client.post(f"{page}/payment-link", data={
        "csrf_token": token, "amount": "50.00", "recipient_verified": "true"})
    assert response.status_code == 303, response.text[-500:]
    await parley.container.services["dispatcher"].idle()
    [body] = parley.sent()[before:]
    return body


async def _canned(client: httpx.AsyncClient, page: str) -> str:
    html = (await client.get(page)).text
    found = CANNED_OPTIONS.search(html)
    assert found is not None
    return found.group(0)


async def _conversation_language(container: Container) -> str | None:
    async with container.sessions() as session:
        return await session.scalar(select(Conversation.language))


async def test_a_slangy_english_message_leaves_an_english_debtor_in_english(
    parley: Parley,
) -> None:
    await seed_debtor(parley.container, now=parley.container.clock.now(), language="en")
    await parley.texts(1, "talk to a person")
    page, token = await _agent_claims(parley)
    await parley.texts(2, "yo whats up")
    assert await _conversation_language(parley.container) == "en"
    canned = await _canned(parley.client, page)
    assert CANNED["en"] in canned and CANNED["es"] not in canned
    _in_one_language(await _link_sent(parley, page, token), "en")


async def test_a_debtor_who_clearly_writes_spanish_gets_spanish_from_the_agent(
    parley: Parley,
) -> None:
    await seed_debtor(parley.container, now=parley.container.clock.now(), language="en")
    await parley.texts(1, "talk to a person")
    page, token = await _agent_claims(parley)
    await parley.texts(2, "hola, no entiendo, puedo pagar el viernes?")
    assert await _conversation_language(parley.container) == "es"
    canned = await _canned(parley.client, page)
    assert CANNED["es"] in canned and CANNED["en"] not in canned
    _in_one_language(await _link_sent(parley, page, token), "es")


@pytest.fixture
def framed(console: Container) -> MemoryStateStore:
    """The console with the bot's renderer, its state store, the policy and payment links."""
    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    console.services["payment_links"] = PaymentLinks(
        console.settings.secret_key, "http://127.0.0.1:8000", console.clock)
    states = MemoryStateStore()
    console.services["renderer"], console.services["state_store"] = Renderer(), states
    return states


@pytest.mark.parametrize(("bot", "conversation", "preferred", "language"), [
    ("en", "es", "en", "es"),  # the debtor's later, clear Spanish (read while Ana had it)
    ("es", None, "en", "es"),  # the bot's own language, before anything was stored
    (None, None, "es", "es"),  # nothing detected yet: the debtor's preference
    (None, "en", "es", "en"),
    (None, None, "en", "en"),
])
async def test_every_part_of_a_link_and_the_canned_replies_share_one_language(
    console: Container, framed: MemoryStateStore, seed: Seeder, logged_in: LoggedIn,
    bot: str | None, conversation: str | None, preferred: str, language: str,
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await seed("I want to talk to a person")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "request_agent", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
        row = await session.get(Conversation, cid)
        assert row is not None and row.debtor_id is not None
        row.language = conversation
        debtor = await session.get(Debtor, row.debtor_id)
        assert debtor is not None
        debtor.preferred_language = preferred
    await framed.set(state_key(cid), DialogState(language=bot).to_dict())
    page = f"/console/conversations/{cid}"
    response = await client.post(f"{page}/payment-link", data={
        "csrf_token": token, "amount": "30.00", "recipient_verified": "true"})
    assert response.status_code == 303
    [outbound] = console.services["outbox"].submitted
    assert outbound.language == language
    _in_one_language(outbound.text, language)
    canned = await _canned(client, page)
    assert f"{'Hola, soy' if language == 'es' else 'Hi, this is'} agent user" in canned

"""The product assembled as `parley serve` assembles it: a debtor's SMS conversation, end to end.

Real parts throughout: the Twilio webhook with its signature, the inbox, the dispatcher, the
trained embedded NLU, the engine and its policy, the compliance gate, the outbox and the real
Twilio SDK talking to a fake Twilio on 127.0.0.1; then the account API and the agent console see
what the conversation did.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from backend.console import users
from backend.container import Container
from backend.db.models import Handoff, Message, PaymentPlan, Promise
from backend.db.models.enums import Role
from backend.services import apikeys
from backend.services.events import drain_published
from backend.settings import Settings
from backend.wiring import build_parley_app
from bot.clock import SettableClock
from tests.channels.helpers import PHONE, PUBLIC_BASE_URL, payload, seed_debtor, twilio_post
from tests.console.conftest import PASSWORD, login
from tests.fakes.server import FakeServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

SMS = "/webhooks/twilio/sms"


@dataclass
class Parley:
    """The running app, its container and the fake Twilio it sends through."""

    client: httpx.AsyncClient
    container: Container
    twilio: FakeServer
    sent_before: int = 0

    async def texts(self, n: int, body: str) -> list[str]:
        """The debtor sends SMS number `n`; returns the bodies Parley sent back."""
        form = payload("twilio_sms_inbound.json")
        sid = f"SMe2e{n:029d}"
        form.update({"Body": body, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid})
        response = await self.client.post(**twilio_post(SMS, form))
        assert response.status_code == 200, response.text
        await self.container.services["dispatcher"].idle()
        calls = self.twilio.calls("/Messages.json")
        new, self.sent_before = calls[self.sent_before:], len(calls)
        assert all(call.form["To"] == PHONE for call in new)
        return [call.form["Body"] for call in new]


@pytest.fixture
def twilio_api() -> AsyncIterator[FakeServer]:
    """A fake Twilio REST API that accepts every message."""
    server = fake_twilio()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
async def parley(settings: Settings, clock: SettableClock, trained_model_dir: Path,
                 twilio_api: FakeServer) -> AsyncIterator[Parley]:
    """`build_parley_app` with SMS configured against the fake Twilio and the trained model."""
    configured = settings.model_copy(update={
        "nlu_model_dir": trained_model_dir, "public_base_url": PUBLIC_BASE_URL,
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_url": twilio_api.base, "twilio_sms_from": "+12125550100",
    })
    app = build_parley_app(configured, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        # The public address: the console's cookies are Secure when PUBLIC_BASE_URL is https.
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as c:
            yield Parley(c, app.state.container, twilio_api)


async def _api_key(container: Container) -> dict[str, str]:
    async with container.sessions.begin() as session:
        _, raw = await apikeys.create_key(session, "e2e", container.clock.now())
    return {"Authorization": f"Bearer {raw}"}


async def test_a_debtor_verifies_hears_the_balance_and_promises_by_sms(parley: Parley) -> None:
    _, account_id = await seed_debtor(parley.container, now=parley.container.clock.now())

    first = await parley.texts(1, "how much do I owe?")
    assert first and not any("420.50" in body for body in first)  # nothing before identity
    await parley.texts(2, "04/02/1985")
    balance = await parley.texts(3, "10001")
    assert any("$420.50" in body and "debt collector" in body for body in balance)

    await parley.texts(4, "I'll pay $100 on 2026-12-04")
    recorded = await parley.texts(5, "yes")
    assert recorded, "the promise is confirmed to the debtor"

    async with parley.container.sessions() as session:
        promise = await session.scalar(select(Promise).where(Promise.account_id == account_id))
        inbound = (await session.scalars(
            select(Message).where(Message.direction == "inbound"))).all()
    assert promise is not None
    assert (promise.amount, promise.due_date, promise.channel) == (
        Decimal("100.00"), date(2026, 12, 4), "sms")
    assert len(inbound) == 5 and all(m.processed_at is not None for m in inbound)
    assert {m.intent for m in inbound} >= {"affirm"}

    detail = await parley.client.get(f"/api/accounts/{account_id}",
                                     headers=await _api_key(parley.container))
    assert detail.status_code == 200
    assert [p["amount"] for p in detail.json()["promises"]] == ["100.00"]


async def test_plan_options_by_sms_are_numbered_once_and_picked_by_number(parley: Parley) -> None:
    _, account_id = await seed_debtor(parley.container, now=parley.container.clock.now())
    await parley.texts(1, "how much do I owe?")
    await parley.texts(2, "04/02/1985")
    await parley.texts(3, "10001")

    [options] = await parley.texts(4, "can I get a payment plan")
    numbers = [line.split(".")[0] for line in options.splitlines()
               if re.match(r"\d+\. ", line)]
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)] and len(numbers) >= 3
    assert options.count("Pay the balance") == 1
    assert re.search(r"\n\d+\. Talk to a person\n", options)
    assert options.endswith("Reply STOP to stop messages to this number.")  # footer last
    picked = await parley.texts(5, "2")
    assert any("plan is set" in body for body in picked)
    async with parley.container.sessions() as session:
        plan = await session.scalar(select(PaymentPlan)
                                    .where(PaymentPlan.account_id == account_id))
    assert plan is not None


async def test_a_debtor_who_asks_for_a_human_is_answered_by_an_agent_from_the_console(
    parley: Parley,
) -> None:
    await seed_debtor(parley.container, now=parley.container.clock.now())
    await parley.texts(1, "I want to talk to a real person")
    async with parley.container.sessions() as session:
        handoff = await session.scalar(select(Handoff))
    assert handoff is not None and handoff.status == "queued"

    async with parley.container.sessions.begin() as session:
        await users.create_agent(session, email="ana@example.com", name="Ana", role=Role.AGENT,
                                 password=PASSWORD, now=parley.container.clock.now())
    token = await login(parley.client, "ana@example.com")
    conversation = f"/console/conversations/{handoff.conversation_id}"
    assert conversation in (await parley.client.get("/console/queue")).text
    claimed = await parley.client.post(f"{conversation}/claim", data={"csrf_token": token})
    assert claimed.status_code == 303
    replied = await parley.client.post(f"{conversation}/reply", data={
        "csrf_token": token, "text": "Hi, this is Ana. How can I help?"})
    assert replied.status_code == 303
    await parley.container.services["dispatcher"].idle()
    bodies = [c.form["Body"] for c in parley.twilio.calls("/Messages.json")]
    assert bodies[-1].startswith("Hi, this is Ana. How can I help?")


async def test_the_console_hears_every_message_of_an_sms_turn(parley: Parley) -> None:
    await seed_debtor(parley.container, now=parley.container.clock.now())
    async with parley.container.services["events"].subscribe() as events:
        await parley.texts(1, "how much do I owe?")
        await drain_published()
        heard = []
        while (event := await events.next(within=0.5)) is not None:
            heard.append(dict(event.data))
    async with parley.container.sessions() as session:
        rows = (await session.scalars(select(Message).order_by(Message.id))).all()
    inbound = [r.id for r in rows if r.direction == "inbound"]
    outbound = [r.id for r in rows if r.direction == "outbound"]
    by_message: dict[int, set[str]] = {}
    for data in heard:
        by_message.setdefault(data["message_id"], set()).add(data["direction"])
    assert set(inbound) | set(outbound) <= set(by_message), "every message is announced"
    assert all(d["conversation_id"] == rows[0].conversation_id for d in heard)
    assert {"queued"} <= {d["status"] for d in heard if d["message_id"] in outbound}


async def test_a_forged_webhook_is_refused_and_stores_nothing(parley: Parley) -> None:
    form = payload("twilio_sms_inbound.json")
    response = await parley.client.post(
        SMS, content=urlencode(form),
        headers={"X-Twilio-Signature": "forged",
                 "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403
    async with parley.container.sessions() as session:
        assert (await session.scalars(select(Message))).all() == []

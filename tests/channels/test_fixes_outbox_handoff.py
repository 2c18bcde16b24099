"""A message the outbox gives up on hands its conversation to a person, once, and is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent, Conversation, Handoff, Message
from backend.services.compliance.consent import record_opt_out
from backend.services.delivery import envelope
from backend.services.handoff import HandoffService
from backend.services.queues import load_queues
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import (
    PHONE,
    StubTurnHandler,
    messages,
    payload,
    seed_debtor,
    twilio_post,
)
from tests.fakes.server import FakeServer
from tests.fakes.twilio import twilio_error

SMS = "/webhooks/twilio/sms"
OUTAGE = twilio_error(20503, 503, "Service unavailable")
UNDELIVERED = "reply_undelivered"  # the handoff reason (backend.services.outbox.UNDELIVERED)


def inbound(n: int, text: str) -> dict[str, str]:
    form = payload("twilio_sms_inbound.json")
    sid = f"SMho{n:030d}"
    form.update({"Body": text, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid})
    return form


async def fail_for_good(wired: Container, clock: SettableClock) -> list[Message]:
    """Run the release job at each deferred message's next try until none is deferred."""
    while deferred := [m for m in await messages(wired, "outbound")
                       if m.delivery_status == "deferred"]:
        clock.set(min(datetime.fromisoformat(envelope(m)["not_before"]) for m in deferred))
        await wired.services["outbox"].release_due(clock.now())
    return await messages(wired, "outbound")


async def handoffs(wired: Container) -> list[Handoff]:
    async with wired.sessions() as session:
        return list((await session.scalars(select(Handoff).order_by(Handoff.id))).all())


async def audited(wired: Container, action: str) -> list[AuditEvent]:
    async with wired.sessions() as session:
        return list((await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action))).all())


async def ownership(wired: Container, conversation_id: int) -> str:
    async with wired.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.ownership


async def submit(wired: Container, account_id: int, purpose: Purpose = Purpose.REPLY) -> int:
    outbound = OutboundMessage(key=ConversationKey("sms", PHONE), text="Your payment link",
                               purpose=purpose, account_id=account_id,
                               idempotency_key=f"test:{purpose}")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    assert decision.allowed and decision.message_id is not None
    return int(decision.message_id)


async def test_replies_undeliverable_for_24_hours_hand_the_conversation_to_a_person_once(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    await seed_debtor(wired, now=clock.now())
    wired.services["turn_handler"] = StubTurnHandler(wired)
    twilio_api.fail_next(*[OUTAGE] * 200)
    for n, text in enumerate(["Send me the payment link", "Hello?"], start=1):
        assert (await channel_client.post(**twilio_post(SMS, inbound(n, text)))).status_code == 200
    await wired.services["dispatcher"].idle()
    assert {m.delivery_status for m in await messages(wired, "outbound")} == {"deferred"}
    assert await handoffs(wired) == []  # still retrying: nobody is bothered yet

    replies = await fail_for_good(wired, clock)
    # The first reply is superseded by the answer to the second message (never sent late).
    assert [(m.delivery_status, m.error_code) for m in replies] == [
        ("superseded", "superseded"), ("failed", "20503")]
    [handoff] = await handoffs(wired)
    assert (handoff.reason, handoff.status, handoff.queue) == (UNDELIVERED, "queued", "general")
    assert handoff.conversation_id == replies[0].conversation_id
    assert await ownership(wired, handoff.conversation_id) == "queued"
    [event] = await audited(wired, "message.handed_off")
    assert event.subject_id == str(replies[1].id)
    assert event.data["handoff_id"] == handoff.id and event.data["reason"] == UNDELIVERED
    assert "payment" not in str(event.data).lower()  # never the message text
    [opened] = await audited(wired, "handoff.opened")
    assert opened.data["reason"] == UNDELIVERED and opened.actor == "system"
    assert len(await audited(wired, "message.failed")) == 1


async def test_a_message_the_gate_blocked_meanwhile_hands_nothing_over(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    twilio_api.fail_next(*[OUTAGE] * 200)
    message_id = await submit(wired, account_id)
    await wired.services["outbox"].send([message_id])
    async with wired.sessions.begin() as session:
        await record_opt_out(session, ConversationKey("sms", PHONE), "keyword:STOP", clock.now())
    [message] = await fail_for_good(wired, clock)
    assert (message.delivery_status, message.error_code) == ("blocked", "opted_out")
    clock.advance(timedelta(days=2))
    assert await wired.services["outbox"].release_due(clock.now()) == []
    assert await handoffs(wired) == []
    assert await audited(wired, "message.handed_off") == []


async def test_an_undeliverable_reminder_bothers_no_one(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    twilio_api.fail_next(*[OUTAGE] * 200)
    message_id = await submit(wired, account_id, Purpose.REMINDER)
    await wired.services["outbox"].send([message_id])
    [message] = await fail_for_good(wired, clock)
    assert message.delivery_status == "failed"
    assert await handoffs(wired) == []


async def test_a_sender_that_died_mid_send_hands_the_conversation_over(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    message_id = await submit(wired, account_id)
    outbox = wired.services["outbox"]
    assert await outbox._claim(message_id) is not None  # claimed, then the process died
    clock.advance(timedelta(minutes=11))
    await outbox.release_due(clock.now())
    [message] = await messages(wired, "outbound")
    assert (message.delivery_status, message.error_code) == ("failed", "unknown_outcome")
    [handoff] = await handoffs(wired)
    assert handoff.reason == UNDELIVERED and handoff.conversation_id == message.conversation_id
    assert len(await audited(wired, "message.handed_off")) == 1


async def test_the_shared_handoff_service_is_used_when_installed(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    calls: list[str] = []

    class Recording(HandoffService):
        async def open_handoff(self, *args: Any, **kwargs: Any) -> Any:
            calls.append(args[2])
            return await super().open_handoff(*args, **kwargs)

    shared = Recording(load_queues())
    wired.services["outbox"].handoffs = lambda: shared
    _, account_id = await seed_debtor(wired, now=clock.now())
    twilio_api.fail_next(*[OUTAGE] * 200)
    await wired.services["outbox"].send([await submit(wired, account_id)])
    await fail_for_good(wired, clock)
    assert calls == [UNDELIVERED]


async def test_the_app_hands_lost_replies_to_its_own_handoff_service(wired: Container) -> None:
    shared = wired.services.get("handoffs") or HandoffService(load_queues())
    wired.services["handoffs"] = shared  # as the console or the conversations install it
    assert wired.services["outbox"]._handoff_service() is shared

"""A provider outage longer than the request's retries defers the message; it is never lost."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent, Message
from backend.services.compliance.consent import record_opt_out
from backend.services.delivery import envelope
from bot.channels.base import Delivery, SendResult
from bot.channels.errors import ReEngagementRequired
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage
from bot.ports import OutboxDecision
from tests.channels.helpers import PHONE, messages, seed_debtor
from tests.fakes.server import FakeServer
from tests.fakes.twilio import twilio_error

OUTAGE = twilio_error(20503, 503, "Service unavailable")


async def submit_reply(container: Container, account_id: int) -> int:
    outbound = OutboundMessage(key=ConversationKey("sms", PHONE), text="Your reply",
                               account_id=account_id, idempotency_key="turn:1:reply")
    async with container.sessions.begin() as session:
        decision: OutboxDecision = await container.services["outbox"].submit(session, outbound)
    assert decision.allowed and decision.message_id is not None
    return decision.message_id


async def stored(container: Container) -> Message:
    [message] = await messages(container, "outbound")
    return message


def not_before(message: Message) -> datetime:
    return datetime.fromisoformat(envelope(message)["not_before"])


async def actions(container: Container, message_id: int) -> list[str]:
    async with container.sessions() as session:
        return list((await session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_type == "message", AuditEvent.subject_id == str(message_id))
            .order_by(AuditEvent.id))).all())


async def test_an_outage_longer_than_the_request_retries_is_sent_later(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    outbox = wired.services["outbox"]
    twilio_api.fail_next(*[OUTAGE] * 4)  # three calls in the request, one more later
    message_id = await submit_reply(wired, account_id)
    await outbox.send([message_id])
    assert len(twilio_api.calls("/Messages.json")) == 3
    first = await stored(wired)
    assert (first.delivery_status, first.error_code) == ("deferred", "20503")
    assert envelope(first)["failed_rounds"] == 1
    assert not_before(first) == clock.now() + timedelta(minutes=1)

    assert await outbox.release_due(clock.now()) == []  # not due yet
    clock.advance(timedelta(minutes=1))
    assert await outbox.release_due(clock.now()) == [message_id]
    assert len(twilio_api.calls("/Messages.json")) == 4  # one call per later round
    second = await stored(wired)
    assert (second.delivery_status, envelope(second)["failed_rounds"]) == ("deferred", 2)
    assert not_before(second) == clock.now() + timedelta(minutes=2)  # the wait doubles

    clock.advance(timedelta(minutes=2))
    assert await outbox.release_due(clock.now()) == [message_id]
    sent = await stored(wired)
    assert (sent.delivery_status, sent.error_code) == ("queued", None)
    assert (sent.provider_message_id or "").startswith("SM")
    assert len(twilio_api.calls("/Messages.json")) == 5
    assert (await actions(wired, message_id)).count("message.retry_later") == 2
    assert "message.failed" not in await actions(wired, message_id)


async def test_every_attempt_carries_the_same_idempotency_key(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    outbox = wired.services["outbox"]
    adapter = outbox.adapters["sms"]
    keys: list[str] = []

    async def recording_send(delivery: Delivery) -> SendResult:
        keys.append(delivery.idempotency_key)
        return await type(adapter).send(adapter, delivery)

    adapter.send = recording_send
    twilio_api.fail_next(*[OUTAGE] * 3)
    message_id = await submit_reply(wired, account_id)
    await outbox.send([message_id])
    clock.advance(timedelta(minutes=1))
    assert await outbox.release_due(clock.now()) == [message_id]
    assert keys == ["turn:1:reply"] * 4
    assert (await stored(wired)).delivery_status == "queued"


async def test_a_message_failing_for_24_hours_fails_for_good_and_is_audited(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    outbox = wired.services["outbox"]
    twilio_api.fail_next(*[OUTAGE] * 100)
    message_id = await submit_reply(wired, account_id)
    started = clock.now()
    await outbox.send([message_id])
    while (message := await stored(wired)).delivery_status == "deferred":
        clock.set(not_before(message))  # at night the gate defers it to 08:00 in between
        await outbox.release_due(clock.now())
    assert (message.delivery_status, message.error_code) == ("failed", "20503")
    assert clock.now() - started <= timedelta(hours=24)
    rounds = envelope(message)["failed_rounds"]
    assert 15 <= rounds <= 29  # 1, 2, 4 … 32 minutes, then hourly (not at night)
    assert len(twilio_api.calls("/Messages.json")) == 3 + rounds - 1
    async with wired.sessions() as session:
        failed = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "message.failed", AuditEvent.subject_id == str(message_id)))
    assert failed is not None and failed.data["failed_rounds"] == rounds
    assert await outbox.release_due(clock.now() + timedelta(days=1)) == []


async def test_a_retry_is_gated_again_and_an_opt_out_meanwhile_blocks_it(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    outbox = wired.services["outbox"]
    twilio_api.fail_next(*[OUTAGE] * 3)
    message_id = await submit_reply(wired, account_id)
    await outbox.send([message_id])
    async with wired.sessions.begin() as session:
        await record_opt_out(session, ConversationKey("sms", PHONE), "keyword:STOP", clock.now())
    clock.advance(timedelta(minutes=1))
    assert await outbox.release_due(clock.now()) == []
    assert len(twilio_api.calls("/Messages.json")) == 3
    message = await stored(wired)
    assert (message.delivery_status, message.error_code) == ("blocked", "opted_out")


async def test_a_retry_that_falls_in_the_night_waits_for_the_morning(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    outbox = wired.services["outbox"]
    clock.advance(timedelta(hours=10, minutes=59))  # 20:59 in New York
    twilio_api.fail_next(*[OUTAGE] * 3)
    message_id = await submit_reply(wired, account_id)
    await outbox.send([message_id])
    clock.advance(timedelta(minutes=1))
    assert await outbox.release_due(clock.now()) == []
    message = await stored(wired)
    assert message.delivery_status == "deferred" and message.error_code == "quiet_hours"
    clock.set(not_before(message))  # 08:00
    assert await outbox.release_due(clock.now()) == [message_id]
    assert (await stored(wired)).delivery_status == "queued"


async def test_permanent_errors_still_fail_at_once(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    twilio_api.fail_next(twilio_error(21211, 400, "Invalid 'To' Phone Number"))
    message_id = await submit_reply(wired, account_id)
    await wired.services["outbox"].send([message_id])
    assert len(twilio_api.calls("/Messages.json")) == 1
    message = await stored(wired)
    assert (message.delivery_status, message.error_code) == ("failed", "21211")
    assert "message.retry_later" not in await actions(wired, message_id)


async def test_a_retried_message_still_switches_to_its_template_once(
    channel_client: httpx.AsyncClient, wired: Container,
) -> None:
    outbox = wired.services["outbox"]
    sent: list[bool] = []

    class WindowClosed:
        async def send(self, delivery: Delivery) -> SendResult:
            sent.append(delivery.use_template)
            if not delivery.use_template:
                raise ReEngagementRequired("outside the window", "63016")
            return SendResult("SMtemplate", "queued")

    delivery = Delivery(key=ConversationKey("whatsapp", PHONE), text="Hi",
                        idempotency_key="k", template="parley_reminder")
    outcome = await outbox._deliver(WindowClosed(), delivery, 1)
    assert isinstance(outcome, SendResult) and sent == [False, True]

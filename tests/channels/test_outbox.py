"""The outbox: gated and stored first, sent once to the fake Twilio, errors recorded."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent
from bot.clock import SettableClock
from bot.messages import Choice, ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from tests.channels.helpers import PHONE, PUBLIC_BASE_URL, contact, messages, seed_debtor
from tests.fakes.server import FakeServer
from tests.fakes.twilio import twilio_error


async def submit(container: Container, outbound: OutboundMessage) -> OutboxDecision:
    async with container.sessions.begin() as session:
        return await container.services["outbox"].submit(session, outbound)


def reply(account_id: int, text: str = "Hello from Parley", **kw: object) -> OutboundMessage:
    return OutboundMessage(key=ConversationKey("sms", PHONE), text=text, account_id=account_id,
                           **kw)  # type: ignore[arg-type]


async def test_a_reminder_is_stored_gated_audited_and_sent(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    decision = await submit(wired, reply(account_id, purpose=Purpose.REMINDER))
    assert decision.allowed and decision.message_id is not None
    await wired.services["outbox"].send([decision.message_id])
    [call] = twilio_api.calls("/Messages.json")
    assert call.form["To"] == PHONE and call.form["From"] == "+12125550100"
    assert call.form["Body"] == "Hello from Parley"
    assert call.form["StatusCallback"] == PUBLIC_BASE_URL + "/webhooks/twilio/status"
    [stored] = await messages(wired, "outbound")
    assert (stored.provider_message_id or "").startswith("SM")
    assert stored.delivery_status == "queued"
    async with wired.sessions() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert "compliance.pending" in actions


async def test_two_reminders_at_once_never_pass_the_frequency_cap_together(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    for _ in range(2):  # the cap is 3 a week on a channel: one more may go
        assert (await submit(wired, reply(account_id, purpose=Purpose.REMINDER))).allowed
    outbox, submitted, release = wired.services["outbox"], asyncio.Event(), asyncio.Event()

    async def campaign_step() -> OutboxDecision:
        async with wired.sessions.begin() as session:
            decision = await outbox.submit(session, reply(account_id, purpose=Purpose.REMINDER))
            submitted.set()
            await release.wait()  # still uncommitted while the other one is gated
        return decision

    async def reminder() -> OutboxDecision:
        await submitted.wait()
        return await submit(wired, reply(account_id, purpose=Purpose.REMINDER))

    first, second = asyncio.create_task(campaign_step()), asyncio.create_task(reminder())
    await submitted.wait()
    await asyncio.sleep(0.3)
    release.set()
    decisions = await asyncio.gather(first, second)
    assert [(d.status, d.reason) for d in decisions] == [
        ("pending", None), ("deferred", "frequency_cap")]


async def test_sending_the_same_message_twice_calls_the_provider_once(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    decision = await submit(wired, reply(account_id))
    assert decision.message_id is not None
    await wired.services["outbox"].send([decision.message_id, decision.message_id])
    await wired.services["outbox"].send([decision.message_id])
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_rate_limits_and_server_errors_are_retried_with_backoff(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    twilio_api.fail_next(twilio_error(20429, 429), twilio_error(20500, 503))
    decision = await submit(wired, reply(account_id))
    await wired.services["outbox"].send([decision.message_id])
    assert len(twilio_api.calls("/Messages.json")) == 3
    [stored] = await messages(wired, "outbound")
    assert stored.delivery_status == "queued" and stored.error_code is None


async def test_a_provider_that_keeps_failing_is_retried_later_not_in_a_loop(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    twilio_api.fail_next(*[twilio_error(20500, 500)] * 5)
    decision = await submit(wired, reply(account_id))
    await wired.services["outbox"].send([decision.message_id])
    assert len(twilio_api.calls("/Messages.json")) == 3
    [stored] = await messages(wired, "outbound")
    # Deferred for the release job (tests/channels/test_fixes_outbox_retry.py), not lost.
    assert (stored.delivery_status, stored.error_code) == ("deferred", "20500")


async def test_21610_records_an_opt_out_and_stops_later_messages(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    twilio_api.fail_next(twilio_error(21610, 400, "Attempt to send to unsubscribed recipient"))
    decision = await submit(wired, reply(account_id))
    await wired.services["outbox"].send([decision.message_id])
    assert len(twilio_api.calls("/Messages.json")) == 1  # permanent: no retry
    [stored] = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("failed", "21610")
    point = await contact(wired, "sms", PHONE)
    assert point is not None and point.opted_out_at is not None
    later = await submit(wired, reply(account_id))
    assert (later.status, later.reason) == ("blocked", "opted_out")


async def test_a_blocked_message_is_stored_with_its_reason_and_never_sent(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), attorney=True)
    decision = await submit(wired, reply(account_id))
    assert (decision.status, decision.reason) == ("blocked", "stop_state:attorney")
    await wired.services["outbox"].send([decision.message_id])
    assert twilio_api.calls("/Messages.json") == []
    [stored] = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("blocked", "stop_state:attorney")


async def test_a_deferred_message_is_rechecked_and_sent_when_allowed(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    clock.advance(timedelta(hours=12))  # 22:00 in New York
    decision = await submit(wired, reply(account_id, purpose=Purpose.REMINDER))
    assert decision.status == "deferred" and decision.not_before is not None
    assert await wired.services["outbox"].release_due(clock.now()) == []
    clock.set(decision.not_before)
    assert await wired.services["outbox"].release_due(clock.now()) == [decision.message_id]
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_a_deferred_message_is_not_sent_if_the_debtor_opted_out_meanwhile(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    clock.advance(timedelta(hours=12))
    decision = await submit(wired, reply(account_id, purpose=Purpose.REMINDER))
    assert decision.not_before is not None
    async with wired.sessions.begin() as session:
        from backend.services.compliance.consent import record_opt_out

        await record_opt_out(session, ConversationKey("sms", PHONE), "keyword:STOP", clock.now())
    clock.set(decision.not_before)
    assert await wired.services["outbox"].release_due(clock.now()) == []
    assert twilio_api.calls("/Messages.json") == []
    [stored] = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("blocked", "opted_out")


async def test_choices_become_numbered_text_on_sms(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    choices = (Choice("Pay now", "pay"), Choice("Talk to a person", "agent"))
    decision = await submit(wired, reply(account_id, text="What next?", choices=choices))
    await wired.services["outbox"].send([decision.message_id])
    body = twilio_api.calls("/Messages.json")[0].form["Body"]
    assert body == "What next?\n\n1. Pay now\n2. Talk to a person"

"""Frequency caps: across channels, by area-code state, at send time, agents; paid accounts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Conversation, Message
from backend.services.compliance.facts import ContactState, GateFacts, SentRecord
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from tests.channels.helpers import messages, seed_debtor
from tests.fakes.server import FakeServer

RULES = load_rules()
MA_PHONE = "+16175551234"
NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


async def submit(container: Container, outbound: OutboundMessage) -> OutboxDecision:
    async with container.sessions.begin() as session:
        return await container.services["outbox"].submit(session, outbound)


def message(account_id: int, purpose: Purpose = Purpose.REMINDER, channel: str = "sms",
            phone: str = "+12125551234", **kw: object) -> OutboundMessage:
    return OutboundMessage(key=ConversationKey(channel, phone), text="Hello, Reply STOP to stop",
                           purpose=purpose, account_id=account_id, **kw)  # type: ignore[arg-type]


async def test_massachusetts_counts_sms_and_whatsapp_together(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now(), region="MA",
                                      channels=("sms", "whatsapp"))
    for _ in range(2):
        assert (await submit(wired, message(account_id))).allowed
        clock.advance(timedelta(days=1))
    third = await submit(wired, message(account_id, channel="whatsapp",
                                        template="parley_reminder"))
    assert (third.status, third.reason) == ("deferred", "frequency_cap")
    assert third.not_before == clock.now() + timedelta(days=5)


def test_the_policy_cap_stays_per_channel_and_massachusetts_counts_every_channel() -> None:
    sms = tuple(SentRecord(NOON_NY - timedelta(days=d), "reminder", 1, "sms") for d in (3, 2, 1))
    wa = OutboundMessage(key=ConversationKey("whatsapp", "+12125551234"), text="Hi",
                         purpose=Purpose.REMINDER, account_id=1, template="parley_reminder")
    ny = GateFacts(zones=("America/New_York",), regions=("NY",), recent=sms,
                   contact=ContactState(opted_out_at=None, consent=True, wrong_party=False))
    assert decide(wa, ny, RULES, NOON_NY).allowed  # 3 a week on each channel
    ma = decide(wa, replace(ny, regions=("MA",)), RULES, NOON_NY)
    assert ma.reason == "frequency_cap"
    assert (ma.details["cap"], ma.details["scope"], ma.details["counted"]) == (
        2, "all_channels", 3)


@pytest.mark.parametrize(("phone", "state"), [
    ("+16175551234", "MA"), ("+16172271234", "MA"), ("+12125551234", "NY"),
    ("+13035551234", "CO"), ("+18005551234", None), ("+447700900123", None),
])
def test_the_area_code_names_its_state(phone: str, state: str | None) -> None:
    from backend.services.compliance.facts import area_code_state

    assert area_code_state(phone) == state


async def test_a_massachusetts_phone_brings_the_massachusetts_cap_to_a_new_york_address(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now(), region="NY", phone=MA_PHONE)
    for _ in range(2):
        assert (await submit(wired, message(account_id, phone=MA_PHONE))).allowed
        clock.advance(timedelta(days=1))
    third = await submit(wired, message(account_id, phone=MA_PHONE))
    assert (third.status, third.reason) == ("deferred", "frequency_cap")


async def test_a_deferred_reminder_counts_from_when_it_was_sent(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now(), region="MA")
    outbox = wired.services["outbox"]
    for _ in range(2):  # sent, as their senders do (a release sends what was never sent)
        sent = await submit(wired, message(account_id))
        assert sent.allowed and sent.message_id is not None
        await outbox.send([sent.message_id])
    clock.advance(timedelta(hours=1))
    held = await submit(wired, message(account_id))
    assert held.reason == "frequency_cap" and held.not_before is not None
    clock.set(held.not_before)
    assert await outbox.release_due(clock.now()) == [held.message_id]
    clock.advance(timedelta(hours=1))
    assert (await submit(wired, message(account_id))).allowed  # the second of this week
    clock.advance(timedelta(hours=1))
    third = await submit(wired, message(account_id))
    assert (third.status, third.reason) == ("deferred", "frequency_cap")
    [*_, released, _, _] = await messages(wired, "outbound")
    assert released.processed_at is not None and released.processed_at >= held.not_before


async def test_a_message_being_sent_after_a_long_deferral_is_not_taken_for_stuck(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    sent = await submit(wired, message(account_id))
    clock.advance(timedelta(days=7))
    async with wired.sessions.begin() as session:  # claimed a minute ago, still at the provider
        row = await session.get(Message, sent.message_id)
        assert row is not None
        row.delivery_status, row.processed_at = "queued", clock.now() - timedelta(minutes=1)
    await wired.services["outbox"].release_due(clock.now())
    [row] = await messages(wired, "outbound")
    assert (row.delivery_status, row.error_code) == ("queued", None)


async def _update_account(container: Container, account_id: int, **values: object) -> None:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        for name, value in values.items():
            setattr(account, name, value)


@pytest.mark.parametrize(("change", "reason"), [
    ({"status": "paid", "current_balance": Decimal("0.00")}, "account_paid"),
    ({"hardship": True}, "hardship_pause"),
])
async def test_a_reminder_deferred_overnight_is_not_sent_once_paid_or_in_hardship(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
    twilio_api: FakeServer, change: dict[str, object], reason: str,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    clock.advance(timedelta(hours=12))  # 22:00 in New York
    held = await submit(wired, message(account_id))
    assert held.status == "deferred" and held.not_before is not None
    await _update_account(wired, account_id, **change)
    clock.set(held.not_before)
    assert await wired.services["outbox"].release_due(clock.now()) == []
    assert twilio_api.calls("/Messages.json") == []
    [stored] = await messages(wired, "outbound")
    assert (stored.delivery_status, stored.error_code) == ("blocked", reason)


@pytest.mark.parametrize(("status", "balance", "reason"), [
    ("paid", "0.00", "account_paid"), ("settled", "0.00", "account_settled"),
    ("closed", "12.00", "account_closed"), ("active", "0.00", "account_paid"),
])
async def test_paid_settled_and_closed_accounts_get_no_reminder_but_replies_and_receipts(
    channel_client: httpx.AsyncClient, wired: Container, status: str, balance: str,
    reason: str,
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now())
    await _update_account(wired, account_id, status=status, current_balance=Decimal(balance))
    assert (await submit(wired, message(account_id))).reason == reason
    assert (await submit(wired, message(account_id, Purpose.PAYMENT_RECEIPT))).allowed
    assert (await submit(wired, message(account_id, Purpose.AGENT))).allowed


async def _debtor_writes(container: Container, account_id: int, at: datetime) -> int:
    async with container.sessions.begin() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.account_id == account_id))
        assert conversation_id is not None
        inbound = Message(conversation_id=conversation_id, direction="inbound", channel="sms",
                          text="who is this?", delivery_status="received", created_at=at,
                          processed_at=at)
        session.add(inbound)
        await session.flush()
        return inbound.id


async def test_an_agent_writing_first_counts_toward_the_cap_an_answer_does_not(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now(), region="MA")
    assert (await submit(wired, message(account_id, Purpose.AGENT))).allowed
    clock.advance(timedelta(days=1))
    inbound_id = await _debtor_writes(wired, account_id, clock.now())
    clock.advance(timedelta(minutes=5))
    answer = await submit(wired, message(account_id, Purpose.AGENT))
    assert answer.allowed
    clock.advance(timedelta(days=1))
    assert (await submit(wired, message(account_id, Purpose.AGENT))).allowed  # the second
    clock.advance(timedelta(days=1))
    third = await submit(wired, message(account_id, Purpose.AGENT))
    assert (third.status, third.reason) == ("deferred", "frequency_cap")
    stored = {m.id: m for m in await messages(wired, "outbound")}
    assert (stored[answer.message_id].entities or [{}])[0]["outbound"]["initiated"] is False
    assert inbound_id not in stored


async def test_an_agent_messaging_a_debtor_who_never_wrote_is_capped(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now(), region="MA")
    decisions = []
    for _ in range(5):
        decisions.append(await submit(wired, message(account_id, Purpose.AGENT)))
        clock.advance(timedelta(days=1))
    assert [d.status for d in decisions] == ["pending", "pending", "deferred", "deferred",
                                            "deferred"]

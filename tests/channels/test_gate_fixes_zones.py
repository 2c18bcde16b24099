"""Quiet hours intersect every zone the debtor may be in: address and every known phone."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend.container import Container
from backend.db.models import Account, ContactPoint
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from bot.ports import OutboxDecision
from tests.channels.helpers import PHONE, seed_debtor

DENVER_LANDLINE = "+13035550123"


async def submit(container: Container, outbound: OutboundMessage) -> OutboxDecision:
    async with container.sessions.begin() as session:
        return await container.services["outbox"].submit(session, outbound)


def reminder(account_id: int, key: ConversationKey) -> OutboundMessage:
    return OutboundMessage(key=key, text="Hello, Reply STOP to stop", purpose=Purpose.REMINDER,
                           account_id=account_id)


async def test_a_telegram_reminder_keeps_the_hours_of_the_debtors_new_york_mobile(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now(), region="CA",
                                      timezone="America/Los_Angeles",
                                      channels=("sms", "telegram"))
    clock.advance(timedelta(hours=13))  # 23:00 in New York, 20:00 in Los Angeles
    decision = await submit(wired, reminder(account_id, ConversationKey("telegram", "777001")))
    assert (decision.status, decision.reason) == ("deferred", "quiet_hours")
    assert decision.not_before == clock.now() + timedelta(hours=12)  # 11:00 NY = 08:00 LA


async def test_a_text_to_the_mobile_waits_for_the_morning_at_the_denver_landline(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    await _add_phone(wired, account_id, DENVER_LANDLINE)
    clock.set(clock.now() - timedelta(hours=1, minutes=30))  # 08:30 in New York, 06:30 Denver
    decision = await submit(wired, reminder(account_id, ConversationKey("sms", PHONE)))
    assert (decision.status, decision.reason) == ("deferred", "quiet_hours")
    assert decision.not_before == clock.now() + timedelta(hours=1, minutes=30)


async def test_a_number_someone_else_answered_says_nothing_about_where_the_debtor_is(
    channel_client: httpx.AsyncClient, wired: Container, clock: SettableClock,
) -> None:
    _, account_id = await seed_debtor(wired, now=clock.now())
    await _add_phone(wired, account_id, DENVER_LANDLINE, wrong_party=True)
    clock.set(clock.now() - timedelta(hours=1, minutes=30))
    assert (await submit(wired, reminder(account_id, ConversationKey("sms", PHONE)))).allowed


async def _add_phone(container: Container, account_id: int, phone: str,
                     wrong_party: bool = False) -> None:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        session.add(ContactPoint(debtor_id=account.debtor_id, channel="sms", address=phone,
                                 consent=True, wrong_party=wrong_party,
                                 created_at=container.clock.now()))

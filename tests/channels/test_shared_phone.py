"""A phone two debtors share: each account's messages go to a conversation of its own."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Conversation, Message
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, seed_debtor


async def _remind(container: Container, account_id: int) -> int:
    outbound = OutboundMessage(key=ConversationKey("sms", PHONE), text="A reminder",
                               account_id=account_id, purpose=Purpose.REMINDER)
    async with container.sessions.begin() as session:
        decision = await container.services["outbox"].submit(session, outbound)
    async with container.sessions() as session:
        conversation_id = await session.scalar(
            select(Message.conversation_id).where(Message.id == decision.message_id))
    assert conversation_id is not None
    return int(conversation_id)


async def test_a_reminder_for_each_debtor_on_a_shared_phone_is_its_own_conversation(
    channel_client: httpx.AsyncClient, wired: Container
) -> None:
    clock = wired.clock
    assert isinstance(clock, SettableClock)
    debtor_a, account_a = await seed_debtor(wired, now=clock.now())
    clock.advance(timedelta(seconds=1))
    debtor_b, account_b = await seed_debtor(wired, now=clock.now())
    first_a = await _remind(wired, account_a)
    first_b = await _remind(wired, account_b)
    again_a = await _remind(wired, account_a)
    async with wired.sessions() as session:
        rows = {c.id: (c.debtor_id, c.account_id)
                for c in await session.scalars(select(Conversation))}
    assert first_a == again_a != first_b
    assert rows[first_a] == (debtor_a, account_a)
    assert rows[first_b] == (debtor_b, account_b)  # not debtor A's with account B's debt

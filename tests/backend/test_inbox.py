"""Storing inbound messages: stored once, linked to the right debtor and account."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Message
from backend.services.demo import demo_rows
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from bot.messages import ConversationKey, InboundMessage

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _inbound(address: str, sid: str, channel: str = "sms") -> InboundMessage:
    return InboundMessage(ConversationKey(channel, address), "hola", sid, NOW)


async def test_a_known_phone_links_debtor_and_account(container: Container) -> None:
    rows = demo_rows(3, NOW.date())
    async with container.sessions.begin() as session:
        await upsert_accounts(session, rows, NOW)
        stored = await store_inbound(session, _inbound(rows[1].phone or "", "SM1"), now=NOW)
    assert stored.debtor_id is not None and stored.account_id is not None
    assert not stored.duplicate


async def test_the_same_provider_id_is_stored_once(container: Container) -> None:
    async with container.sessions.begin() as session:
        first = await store_inbound(session, _inbound("+12125551234", "SM9"), now=NOW)
    async with container.sessions.begin() as session:
        again = await store_inbound(session, _inbound("+12125551234", "SM9"), now=NOW)
        count = await session.scalar(select(func.count(Message.id)))
    assert again.duplicate and again.message_id == first.message_id
    assert count == 1


async def test_an_unknown_number_gets_a_conversation_without_a_debtor(container: Container) -> None:
    async with container.sessions.begin() as session:
        stored = await store_inbound(session, _inbound("+13055550199", "SM2"), now=NOW)
        again = await store_inbound(session, _inbound("+13055550199", "SM3"), now=NOW)
    assert stored.debtor_id is None and stored.account_id is None
    assert again.conversation_id == stored.conversation_id

"""While a person owns the conversation the bot answers nothing, but what binds the collector
on receipt is still recorded: hours called inconvenient and a written cease."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select, update

from backend.db.models import Account, ContactPoint, Conversation, Debtor
from backend.db.models.enums import Ownership
from tests.conversations.conftest import Chat


async def _agent_takes_over(chat: Chat) -> None:
    await chat.says("hi")  # opens the conversation
    async with chat.container.sessions.begin() as session:
        await session.execute(update(Conversation).values(ownership=Ownership.AGENT))


async def test_inconvenient_hours_are_kept_while_an_agent_owns_the_conversation(
    chat: Chat,
) -> None:
    await _agent_takes_over(chat)
    before = len(chat.outbox.messages)
    out = await chat.says("please don't text me before noon")
    assert out.effects == ["SetContactHours"]
    assert len(chat.outbox.messages) == before  # the agent answers, not the bot
    async with chat.container.sessions() as session:
        debtor = await session.scalar(select(Debtor))
    assert debtor is not None and debtor.contact_not_before == time(12)


async def test_a_written_cease_stops_collection_while_an_agent_owns_the_conversation(
    chat: Chat,
) -> None:
    await _agent_takes_over(chat)
    before = len(chat.outbox.messages)
    out = await chat.says("I refuse to pay this. Cease all communication")
    assert "SetStopState" in out.effects and "Handoff" not in out.effects
    assert len(chat.outbox.messages) == before
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
        point = await session.scalar(select(ContactPoint))
        conversation = await session.scalar(select(Conversation))
    assert account is not None and account.cease
    assert point is not None and point.opted_out_at is not None
    assert conversation is not None and conversation.ownership == Ownership.AGENT


async def test_an_ordinary_message_to_an_agent_records_nothing(chat: Chat) -> None:
    await _agent_takes_over(chat)
    out = await chat.says("ok I will call you tomorrow about it")
    assert out.effects == []
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None and not account.cease

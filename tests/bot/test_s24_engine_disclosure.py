"""The disclosure is noted as given only when the gate lets its reply go."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Conversation
from bot.dialogs.base import DialogState
from bot.engine import state_key
from tests.bot.test_s24_engine_blocked_handoff import GatingOutbox, chat_with, outbox_of
from tests.conversations.conftest import Chat

FULL = "This is a communication from a debt collector. This is an attempt to collect a debt"
SHORT = "This is a communication from a debt collector."


@pytest.fixture
async def chat(container: Container) -> AsyncIterator[Chat]:
    yield await chat_with(container, GatingOutbox())


async def _disclosed_in(chat: Chat) -> list[str]:
    async with chat.container.sessions() as session:
        conversation_id = await session.scalar(select(Conversation.id))
    assert conversation_id is not None
    state = DialogState.from_dict(await chat.engine.states.get(state_key(conversation_id)))
    return state.disclosed_in


async def test_a_blocked_debt_reply_leaves_the_disclosure_for_the_next_allowed_one(
    chat: Chat,
) -> None:
    outbox = outbox_of(chat)
    await chat.says("how much do I owe?")
    await chat.says("03/14/1985")
    outbox.block_debt("blocked_by_test")  # no reason for a person: the bot answers next
    blocked = await chat.says("10001")
    assert [(r.key, r.decision.status) for r in blocked.replies] == [("balance.answer", "blocked")]
    assert blocked.replies[0].text.startswith(FULL)

    outbox.let_through()
    allowed = await chat.says("what's my balance")
    assert [(r.key, r.decision.status) for r in allowed.replies] == [("balance.answer", "pending")]
    assert allowed.replies[0].text.startswith(FULL), allowed.replies[0].text
    assert await _disclosed_in(chat) == ["en"]  # noted once given

    again = await chat.says("what's my balance")
    assert FULL not in again.replies[0].text and SHORT in again.replies[0].text

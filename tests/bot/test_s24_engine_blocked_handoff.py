"""A turn whose every reply the gate blocked goes to a person, unless silence is the law."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Conversation, Handoff
from backend.services.imports.writer import upsert_accounts
from bot.messages import ConversationKey, OutboundMessage
from bot.ports import OutboxDecision
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox, RuleInterpreter


@dataclass
class GatingOutbox(CollectingOutbox):
    """Records every message and decides as told: let through, block or defer."""

    status: str = "pending"
    reason: str | None = None
    debt_only: bool = False

    def block(self, reason: str) -> None:
        """Block every message from now on, for `reason`."""
        self.status, self.reason, self.debt_only = "blocked", reason, False

    def block_debt(self, reason: str) -> None:
        """Block the messages about the debt from now on, for `reason`."""
        self.status, self.reason, self.debt_only = "blocked", reason, True

    def defer(self, reason: str) -> None:
        """Defer every message from now on, for `reason`."""
        self.status, self.reason, self.debt_only = "deferred", reason, False

    def let_through(self) -> None:
        """Let every message go from now on."""
        self.status, self.reason, self.debt_only = "pending", None, False

    async def submit(self, session: Any, outbound: OutboundMessage) -> OutboxDecision:
        self.messages.append(outbound)
        if self.debt_only and not outbound.discusses_debt:
            return OutboxDecision(len(self.messages), "pending")
        return OutboxDecision(len(self.messages), self.status, self.reason)


async def chat_with(container: Container, outbox: GatingOutbox) -> Chat:
    """The debtor of `account_row` talking over SMS to the engine, through `outbox`."""
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    container.services["outbox"] = outbox
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), outbox)


@pytest.fixture
async def chat(container: Container) -> AsyncIterator[Chat]:
    yield await chat_with(container, GatingOutbox())


def outbox_of(chat: Chat) -> GatingOutbox:
    assert isinstance(chat.outbox, GatingOutbox)
    return chat.outbox


async def _handoffs(chat: Chat) -> list[Handoff]:
    async with chat.container.sessions() as session:
        return list((await session.scalars(select(Handoff).order_by(Handoff.id))).all())


async def _ownership(chat: Chat) -> str | None:
    async with chat.container.sessions() as session:
        return await session.scalar(select(Conversation.ownership))


@pytest.mark.parametrize("reason", ["identity_unverified", "no_allowed_hours"])
async def test_a_turn_whose_every_reply_was_blocked_goes_to_a_person(
    chat: Chat,
    reason: str,
) -> None:
    outbox_of(chat).block(reason)
    result = await chat.says("hi")
    assert [r.decision.status for r in result.replies] == ["blocked"]
    assert result.effects == ["Handoff"]
    [handoff] = await _handoffs(chat)
    assert (handoff.reason, handoff.queue) == ("reply_blocked", "general")
    assert handoff.note == f"every reply was blocked: {reason}"  # no words of the debtor
    assert await _ownership(chat) == "queued"


@pytest.mark.parametrize("reason", ["opted_out", "wrong_party", "stop_state:cease"])
async def test_a_turn_blocked_where_silence_is_the_law_goes_to_nobody(
    chat: Chat,
    reason: str,
) -> None:
    outbox_of(chat).block(reason)
    result = await chat.says("hi")
    assert [r.decision.status for r in result.replies] == ["blocked"]
    assert result.effects == []
    assert await _handoffs(chat) == []
    assert await _ownership(chat) == "bot"


async def test_a_deferred_reply_is_no_reason_for_a_person(chat: Chat) -> None:
    outbox_of(chat).defer("quiet_hours")
    result = await chat.says("hi")
    assert [r.decision.status for r in result.replies] == ["deferred"]
    assert await _handoffs(chat) == []


async def test_a_turn_that_handed_off_already_is_not_handed_off_twice(chat: Chat) -> None:
    outbox_of(chat).block("identity_unverified")
    result = await chat.says("let me talk to a human")
    assert result.replies and all(r.decision.status == "blocked" for r in result.replies)
    [handoff] = await _handoffs(chat)
    assert handoff.reason != "reply_blocked"
    assert result.effects.count("Handoff") == 1


def test_the_card_data_notice_let_through_does_not_count_as_an_answer() -> None:
    from bot.dialogs import card_warning
    from bot.engine import SentReply, _blocked_reasons

    notice = SentReply("For your security…", (), OutboxDecision(1, "pending"), card_warning.NOTICE)
    answer = SentReply("…", (), OutboxDecision(2, "blocked", "identity_unverified"), "balance.x")
    assert _blocked_reasons([notice, answer]) == {"identity_unverified"}
    assert _blocked_reasons([notice]) == frozenset()

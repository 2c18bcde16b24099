"""A lawyer, a bankruptcy, a death, a dispute or an opt-out binds on receipt: recorded while a
person holds the conversation (waiting in a queue or claimed) and while another stop-state
already holds the account, never left for an agent to notice."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from backend.db.models import Account, ContactPoint, Conversation, Dispute, Handoff
from backend.db.models.enums import Ownership
from bot.dialogs import router
from bot.dialogs.base import DialogState, Turn
from tests.conversations.conftest import Chat


async def _asks_for_a_person(chat: Chat) -> None:
    await chat.says("hi")
    await chat.says("I want to talk to a real person")
    async with chat.container.sessions() as session:
        handoff = await session.scalar(select(Handoff))
    assert handoff is not None and handoff.queue == "general"


async def _agent_claims(chat: Chat) -> None:
    async with chat.container.sessions.begin() as session:
        await session.execute(update(Conversation).values(ownership=Ownership.AGENT))
        await session.execute(update(Handoff).values(status=Ownership.AGENT))


async def _account(chat: Chat) -> Account:
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None
    return account


async def test_a_bankruptcy_written_in_the_queue_is_recorded_and_goes_to_legal(
    chat: Chat,
) -> None:
    await _asks_for_a_person(chat)
    before = len(chat.outbox.messages)
    out = await chat.says("actually I filed for bankruptcy yesterday, case 26-12345")
    assert "SetStopState" in out.effects
    assert len(chat.outbox.messages) == before  # recorded, not answered
    assert (await _account(chat)).bankruptcy
    async with chat.container.sessions() as session:
        handoff = await session.scalar(select(Handoff))
        conversation = await session.scalar(select(Conversation))
    assert handoff is not None and handoff.queue == "legal" and handoff.priority >= 1
    assert conversation is not None and conversation.ownership == Ownership.QUEUED


async def test_an_attorney_named_to_a_claimed_conversation_is_recorded(chat: Chat) -> None:
    await _asks_for_a_person(chat)
    await _agent_claims(chat)
    before = len(chat.outbox.messages)
    await chat.says("my attorney is John Smith, 1 Main St Boston, contact him from now on")
    assert len(chat.outbox.messages) == before
    assert (await _account(chat)).attorney
    async with chat.container.sessions() as session:
        conversation = await session.scalar(select(Conversation))
        handoff = await session.scalar(select(Handoff))
    assert conversation is not None and conversation.ownership == Ownership.AGENT
    assert handoff is not None and handoff.queue == "general"  # the agent keeps it


async def test_a_dispute_written_to_an_agent_is_recorded(chat: Chat) -> None:
    await _asks_for_a_person(chat)
    await _agent_claims(chat)
    await chat.says("this is not my debt, send me proof")
    assert (await _account(chat)).dispute
    async with chat.container.sessions() as session:
        disputes = (await session.scalars(select(Dispute))).all()
    assert len(disputes) == 1 and "not my debt" in disputes[0].reason


async def test_a_written_opt_out_to_an_agent_stops_the_address(chat: Chat) -> None:
    await _asks_for_a_person(chat)
    await _agent_claims(chat)
    await chat.says("please stop texting me")
    async with chat.container.sessions() as session:
        point = await session.scalar(select(ContactPoint))
    assert point is not None and point.opted_out_at is not None


async def test_a_bankruptcy_after_a_dispute_is_still_recorded(chat: Chat) -> None:
    await chat.says("hi")
    await chat.says("this is not my debt")
    assert (await _account(chat)).dispute
    await chat.says("and I filed for bankruptcy last week")
    assert (await _account(chat)).bankruptcy


async def test_a_second_dispute_is_not_recorded_twice(chat: Chat) -> None:
    await chat.says("hi")
    await chat.says("this is not my debt")
    await chat.says("I told you, not my debt")
    async with chat.container.sessions() as session:
        assert len((await session.scalars(select(Dispute))).all()) == 1


def test_a_guess_at_a_dispute_is_left_to_the_agent() -> None:
    now = datetime(2026, 11, 25, 15, tzinfo=UTC)
    guess = Turn("ok thanks, I can send proof of payment", "dispute_debt", now, 0.53)
    sure = Turn("this is not my debt", "dispute_debt", now, 0.95)
    assert router.heard_while_owned(DialogState(), guess).effects == []
    assert [type(e).__name__ for e in router.heard_while_owned(DialogState(), sure).effects] == [
        "RecordDispute", "Handoff"]
    assert router.heard_while_owned(DialogState(), sure, ("dispute",)).effects == []

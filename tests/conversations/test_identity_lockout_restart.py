"""The identity lockout outlives the dialog state: a restart or an expiry gives no guesses back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from backend.db.models import AuditEvent, Conversation, Handoff
from backend.db.models.enums import Ownership
from backend.services.handoff import SYSTEM_ACTOR
from backend.services.identity_attempts import failed_identity_answers
from bot.messages import ConversationKey
from bot.state import MemoryStateStore
from tests.conversations.conftest import PHONE, Chat

WRONG = "01/01/1970"
LOCKED = "couldn't confirm your identity"


def _restart(chat: Chat) -> None:
    """What `parley serve` in embedded mode forgets when restarted: every dialog state."""
    states = MemoryStateStore()
    chat.engine.states = states
    chat.container.services["state_store"] = states


async def _conversation(chat: Chat) -> Conversation:
    async with chat.container.sessions() as session:
        found = await session.scalar(
            select(Conversation).where(
                Conversation.channel == chat.key.channel, Conversation.address == chat.key.address
            )
        )
    assert found is not None
    return found


async def _give_back(chat: Chat) -> None:
    """A person closes the lockout's handoff; the debtor's next message is the bot's again."""
    conversation = await _conversation(chat)
    now = chat.container.clock.now()
    async with chat.container.sessions.begin() as session:
        await chat.container.services["handoffs"].resolve(
            session, conversation.id, actor=SYSTEM_ACTOR, now=now
        )


async def _count(chat: Chat, action: str) -> int:
    async with chat.container.sessions() as session:
        return int(
            await session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
            )
            or 0
        )


async def _guess_wrong(chat: Chat, times: int) -> list[str]:
    keys: list[str] = []
    for _ in range(times):
        keys += [r.key for r in (await chat.says(WRONG)).replies]
    return keys


async def test_two_wrong_answers_stay_locked_after_a_restart(chat: Chat) -> None:
    await chat.says("how much do I owe?")
    keys = await _guess_wrong(chat, 2)
    assert keys == ["identity.retry.date_of_birth", "identity.locked"]
    await _give_back(chat)
    _restart(chat)

    replies = [
        r
        for text in ("03/14/1985", "10001", "what's my balance")
        for r in (await chat.says(text)).replies
    ]

    assert [r.key for r in replies[:1]] == ["identity.locked"]
    assert all(LOCKED in r.text for r in replies), [r.key for r in replies]
    assert not any(m.discusses_debt or m.recipient_verified for m in chat.outbox.messages)
    assert await _count(chat, "identity.verified") == 0
    assert (await _conversation(chat)).ownership == Ownership.QUEUED  # a person is told again


async def test_the_carried_failures_lock_on_the_next_wrong_answer(chat: Chat) -> None:
    await chat.says("how much do I owe?")
    assert "(attempts left: 1)" in (await chat.says(WRONG)).replies[0].text
    _restart(chat)
    await chat.says("how much do I owe?")  # a fresh state asks again

    second = await chat.says(WRONG)

    assert [r.key for r in second.replies] == ["identity.locked"]
    assert second.effects == ["Audit", "Handoff"]
    async with chat.container.sessions() as session:
        handoff = await session.scalar(select(Handoff))
    assert handoff is not None and handoff.reason == "verification_locked"


async def test_a_verification_clears_the_earlier_failures(chat: Chat) -> None:
    await chat.says("how much do I owe?")
    await _guess_wrong(chat, 1)
    await chat.says("03/14/1985")
    assert [r.key for r in (await chat.says("10001")).replies] == ["balance.answer"]
    _restart(chat)
    await chat.says("how much do I owe?")

    again = await chat.says(WRONG)

    assert "(attempts left: 1)" in again.replies[0].text


async def test_failures_older_than_a_state_lives_no_longer_count(chat: Chat) -> None:
    await chat.says("how much do I owe?")
    await _guess_wrong(chat, 1)
    chat.container.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    _restart(chat)
    await chat.says("how much do I owe?")

    again = await chat.says(WRONG)

    assert "(attempts left: 1)" in again.replies[0].text


async def test_the_failures_of_every_channel_of_the_account_count(chat: Chat) -> None:
    await chat.says("how much do I owe?")
    await _guess_wrong(chat, 2)
    other = Chat(chat.container, ConversationKey("whatsapp", PHONE), chat.outbox)

    first = await other.says("how much do I owe?")

    assert [r.key for r in first.replies] == ["identity.locked"]
    conversation = await _conversation(chat)
    async with chat.container.sessions() as session:
        assert (
            await failed_identity_answers(
                session, int(conversation.account_id or 0), chat.container.clock.now()
            )
            == 2
        )


async def test_the_state_and_the_audit_log_are_not_added_up(chat: Chat) -> None:
    """The state's attempts and the audited ones are the same wrong answers: the larger
    counts, so a conversation that keeps its state gets all of its tries."""
    await chat.says("how much do I owe?")
    first = await chat.says(WRONG)
    assert "(attempts left: 1)" in first.replies[0].text
    assert [r.key for r in (await chat.says("03/14/1985")).replies] == ["identity.next.postal_code"]

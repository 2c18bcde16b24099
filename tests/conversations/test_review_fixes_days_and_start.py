"""Review fixes: a day of the month answering a yes or no is no button; an address's own
opt-out on record keeps the bot quiet without a person, and START lets it answer again."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from backend.db.models import Account, AuditEvent, Conversation, Handoff, Message, Promise
from backend.services.handoff import HandoffService
from backend.services.portal import open_conversation, visitor_address
from backend.services.queues import load_queues
from bot.engine import state_key
from bot.messages import ConversationKey
from tests.conversations.conftest import Chat
from tests.conversations.test_turns import RealEntities


@pytest.fixture
async def dated(chat: Chat) -> Chat:
    chat.engine.interpreter = RealEntities()
    await chat.verify()
    return chat


OFFERS = {"en": "I'll pay $150 on the 30th", "es": "te pago 150 el 30"}


async def _confirming(chat: Chat, language: str) -> None:
    asked = await chat.says(OFFERS[language])
    assert [r.key for r in asked.replies] == ["promise.confirm"]


async def _reading(chat: Chat, message_id: int) -> tuple[str | None, float | None]:
    async with chat.container.sessions() as session:
        message = await session.get(Message, message_id)
    assert message is not None
    return message.intent, message.confidence


@pytest.mark.parametrize(("language", "answer"), [
    ("en", "the 1st"), ("en", "1st"), ("en", "the first"), ("en", "2nd"), ("en", "the 2nd"),
    ("es", "el primero"), ("es", "el 1"), ("es", "el dos"), ("es", "primero"),
])
async def test_a_day_answering_the_confirmation_picks_no_button(
    dated: Chat, language: str, answer: str
) -> None:
    await _confirming(dated, language)
    out = await dated.says(answer)
    assert "promise.recorded" not in [r.key for r in out.replies]
    async with dated.container.sessions() as session:
        assert (await session.scalars(select(Promise))).all() == []
    # The NLU read it: not a yes or no pressed with certainty.
    assert await _reading(dated, out.message_id) != ("affirm", 1.0)
    assert await _reading(dated, out.message_id) != ("deny", 1.0)


@pytest.mark.parametrize(("language", "answer"), [
    ("en", "1"), ("en", "yes"), ("en", "option 1"), ("es", "1"), ("es", "Sí"),
])
async def test_the_digit_or_the_word_still_says_yes(dated: Chat, language: str,
                                                     answer: str) -> None:
    await _confirming(dated, language)
    out = await dated.says(answer)
    assert [r.key for r in out.replies] == ["promise.recorded"]
    async with dated.container.sessions() as session:
        [promise] = (await session.scalars(select(Promise))).all()
    assert promise.due_date.day == 30


async def test_the_digit_two_still_says_no(dated: Chat) -> None:
    await _confirming(dated, "en")
    out = await dated.says("2")
    assert out.intent == "deny"
    async with dated.container.sessions() as session:
        assert (await session.scalars(select(Promise))).all() == []


async def test_a_plans_options_are_still_named_by_their_position(dated: Chat) -> None:
    offered = await dated.says("can I get a payment plan")
    assert [r.key for r in offered.replies] == ["plan.options"]
    assert [r.key for r in (await dated.says("the first one")).replies] == ["full.recorded"]


# -- An address's own opt-out, remembered by the records rather than the dialog ------------


async def _handoffs(chat: Chat) -> list[tuple[str, str]]:
    async with chat.container.sessions() as session:
        return [(h.reason, h.status) for h in await session.scalars(
            select(Handoff).order_by(Handoff.id))]


async def _ownership(chat: Chat, key: ConversationKey) -> str | None:
    async with chat.container.sessions() as session:
        return await session.scalar(select(Conversation.ownership).where(
            Conversation.channel == key.channel, Conversation.address == key.address))


async def _visitor(chat: Chat, account_id: int) -> Chat:
    """Another browser on the account's portal link: a new cookie, so a new address."""
    visitor = secrets.token_urlsafe(32)
    async with chat.container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await open_conversation(session, account, visitor, chat.container.clock.now())
    key = ConversationKey("web", visitor_address(account_id, visitor))
    return Chat(chat.container, key, chat.outbox)


async def test_a_new_portal_visitor_after_a_stop_is_quiet_and_start_lets_the_bot_answer(
    chat: Chat, account_id: int
) -> None:
    first = await _visitor(chat, account_id)
    assert [r.key for r in (await first.says("stop")).replies] == ["optout.confirm"]
    second = await _visitor(chat, account_id)
    assert (await second.says("hello")).replies == []
    assert await _handoffs(chat) == []
    assert await _ownership(chat, second.key) == "bot"
    assert [r.key for r in (await second.says("START")).replies] == ["optin.confirm"]
    answered = await second.says("how much do i owe")
    assert [r.key for r in answered.replies] == ["identity.ask.date_of_birth"]


async def test_a_stop_the_dialog_forgot_is_quiet_and_start_lets_the_bot_answer(
    chat: Chat,
) -> None:
    assert [r.key for r in (await chat.says("STOP")).replies] == ["optout.confirm"]
    async with chat.container.sessions() as session:
        conversation_id = await session.scalar(select(Conversation.id))
    assert conversation_id is not None
    await chat.engine.states.set(state_key(conversation_id), {}, 60)  # a restart, a TTL
    assert (await chat.says("hey im back")).replies == []
    assert await _handoffs(chat) == []
    assert [r.key for r in (await chat.says("START")).replies] == ["optin.confirm"]
    answered = await chat.says("whats my balance")
    assert [r.key for r in answered.replies] == ["identity.ask.date_of_birth"]


async def test_a_forgotten_stop_still_hands_over_a_bankruptcy(chat: Chat) -> None:
    await chat.says("STOP")
    async with chat.container.sessions() as session:
        conversation_id = await session.scalar(select(Conversation.id))
    assert conversation_id is not None
    await chat.engine.states.set(state_key(conversation_id), {}, 60)
    assert (await chat.says("I filed for bankruptcy last week")).replies == []
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None and account.bankruptcy
    assert await _handoffs(chat) == [("bankruptcy", "queued")]


async def test_an_opted_out_address_on_a_held_account_still_reaches_a_person(
    chat: Chat,
) -> None:
    await chat.says("talk to my lawyer Jane Doe at 555-0100")
    async with chat.container.sessions.begin() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        conversation.ownership = "bot"  # handed back; the attorney stays on the account
        for handoff in (await session.scalars(select(Handoff))).all():
            handoff.status = "returned"
        conversation_id = conversation.id
    await chat.says("STOP")
    await chat.engine.states.set(state_key(conversation_id), {}, 60)
    assert (await chat.says("hello?")).replies == []
    assert await _handoffs(chat) == [("attorney", "returned"), ("inbound_on_hold", "queued")]


# -- What an older version left: a conversation queued for an opted-out "hello" ------------


async def _left_on_hold(chat: Chat, note: str = "opted_out", reason: str = "inbound_on_hold",
                        ) -> int:
    await chat.says("hi")
    async with chat.container.sessions.begin() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        conversation.ownership = "queued"
        session.add(Handoff(conversation_id=conversation.id, reason=reason, queue="legal",
                            priority=1, status="queued", note=note,
                            created_at=chat.container.clock.now()))
        return conversation.id


async def _release(chat: Chat, conversation_id: int) -> bool:
    service = HandoffService(load_queues())
    async with chat.container.sessions.begin() as session:
        done = await service.release_opt_out_hold(session, conversation_id,
                                                  now=chat.container.clock.now())
    return done.changed


async def test_start_gives_back_a_conversation_held_only_for_its_opt_out(chat: Chat) -> None:
    conversation_id = await _left_on_hold(chat)
    assert await _release(chat, conversation_id)
    assert await _handoffs(chat) == [("inbound_on_hold", "returned")]
    assert await _ownership(chat, chat.key) == "bot"
    async with chat.container.sessions() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_type == "conversation"))).all()
    assert "handoff.returned" in actions
    assert [r.key for r in (await chat.says("how much do i owe")).replies] == [
        "identity.ask.date_of_birth"]


@pytest.mark.parametrize(("reason", "note"), [
    ("inbound_on_hold", "attorney"), ("inbound_on_hold", "cease"), ("request_agent", None),
])
async def test_start_leaves_other_handoffs_alone(chat: Chat, reason: str,
                                                 note: str | None) -> None:
    conversation_id = await _left_on_hold(chat, note=note, reason=reason)  # type: ignore[arg-type]
    assert not await _release(chat, conversation_id)
    assert await _handoffs(chat) == [(reason, "queued")]
    assert await _ownership(chat, chat.key) == "queued"


async def test_start_leaves_the_hold_of_an_account_a_stop_state_keeps(chat: Chat) -> None:
    conversation_id = await _left_on_hold(chat)
    async with chat.container.sessions.begin() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        account.attorney = True
    assert not await _release(chat, conversation_id)
    assert await _ownership(chat, chat.key) == "queued"


async def test_start_through_the_engine_gives_back_what_an_older_bot_held(chat: Chat) -> None:
    await chat.says("STOP")
    async with chat.container.sessions.begin() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        conversation.ownership = "queued"
        session.add(Handoff(conversation_id=conversation.id, reason="inbound_on_hold",
                            queue="legal", priority=1, status="queued", note="opted_out",
                            created_at=chat.container.clock.now()))
    await chat.says("START")
    assert await _handoffs(chat) == [("inbound_on_hold", "returned")]
    assert await _ownership(chat, chat.key) == "bot"
    assert [r.key for r in (await chat.says("how much do i owe")).replies] == [
        "identity.ask.date_of_birth"]

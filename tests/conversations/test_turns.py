"""Turns over a real database: effects recorded in one transaction, replies gated, errors safe."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.console.actions import trainer_inbox
from backend.db.models import (
    Account,
    AuditEvent,
    ContactPoint,
    Conversation,
    Handoff,
    Message,
    PaymentPlan,
    Promise,
)
from bot.messages import ConversationKey, Purpose
from nlu.extractors import extract_entities
from nlu.language import detect_language
from nlu.types import IntentScore, Parse
from tests.conversations.conftest import Chat
from tests.conversations.fakes import RuleInterpreter


async def _one(chat: Chat, model: type, *where: object) -> object:
    async with chat.container.sessions() as session:
        return await session.scalar(select(model).where(*where))  # type: ignore[arg-type]


async def test_verification_then_balance_with_mini_miranda_once(chat: Chat) -> None:
    first = await chat.says("how much do I owe?")
    assert [r.key for r in first.replies] == ["identity.ask.date_of_birth"]
    assert first.replies[0].text.startswith("Hi, this is Parley, an automated assistant.")
    assert "date of birth" in first.replies[0].text
    assert not any(m.discusses_debt for m in chat.outbox.messages)
    await chat.says("03/14/1985")
    answer = await chat.says("10001")
    assert [r.key for r in answer.replies] == ["balance.answer"]
    text = answer.replies[0].text
    assert text.startswith("This is a communication from a debt collector. This is an attempt")
    assert "$1,200.00" in text and "Reply STOP" in text
    last = chat.outbox.messages[-1]
    assert last.discusses_debt and last.recipient_verified and last.purpose == Purpose.REPLY
    again = await chat.says("what's my balance")
    short = "This is a communication from a debt collector."
    assert again.replies[0].text.endswith(f"{short}\nReply STOP to stop messages to this number.")


async def test_promise_is_recorded_with_channel_and_conversation(chat: Chat) -> None:
    await chat.verify()
    await chat.says("I'll pay $300 on 2026-12-04")
    done = await chat.says("yes")
    assert [r.key for r in done.replies] == ["promise.recorded"]
    promise = await _one(chat, Promise)
    assert promise is not None
    assert str(promise.amount) == "300.00" and promise.channel == "sms"  # type: ignore[attr-defined]
    assert promise.conversation_id is not None  # type: ignore[attr-defined]
    message = await _one(chat, Message, Message.text == "yes")
    assert message.processed_at is not None and message.intent == "affirm"  # type: ignore[attr-defined]


async def test_a_plan_agreed_after_a_promise_supersedes_it(chat: Chat) -> None:
    await chat.verify()
    await chat.says("I'll pay $300 on 2026-12-04")
    await chat.says("yes")
    await chat.says("can I get a payment plan")
    recorded = await chat.says("3")
    assert [r.key for r in recorded.replies][0] == "plan.recorded"
    promise = await _one(chat, Promise)
    assert promise.status == "cancelled"  # type: ignore[attr-defined]
    # a payment now goes to the plan only; the promise cannot be "kept" by it as well


async def test_stop_keyword_works_even_when_a_human_owns_the_conversation(chat: Chat) -> None:
    await chat.says("let me talk to a human")
    conversation = await _one(chat, Conversation)
    assert conversation.ownership == "queued"  # type: ignore[attr-defined]
    assert (await chat.says("where is my agent")).replies == []
    stop = await chat.says("STOP")
    assert [r.key for r in stop.replies] == ["optout.confirm"]
    assert chat.outbox.messages[-1].purpose == Purpose.OPT_OUT_CONFIRMATION
    contact = await _one(chat, ContactPoint)
    assert contact.opted_out_at is not None  # type: ignore[attr-defined]
    assert (await chat.says("STOP")).replies == []


async def test_attorney_sets_the_stop_state_acknowledges_once_and_hands_off(chat: Chat) -> None:
    result = await chat.says("talk to my lawyer Jane Doe at 555-0100")
    assert [r.key for r in result.replies] == ["stop.attorney"]
    account = await _one(chat, Account)
    assert account.attorney and "Jane Doe" in account.stop_details  # type: ignore[attr-defined]
    handoff = await _one(chat, Handoff)
    assert handoff.queue == "legal"  # type: ignore[attr-defined]
    assert (await chat.says("hello?")).replies == []


async def test_an_unexpected_error_gives_a_safe_reply_and_a_handoff_with_its_id(
    chat: Chat,
) -> None:
    await chat.verify()
    result = await chat.says("please explode")
    assert result.error_id and [r.key for r in result.replies] == ["error.safe"]
    handoff = await _one(chat, Handoff)
    assert handoff.error_id == result.error_id  # type: ignore[attr-defined]
    inbound = await _one(chat, Message, Message.text == "please explode")
    assert inbound is not None and inbound.processed_at is not None  # type: ignore[attr-defined]


async def test_a_processed_message_is_not_answered_twice(chat: Chat) -> None:
    result = await chat.says("hi")
    again = await chat.engine.handle(result.message_id)
    assert again.replies == [] and len(chat.outbox.messages) == 1


async def test_two_messages_at_once_are_processed_in_order(chat: Chat) -> None:
    await chat.verify()
    first = await chat.store("I'll pay $300 on 2026-12-04")
    second = await chat.store("yes")
    results = await asyncio.gather(chat.engine.handle(*first), chat.engine.handle(*second))
    assert [r.key for result in results for r in result.replies] == [
        "promise.confirm", "promise.recorded"]


async def test_spanish_message_gets_a_spanish_reply(chat: Chat) -> None:
    result = await chat.says("hola")
    assert result.replies[0].text.startswith("Hola, soy Parley")


async def test_wrong_person_suppresses_the_number(chat: Chat) -> None:
    result = await chat.says("wrong number")
    assert [r.key for r in result.replies] == ["wrong_person.apology"]
    contact = await _one(chat, ContactPoint)
    assert contact.wrong_party  # type: ignore[attr-defined]
    assert (await chat.says("hello?")).replies == []


async def test_identity_answers_carry_no_intent_and_never_reach_the_trainers(chat: Chat) -> None:
    asked = await chat.says("how much do I owe?")
    answers = [await chat.says("03/14/1985"), await chat.says("10001")]
    async with chat.container.sessions() as session:
        rows = {m.id: m for m in await session.scalars(select(Message).where(
            Message.id.in_([asked.message_id, *(a.message_id for a in answers)])))}
        inbox = await trainer_inbox(session, threshold=1.01)  # every read message is "unsure"
    assert rows[asked.message_id].intent == "ask_balance"
    assert all((rows[a.message_id].intent, rows[a.message_id].confidence) == (None, None)
               for a in answers)
    shown = {entry.message.id for entry in inbox}
    assert asked.message_id in shown and not shown & {a.message_id for a in answers}


async def _intents(chat: Chat, *message_ids: int) -> list[str | None]:
    async with chat.container.sessions() as session:
        rows = {m.id: m.intent for m in await session.scalars(
            select(Message).where(Message.id.in_(message_ids)))}
    return [rows[i] for i in message_ids]


async def test_a_zip_typed_at_the_date_prompt_carries_no_intent(chat: Chat) -> None:
    await chat.says("how much do I owe?")
    zip_first = await chat.says("10001")  # the date of birth was asked for
    assert await _intents(chat, zip_first.message_id) == [None]


async def test_identity_answers_sent_after_a_handoff_carry_no_intent(chat: Chat) -> None:
    await chat.says("how much do I owe?")
    await chat.says("let me talk to a human")
    answer = await chat.says("03/14/1985")  # the person answers anyway, to the agent now
    question = await chat.says("how much do I owe?")
    assert await _intents(chat, answer.message_id, question.message_id) == [None, "ask_balance"]


async def test_a_message_without_words_is_not_read_as_a_yes(chat: Chat) -> None:
    await chat.verify()
    await chat.says("I'll pay $300 on 2026-12-04")
    photo = await chat.says("")  # a photo or a voice note: the text is empty
    assert photo.intent == "out_of_scope" and "promise.recorded" not in [
        r.key for r in photo.replies]
    assert await _one(chat, Promise) is None
    message = await _one(chat, Message, Message.id == photo.message_id)
    assert message.intent is None  # type: ignore[attr-defined]


async def test_a_button_press_picks_its_choice_by_value(chat: Chat) -> None:
    await chat.verify()
    await chat.says("I'll pay $300 on 2026-12-04")
    pressed = await chat.says("intent:affirm")  # a Telegram button's callback data
    assert [r.key for r in pressed.replies] == ["promise.recorded"]


@pytest.mark.parametrize("answer", ["the second one", "option 2", "la segunda", "2nd", "la 2",
                                    "dos", "la 2 porfa", "option two please"])
async def test_an_option_is_picked_by_words_naming_its_position(chat: Chat, answer: str) -> None:
    await chat.verify()
    offered = await chat.says("can I get a payment plan")
    assert [r.key for r in offered.replies] == ["plan.options"]
    picked = await chat.says(answer)
    assert [r.key for r in picked.replies] == ["plan.recorded"]
    plan = await _one(chat, PaymentPlan)
    assert plan is not None and plan.total == Decimal("1200.00")  # type: ignore[attr-defined]


async def test_an_amount_is_not_taken_for_an_option(chat: Chat) -> None:
    await chat.verify()
    await chat.says("can I get a payment plan")
    answered = await chat.says("i can pay 2")
    assert await _one(chat, PaymentPlan) is None
    assert "plan.recorded" not in [r.key for r in answered.replies]


@pytest.mark.parametrize(("text", "opted_out"), [
    ("please stop texting me", {"sms"}),
    ("no texts, no emails, no calls", {"sms", "email"}),
])
async def test_stop_texting_written_in_the_portal_reaches_the_texts(
    chat: Chat, account_id: int, text: str, opted_out: set[str]
) -> None:
    portal = Chat(chat.container, ConversationKey("web", f"account:{account_id}"), chat.outbox)
    async with chat.container.sessions.begin() as session:
        debtor_id = (await session.get(Account, account_id)).debtor_id  # type: ignore[union-attr]
        session.add(ContactPoint(debtor_id=debtor_id, channel="email", address="j@example.com",
                                 consent=True, wrong_party=False,
                                 created_at=chat.container.clock.now()))
    answered = await portal.says(text)
    assert [r.key for r in answered.replies] == ["optout.confirm"]
    async with chat.container.sessions() as session:
        points = (await session.scalars(select(ContactPoint))).all()
    assert {p.channel for p in points if p.opted_out_at is not None} >= opted_out
    assert all(p.opted_out_at is None for p in points
               if p.channel not in opted_out and p.channel != "web")


async def test_a_promise_beside_the_plan_just_agreed_is_not_recorded(chat: Chat) -> None:
    await chat.verify()
    await chat.says("can I get a payment plan")
    assert [r.key for r in (await chat.says("2")).replies] == ["plan.recorded"]
    answered = await chat.says("I'll pay $100 on 2026-12-04")
    assert [r.key for r in answered.replies] == ["promise.beside_plan"]
    assert await _one(chat, Promise) is None


async def test_wrong_person_in_the_portal_goes_to_a_person_to_find_the_address(
    chat: Chat, account_id: int
) -> None:
    portal = Chat(chat.container, ConversationKey("web", f"account:{account_id}"), chat.outbox)
    answered = await portal.says("wrong number, I don't know this person")
    assert [r.key for r in answered.replies] == ["wrong_person.apology"]
    handoff = await _one(chat, Handoff)
    assert handoff is not None and handoff.reason == "wrong_party_portal"  # type: ignore[attr-defined]
    assert (await portal.says("hello?")).replies == []


async def test_the_portals_wrong_person_apology_speaks_of_the_link(
    chat: Chat, account_id: int
) -> None:
    portal = Chat(chat.container, ConversationKey("web", f"account:{account_id}"), chat.outbox)
    await portal.says("wrong number, I don't know this person")
    sms = await chat.says("wrong number")
    web_text, sms_text = (o.text for o in chat.outbox.messages[-2:])
    assert "link" in web_text and "number" not in web_text
    assert "removed this number" in sms_text and sms.replies


class RealEntities(RuleInterpreter):
    """The rule intents ("te pago" too) with the shipped entity extractors."""

    async def parse(self, text: str, **kwargs: Any) -> Parse:
        parsed = await super().parse(text, **kwargs)
        intent = "promise_to_pay" if "te pago" in text else parsed.intent.name
        entities = extract_entities(text, reference_time=kwargs["reference_time"])
        return replace(parsed, intent=IntentScore(intent, 0.9), entities=entities,
                       language=detect_language(text))


@pytest.fixture
async def real_entities(chat: Chat) -> Chat:
    chat.engine.interpreter = RealEntities()
    return chat


@pytest.mark.parametrize(("text", "said"), [
    ("I'll pay 50 euros on 2026-12-04", "Your account is in US dollars"),
    ("te pago mil pesos el 4 de diciembre", "Su cuenta está en dólares estadounidenses"),
])
async def test_an_amount_in_another_currency_is_asked_for_again(
    real_entities: Chat, text: str, said: str
) -> None:
    chat = real_entities
    await chat.verify()
    out = await chat.says(text)
    assert [r.key for r in out.replies] == ["money.other_currency", "promise.ask_amount"]
    assert out.replies[0].text.startswith(said) or said in out.replies[0].text
    confirm = await chat.says("60")
    assert [r.key for r in confirm.replies] == ["promise.confirm"]
    assert "$60.00" in confirm.replies[0].text
    assert await _one(chat, Promise) is None  # nothing recorded before the yes


async def test_a_dollar_sign_is_the_accounts_own_currency(real_entities: Chat) -> None:
    await real_entities.verify()
    out = await real_entities.says("I'll pay $300 on 2026-12-04")
    assert [r.key for r in out.replies] == ["promise.confirm"]


@pytest.mark.parametrize("text", [
    "me pagan el viernes y te pago 200 el lunes",
    "i got paid last friday, te pago 200 el lunes",
    "ya le mande 50 el lunes pasado y te pago 200 el lunes",
])
async def test_the_promise_is_the_day_and_amount_offered(real_entities: Chat, text: str) -> None:
    await real_entities.verify()
    out = await real_entities.says(text)
    assert [r.key for r in out.replies] == ["promise.confirm"]
    await real_entities.says("yes")
    promise = await _one(real_entities, Promise)
    assert promise is not None
    assert (promise.amount, promise.due_date) == (Decimal("200.00"), date(2026, 11, 30))


async def _hand_back(chat: Chat, **account_flags: bool) -> None:
    """What "Return to bot" (and a supervisor clearing a stop-state) leave in the records."""
    async with chat.container.sessions.begin() as session:
        conversation = await session.scalar(select(Conversation))
        conversation.ownership = "bot"  # type: ignore[union-attr]
        for handoff in (await session.scalars(select(Handoff))).all():
            handoff.status = "returned"
        account = await session.scalar(select(Account))
        for flag, value in account_flags.items():
            setattr(account, flag, value)


async def test_a_held_account_handed_back_to_the_bot_still_reaches_a_person(chat: Chat) -> None:
    await chat.says("talk to my lawyer Jane Doe at 555-0100")
    await _hand_back(chat)
    later = await chat.says("my lawyer is Jane Doe, 1 Main St, call her")
    assert later.replies == []  # the bot says nothing to a represented debtor
    async with chat.container.sessions() as session:
        reasons = (await session.scalars(select(Handoff.reason).order_by(Handoff.id))).all()
        conversation = await session.scalar(select(Conversation))
    assert reasons == ["attorney", "inbound_on_hold"]
    assert conversation.ownership == "queued"  # type: ignore[union-attr]


async def test_once_a_person_clears_the_stop_state_the_bot_speaks_again(chat: Chat) -> None:
    await chat.says("talk to my lawyer Jane Doe at 555-0100")
    await _hand_back(chat, attorney=False)
    answer = await chat.says("how much do I owe?")
    assert [r.key for r in answer.replies] == ["identity.ask.date_of_birth"]


async def test_help_during_a_confirmation_leaves_the_offer_standing(chat: Chat) -> None:
    await chat.verify()
    confirm = await chat.says("I'll pay $300 on 2026-12-04")
    assert [r.key for r in confirm.replies] == ["promise.confirm"]
    help_ = await chat.says("INFO")
    assert [r.key for r in help_.replies] == ["help.reply"]
    assert "Reply STOP" in help_.replies[0].text  # CTIA: HELP says how to opt out
    assert await _one(chat, Promise) is None  # INFO is not a yes
    done = await chat.says("yes")
    assert [r.key for r in done.replies] == ["promise.recorded"]


async def test_an_opted_out_number_gets_no_help_reply_until_start(chat: Chat) -> None:
    await chat.says("STOP")
    assert (await chat.says("HELP")).replies == []
    started = await chat.says("START")
    assert [r.key for r in started.replies] == ["optin.confirm"]
    contact = await _one(chat, ContactPoint)
    assert contact.opted_out_at is None  # type: ignore[attr-defined]
    async with chat.container.sessions() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert "contact.opted_in" in actions
    again = await chat.says("how much do I owe?")
    assert [r.key for r in again.replies] == ["identity.ask.date_of_birth"]


async def test_unstop_is_never_an_opt_out(chat: Chat) -> None:
    out = await chat.says("UNSTOP")
    assert [r.key for r in out.replies] == ["optin.confirm"]
    contact = await _one(chat, ContactPoint)
    assert contact.opted_out_at is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["no más", "No mas mensajes", "no more messages"])
async def test_no_more_alone_is_an_opt_out(chat: Chat, text: str) -> None:
    out = await chat.says(text)
    assert [r.key for r in out.replies] == ["optout.confirm"]


async def test_the_amount_owed_is_not_taken_for_the_offer(real_entities: Chat) -> None:
    await real_entities.verify()
    out = await real_entities.says("I'll pay, I know I owe $1278 but I can only do $100 on "
                                   "2026-12-04")
    assert [r.key for r in out.replies] == ["promise.confirm"]
    assert "$100.00" in out.replies[0].text and "$1,278" not in out.replies[0].text


async def test_paying_in_full_on_a_later_day_is_asking_for_time(chat: Chat) -> None:
    await chat.verify()
    later = await chat.says("can I pay in full on 2026-12-10?")
    assert [r.key for r in later.replies] == ["extension.confirm"]
    assert "$1,200.00" in later.replies[0].text and "December 10" in later.replies[0].text
    now = await chat.says("I want to pay in full")
    assert [r.key for r in now.replies] == ["pay.link"]


async def test_a_debtor_whose_zone_is_unknown_is_still_answered(chat: Chat) -> None:
    async with chat.container.sessions.begin() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        await session.refresh(account, ["debtor"])
        account.debtor.timezone = ""  # no state and a phone spanning several zones
    await chat.verify()
    out = await chat.says("how much do I owe?")
    assert [r.key for r in out.replies] == ["balance.answer"]


async def test_another_amount_after_a_link_is_another_link_not_a_plan(chat: Chat) -> None:
    await chat.verify()
    assert [r.key for r in (await chat.says("I want to pay in full")).replies] == ["pay.link"]
    changed = await chat.says("actually make it $100")
    assert [r.key for r in changed.replies] == ["pay.partial.link"]
    assert "$100.00" in changed.replies[0].text and "$1,100.00" in changed.replies[0].text

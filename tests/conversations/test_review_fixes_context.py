"""Review fixes: only a clear yes records a commitment; a yes after the bot moved on answers
no older offer; a verified debtor's "I don't know" is no wrong number; a day said with a
thank-you or a goodbye answers the question that asked for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.db.models import AuditEvent, ContactPoint, Handoff, Promise
from bot.clock import SettableClock
from bot.dialogs import router
from bot.dialogs.base import Turn
from bot.effects import MovePromise
from bot.facts import PendingPromise
from nlu.types import IntentScore, Interpreter, Parse
from tests.bot.helpers import T0, Transcript, keys, make_facts
from tests.conversations.conftest import Chat
from tests.conversations.test_turns import RealEntities

THE_15TH, FRIDAY, TODAY = date(2026, 12, 15), date(2026, 11, 27), T0.date()
OFFER = "I'll pay $200 on 2026-12-15"

# What the real NLU read in the review (intent, confidence); entities come from the text.
READINGS: dict[str, tuple[str, float]] = {
    "i'm going through chemo": ("affirm", 0.55),
    "maybe": ("affirm", 0.92),
    "probably": ("affirm", 0.98),
    "possibly": ("affirm", 0.75),
    "perhaps": ("affirm", 0.54),
    "i guess": ("affirm", 0.93),
    "i think so": ("affirm", 0.87),
    "quizás": ("affirm", 0.9),
    "tal vez": ("affirm", 0.9),
    "creo que sí": ("affirm", 0.95),
    "what's my balance again?": ("ask_balance", 0.97),
    "how can i pay? do you take zelle?": ("ask_payment_methods", 0.95),
    "i dont know": ("wrong_person", 0.98),
    "idk": ("wrong_person", 0.65),
    "ni idea": ("wrong_person", 0.85),
    "this isn't me": ("wrong_person", 0.9),
    "wrong number": ("wrong_person", 1.0),
    "no soy esa persona": ("wrong_person", 1.0),
    "today": ("goodbye", 0.76),
    "friday, thank you": ("thanks", 0.98),
    "el viernes gracias": ("thanks", 0.9),
    "thank you": ("thanks", 0.99),
}


class Scripted(RealEntities):
    """The rule intents, with the readings the review saw; the shipped entity extractors."""

    async def parse(self, text: str, **kwargs: Any) -> Parse:
        parsed = await super().parse(text, **kwargs)
        if text not in READINGS:
            return parsed
        intent, confidence = READINGS[text]
        return replace(parsed, intent=IntentScore(intent, confidence))


@pytest.fixture
async def verified(chat: Chat) -> Chat:
    chat.engine.interpreter = Scripted()
    await chat.verify()
    return chat


async def _promises(chat: Chat) -> list[tuple[Decimal, date]]:
    async with chat.container.sessions() as session:
        return [(p.amount, p.due_date) for p in await session.scalars(select(Promise))]


async def _handoffs(chat: Chat) -> list[str]:
    async with chat.container.sessions() as session:
        return list(await session.scalars(select(Handoff.reason)))


async def _wrong_party(chat: Chat) -> bool:
    async with chat.container.sessions() as session:
        marked = await session.scalars(select(ContactPoint.wrong_party))
        audited = await session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "contact.wrong_party"))
        return any(marked.all()) or bool(audited.all())


async def _keys(chat: Chat, text: str) -> list[str]:
    return [r.key for r in (await chat.says(text)).replies]


async def _confirming(chat: Chat) -> None:
    assert await _keys(chat, OFFER) == ["promise.confirm"]


# -- 1. Only a clear yes records a commitment ------------------------------------------------


@pytest.mark.parametrize("answer", [
    "i'm going through chemo", "maybe", "probably", "possibly", "perhaps", "i guess",
    "i think so", "quizás", "tal vez", "creo que sí",
])
async def test_a_hedge_read_as_yes_records_nothing_and_asks_again(
    verified: Chat, answer: str
) -> None:
    await _confirming(verified)
    asked = await verified.says(answer)
    assert [r.key for r in asked.replies] == ["confirm.unclear"]
    assert [c.value for c in asked.replies[0].choices] == ["intent:affirm", "intent:deny"]
    assert await _promises(verified) == []
    assert await _keys(verified, "yes") == ["promise.recorded"]  # the clear yes still does
    assert await _promises(verified) == [(Decimal("200.00"), THE_15TH)]


@pytest.mark.parametrize("answer", ["1", "Yes", "intent:affirm"])
async def test_the_digit_the_word_and_the_button_still_say_yes(verified: Chat,
                                                                answer: str) -> None:
    await _confirming(verified)
    assert await _keys(verified, "maybe") == ["confirm.unclear"]
    assert await _keys(verified, answer) == ["promise.recorded"]
    assert await _promises(verified) == [(Decimal("200.00"), THE_15TH)]


async def test_a_second_hedge_in_a_row_goes_to_a_person(verified: Chat) -> None:
    await _confirming(verified)
    await verified.says("maybe")
    assert await _keys(verified, "i guess") == ["fallback.handoff"]
    assert await _promises(verified) == []
    assert await _handoffs(verified) == ["not_understood"]


def _move_read_back() -> Transcript:
    promise = PendingPromise(FRIDAY, Decimal("100.00"))
    t = Transcript(make_facts(promised=promise.amount, pending_promises=(promise,)))
    t.verify()
    out = t.says("can i pay on the 5th instead of friday", "promise_to_pay",
                 date="2026-12-05", moved_from=FRIDAY.isoformat(), amount="100.00")
    assert keys(out) == ["promise.move_confirm"]
    return t


def test_a_hedge_moves_no_promise() -> None:
    t = _move_read_back()
    out = router.step(t.state, Turn("probably", "affirm", t.now, 0.98), t.facts)
    assert keys(out) == ["confirm.unclear"] and out.effects == []
    done = router.step(out.state, Turn("yes", "affirm", t.now, 1.0), t.facts)
    assert done.effects == [MovePromise(Decimal("100.00"), FRIDAY, date(2026, 12, 5))]


def test_a_yes_the_nlu_barely_reads_moves_no_promise() -> None:
    t = _move_read_back()
    out = router.step(t.state, Turn("i'm going through chemo", "affirm", t.now, 0.55), t.facts)
    assert keys(out) == ["confirm.unclear"] and out.effects == []


# -- 2. A yes after the bot moved on answers no older offer ---------------------------------


async def test_a_yes_days_later_after_verifying_again_records_nothing(
    verified: Chat, clock: SettableClock
) -> None:
    await _confirming(verified)
    clock.advance(timedelta(days=5))
    assert await _keys(verified, "how much do i owe") == [
        "identity.expired", "identity.ask.date_of_birth"]
    await verified.says("03/14/1985")
    assert await _keys(verified, "10001") == ["balance.answer"]
    assert await _keys(verified, "sí") == ["fallback.clarify"]
    assert await _promises(verified) == []


async def test_a_yes_after_verifying_again_with_a_hello_records_nothing(
    verified: Chat, clock: SettableClock
) -> None:
    await _confirming(verified)
    clock.advance(timedelta(hours=3))
    await verified.says("hi")
    await verified.says("03/14/1985")
    assert await _keys(verified, "10001") == ["identity.verified"]
    await verified.says("yes")
    assert await _promises(verified) == []


@pytest.mark.parametrize(("question", "answered"), [
    ("what's my balance again?", "balance.answer"),
    ("how can i pay? do you take zelle?", "pay.methods"),
    ("hello", "greet.verified"),
])
async def test_a_yes_after_another_answer_records_nothing(
    verified: Chat, question: str, answered: str
) -> None:
    await _confirming(verified)
    assert await _keys(verified, question) == [answered]
    assert "promise.recorded" not in await _keys(verified, "yes")
    assert await _promises(verified) == []


# -- 3. A verified debtor's "I don't know" is no wrong number -------------------------------


@pytest.mark.parametrize("answer", ["i dont know", "idk", "ni idea"])
async def test_not_knowing_the_day_is_no_wrong_number(verified: Chat, answer: str) -> None:
    assert await _keys(verified, "I'll pay $200") == ["promise.ask_date"]
    unsure = await verified.says(answer)
    assert [r.key for r in unsure.replies] == ["unsure.reply"]
    assert "stops reaching you" not in unsure.replies[0].text
    assert not await _wrong_party(verified)
    assert await _handoffs(verified) == []
    # The question stays open: the day, once known, completes the promise.
    assert await _keys(verified, "2026-12-15") == ["promise.confirm"]


async def test_not_knowing_at_a_read_back_records_nothing(verified: Chat) -> None:
    await _confirming(verified)
    assert await _keys(verified, "i dont know") == ["confirm.unclear"]
    assert await _promises(verified) == [] and not await _wrong_party(verified)


@pytest.mark.parametrize("answer", ["this isn't me", "wrong number", "no soy esa persona"])
async def test_a_verified_not_me_goes_to_a_person_without_marking_the_address(
    verified: Chat, answer: str
) -> None:
    assert await _keys(verified, "I'll pay $200") == ["promise.ask_date"]
    assert await _keys(verified, answer) == ["identity.cannot_verify"]
    assert not await _wrong_party(verified)
    assert await _handoffs(verified) == ["cannot_verify"]


async def test_an_unverified_i_dont_know_is_still_a_wrong_person(chat: Chat) -> None:
    chat.engine.interpreter = Scripted()
    assert await _keys(chat, "hi") == ["identity.ask.date_of_birth"]
    assert await _keys(chat, "i dont know") == ["wrong_person.apology"]
    assert await _wrong_party(chat)


# -- 4. A day said with a thank-you or a goodbye answers the question -----------------------


@pytest.mark.parametrize(("answer", "day"), [
    ("today", TODAY), ("friday, thank you", FRIDAY), ("el viernes gracias", FRIDAY),
])
async def test_a_day_with_a_courtesy_answers_the_date_question(
    verified: Chat, answer: str, day: date
) -> None:
    assert await _keys(verified, "I'll pay $200") == ["promise.ask_date"]
    assert await _keys(verified, answer) == ["promise.confirm"]
    assert await _keys(verified, "yes") in (["promise.recorded"], ["promise.recorded_today"])
    assert await _promises(verified) == [(Decimal("200.00"), day)]


async def test_a_thank_you_without_a_day_is_still_a_thank_you(verified: Chat) -> None:
    assert await _keys(verified, "I'll pay $200") == ["promise.ask_date"]
    assert await _keys(verified, "thank you") == ["thanks.reply"]


# -- The same, read by the real NLU ----------------------------------------------------------


@pytest.fixture
async def nlu(chat: Chat, interpreter: Interpreter) -> Chat:
    await chat.verify()
    chat.engine.interpreter = interpreter
    return chat


@pytest.mark.parametrize("answer", ["i'm going through chemo", "maybe", "i guess"])
async def test_the_real_nlu_hedge_records_nothing(nlu: Chat, answer: str) -> None:
    assert await _keys(nlu, "I can pay 200 on the 15th") == ["promise.confirm"]
    assert "promise.recorded" not in await _keys(nlu, answer)
    assert await _promises(nlu) == []


@pytest.mark.parametrize("answer", ["today", "friday, thank you"])
async def test_the_real_nlu_day_with_a_courtesy(nlu: Chat, answer: str) -> None:
    assert await _keys(nlu, "I'll pay 200") == ["promise.ask_date"]
    assert await _keys(nlu, answer) == ["promise.confirm"]


@pytest.mark.parametrize("answer", ["i dont know", "idk", "ni idea"])
async def test_the_real_nlu_not_knowing_the_day(nlu: Chat, answer: str) -> None:
    assert await _keys(nlu, "I'll pay 200") == ["promise.ask_date"]
    assert "wrong_person.apology" not in await _keys(nlu, answer)
    assert not await _wrong_party(nlu) and await _handoffs(nlu) == []


async def test_a_yes_after_the_clarifying_menu_accepts_no_earlier_offer(chat: Chat) -> None:
    await chat.verify()
    confirm = await chat.says("I'll pay $100 on 2026-12-10")
    assert [r.key for r in confirm.replies] == ["promise.confirm"]
    assert [r.key for r in (await chat.says("purple monkey")).replies] == ["fallback.clarify"]
    assert [r.key for r in (await chat.says("yes")).replies] != ["promise.recorded"]
    async with chat.container.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Promise)) == 0

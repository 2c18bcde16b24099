"""Review fix: more time, promises and parts account for the promises already pending."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Promise
from backend.services.imports.writer import upsert_accounts
from bot import entity_choice
from bot.dialogs.base import Outcome
from bot.effects import RecordPromise
from bot.facts import Installment
from bot.messages import ConversationKey
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Interpreter, Parse
from tests.bot.helpers import T0, Transcript, keys, make_facts, texts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

FRIDAY = date(2026, 11, 27)
ONE_PENDING = dict(promised=Decimal("100.00"),
                   pending_promises=(Installment(FRIDAY, Decimal("100.00")),))


def _read(text: str, intent: str) -> dict[str, str]:
    entities = extract_entities(text, reference_time=T0, timezone="America/New_York")
    return entity_choice.chosen_entities(Parse(text, IntentScore(intent, 0.9),
                                               entities=entities), T0.date())


def verified(**facts: Any) -> Transcript:
    t = Transcript(make_facts(**facts))
    t.verify()
    return t


def said(t: Transcript, text: str, intent: str) -> Outcome:
    return t.says(text, intent, **_read(text, intent))


def _text(t: Transcript, out: Outcome, locale: str = "en") -> str:
    assert t.facts is not None
    return texts(out, t.facts, locale)[0]


@pytest.mark.parametrize(("locale", "remaining"), [("en", "$1,100.00"), ("es", "$1,100.00")])
def test_more_time_is_for_what_pending_promises_leave(locale: str, remaining: str) -> None:
    t = verified(**ONE_PENDING)
    out = said(t, "i need more time", "request_extension")
    assert keys(out) == ["extension.counter_rest"]
    assert out.said[0].reply.lead == "promise.stands"
    text = _text(t, out, locale)
    assert remaining in text and ("still stands" in text or "sigue en pie" in text)
    done = t.says("yes", "affirm")
    assert done.effects == [RecordPromise(Decimal("1100.00"), date(2026, 12, 25), "extension")]


def test_more_time_to_a_day_asked_for() -> None:
    t = verified(**ONE_PENDING)
    out = said(t, "can i have until december 15", "request_extension")
    assert keys(out) == ["extension.confirm_rest"]
    assert t.says("yes", "affirm").effects == [
        RecordPromise(Decimal("1100.00"), date(2026, 12, 15), "extension")]


def test_no_more_time_when_promises_cover_the_balance() -> None:
    t = verified(promised=Decimal("1200.00"),
                 pending_promises=(Installment(FRIDAY, Decimal("1200.00")),))
    out = said(t, "i need more time", "request_extension")
    assert keys(out) == ["promise.covered"] and not out.effects


def test_a_new_promise_says_the_earlier_one_stands() -> None:
    t = verified(**ONE_PENDING)
    out = said(t, "i can pay 50 on december 4", "promise_to_pay")
    assert keys(out) == ["promise.confirm"]
    assert out.said[0].reply.lead == "promise.stands"
    assert "Your earlier promise still stands" in _text(t, out)


def test_parts_say_the_earlier_promises_stand_in_spanish() -> None:
    t = verified(promised=Decimal("100.00"), pending_promises=(
        Installment(FRIDAY, Decimal("50.00")), Installment(date(2026, 12, 4), Decimal("50.00"))))
    out = said(t, "puedo dar 50 ahora y 50 la proxima semana", "promise_to_pay")
    assert keys(out) == ["parts.confirm_today"]
    assert out.said[0].reply.lead == "promise.stands_many"
    assert "Sus promesas anteriores siguen en pie" in _text(t, out, "es")


def test_parts_cut_by_pending_promises_say_both() -> None:
    t = verified(promised=Decimal("1100.00"),
                 pending_promises=(Installment(FRIDAY, Decimal("1100.00")),))
    out = said(t, "i can do 50 now and 100 next week", "promise_to_pay")
    assert keys(out) == ["parts.confirm_today"]
    assert out.said[0].reply.lead == "parts.capped_beside"


def test_a_plan_says_it_replaces_pending_promises() -> None:
    t = verified(**ONE_PENDING)
    out = said(t, "can i pay 100 a month", "request_payment_plan")
    assert out.said[0].reply.lead == "plan.replaces_promises"


def test_plan_options_say_a_plan_replaces_pending_promises() -> None:
    t = verified(**ONE_PENDING)
    out = t.says("can i get a payment plan", "request_payment_plan")
    assert keys(out) == ["plan.options"]
    assert out.said[0].reply.lead == "plan.option_replaces_promises"
    assert _text(t, out, "es").startswith("Un plan reemplazaría")


def test_no_pending_promise_no_word_about_one() -> None:
    t = verified()
    out = said(t, "i need more time", "request_extension")
    assert keys(out) == ["extension.counter"] and out.said[0].reply.lead is None


def test_a_hardship_pause_is_for_the_rest() -> None:
    t = verified(**ONE_PENDING)
    out = t.says("i lost my job", "hardship")
    totals = [o["total"] for o in t.state.options if o["kind"] == "extension"]
    assert keys(out) == ["hardship.options"] and totals == ["1100.00"]


# The whole turn: the real NLU, the engine, the ledger


@pytest.fixture
async def chat(container: Container, interpreter: Interpreter) -> Chat:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = interpreter
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), outbox)


async def _promised(chat: Chat) -> list[Decimal]:
    async with chat.container.sessions() as session:
        return list(await session.scalars(select(Promise.amount).order_by(Promise.id)))


async def test_promise_then_more_time_never_promises_past_the_balance(chat: Chat) -> None:
    await chat.verify()
    await chat.says("i'll pay 100 on friday")
    await chat.says("yes")
    out = await chat.says("need more time")
    assert [r.key for r in out.replies] == ["extension.counter_rest"]
    assert "still stands" in out.replies[0].text and "$1,100.00" in out.replies[0].text
    await chat.says("yes")
    assert await _promised(chat) == [Decimal("100.00"), Decimal("1100.00")]


async def test_spanish_promise_then_parts_are_told_it_stands(chat: Chat) -> None:
    await chat.verify()
    await chat.says("te pago 50 el viernes")
    await chat.says("sí")
    out = await chat.says("puedo dar 50 ahora y 50 la proxima semana")
    assert [r.key for r in out.replies] == ["parts.confirm_today"]
    assert "sigue en pie" in out.replies[0].text

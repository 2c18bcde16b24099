""" "50 now and the rest later": two parts, the rest's day asked for, both read back."""

from __future__ import annotations

from datetime import date, timedelta
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
from bot.effects import IssuePaymentLink, RecordPromise
from bot.facts import Installment
from bot.messages import ConversationKey
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Interpreter, Parse
from tests.bot.helpers import T0, Transcript, keys, make_facts, texts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

TODAY = T0.date()  # Wednesday, November 25, 2026
FRIDAY, THE_15TH = date(2026, 11, 27), date(2026, 12, 15)
FIFTY = Decimal("50.00")


def _read(text: str, intent: str = "pay_partial") -> dict[str, str]:
    entities = extract_entities(text, reference_time=T0, timezone="America/New_York")
    return entity_choice.chosen_entities(
        Parse(text, IntentScore(intent, 0.9), entities=entities), TODAY
    )


def verified(**facts: Any) -> Transcript:
    t = Transcript(make_facts(**facts))
    t.verify()
    return t


def said(t: Transcript, text: str, intent: str = "pay_partial") -> Outcome:
    return t.says(text, intent, **_read(text, intent))


def _text(t: Transcript, out: Outcome, locale: str = "en") -> str:
    assert t.facts is not None
    return texts(out, t.facts, locale)[0]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("i can pay 50 now and the rest later", "50.00@2026-11-25"),
        ("te doy 50 ahora y lo demás después", "50.00@2026-11-25"),
        ("50 on friday and the rest later", "50.00@2026-11-27"),
    ],
)
def test_the_first_part_is_read_and_the_rest_waits_for_a_day(text: str, first: str) -> None:
    read = _read(text)
    assert read["rest_later"] == first and "parts" not in read


@pytest.mark.parametrize(
    "text",
    [
        "i can pay 50 now and the rest next month",  # dated: an offer in parts
        "i can pay 50 now",
        "i can pay 50 and the rest later",  # which day is the 50's?
    ],
)
def test_no_rest_later_unless_one_part_is_plain_and_the_rest_undated(text: str) -> None:
    assert "rest_later" not in _read(text)


def test_now_and_the_rest_later_asks_the_rests_day_then_records_two_promises() -> None:
    t = verified()
    out = said(t, "i can pay 50 now and the rest later")
    assert keys(out) == ["parts.ask_rest_today"] and out.effects == []
    assert "$50.00 today. On what date can you pay the remaining $1,150.00?" in _text(t, out)
    both = said(t, "on the 15th", "promise_to_pay")
    assert keys(both) == ["parts.confirm_today"]
    assert "you'll pay $50.00 today and $1,150.00 on December 15, 2026" in _text(t, both)
    done = t.says("yes", "affirm")
    assert keys(done) == ["parts.recorded_today"]
    assert done.effects == [
        RecordPromise(FIFTY, TODAY),
        RecordPromise(Decimal("1150.00"), THE_15TH),
        IssuePaymentLink(FIFTY),
    ]


def test_ahora_y_lo_demas_despues_in_spanish() -> None:
    t = verified()
    out = said(t, "te doy 50 ahora y lo demás después")
    assert keys(out) == ["parts.ask_rest_today"]
    assert "¿Qué día puede pagar los $1,150.00 restantes?" in _text(t, out, "es")
    both = said(t, "el viernes", "promise_to_pay")
    assert keys(both) == ["parts.confirm_today"]
    assert "pagará $50.00 hoy y $1,150.00 el 27 de noviembre de 2026" in _text(t, both, "es")
    assert t.says("sí", "affirm").effects[:2] == [
        RecordPromise(FIFTY, TODAY),
        RecordPromise(Decimal("1150.00"), FRIDAY),
    ]


def test_a_rest_too_far_out_is_countered_as_any_second_part() -> None:
    t = verified()
    said(t, "i can pay 50 now and the rest later")
    out = said(t, "march 1", "promise_to_pay")
    assert keys(out) == ["parts.counter.second"]
    latest = TODAY + timedelta(days=30)  # promise.max_days_out
    assert t.says("yes", "affirm").effects[:2] == [
        RecordPromise(FIFTY, TODAY),
        RecordPromise(Decimal("1150.00"), latest),
    ]


def test_a_dated_part_first_and_the_rest_later() -> None:
    t = verified()
    out = said(t, "50 on friday and the rest later", "promise_to_pay")
    assert keys(out) == ["parts.ask_rest"]
    assert "$50.00 on November 27, 2026" in _text(t, out)


def test_the_rest_is_what_pending_promises_leave() -> None:
    t = verified(
        promised=Decimal("1100.00"), pending_promises=(Installment(THE_15TH, Decimal("1100.00")),)
    )
    out = said(t, "i can pay 50 now and the rest later")
    assert keys(out) == ["parts.ask_rest_today"]
    assert "the remaining $50.00" in _text(t, out)


def test_a_first_part_that_pays_everything_is_one_promise() -> None:
    t = verified(balance=Decimal("40.00"))
    out = said(t, "i can pay 50 now and the rest later")
    assert keys(out) == ["promise.confirm"]
    assert t.says("yes", "affirm").effects[0] == RecordPromise(Decimal("40.00"), TODAY)


def test_beside_a_plan_nothing_is_asked() -> None:
    t = verified(active_plan=True)
    out = said(t, "i can pay 50 now and the rest later")
    assert keys(out) == ["promise.beside_plan"]


def test_asked_before_verification_is_answered_after_it() -> None:
    t = Transcript(make_facts())
    first = said(t, "i can pay 50 now and the rest later")
    assert not any(s.debt for s in first.said)
    t.says("03/14/1985", "out_of_scope")
    assert keys(t.says("10001", "out_of_scope")) == ["parts.ask_rest_today"]


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


async def _promises(chat: Chat) -> list[tuple[Decimal, date]]:
    async with chat.container.sessions() as session:
        rows = await session.execute(select(Promise.amount, Promise.due_date).order_by(Promise.id))
        return [(amount, due) for amount, due in rows]


async def test_two_promises_from_now_and_the_rest_later_by_sms(chat: Chat) -> None:
    await chat.verify()
    out = await chat.says("i can pay 50 now and the rest later")
    assert [r.key for r in out.replies] == ["parts.ask_rest_today"]
    both = await chat.says("on the 15th")
    assert [r.key for r in both.replies] == ["parts.confirm_today"]
    done = await chat.says("yes")
    assert [r.key for r in done.replies] == ["parts.recorded_today"]
    assert "/pay/" in done.replies[0].text
    assert await _promises(chat) == [(FIFTY, TODAY), (Decimal("1150.00"), THE_15TH)]


async def test_two_promises_from_ahora_y_lo_demas_despues(chat: Chat) -> None:
    await chat.verify()
    out = await chat.says("te doy 50 ahora y lo demás después")
    assert [r.key for r in out.replies] == ["parts.ask_rest_today"]
    assert "restantes" in out.replies[0].text
    assert [r.key for r in (await chat.says("el 15")).replies] == ["parts.confirm_today"]
    assert [r.key for r in (await chat.says("sí")).replies] == ["parts.recorded_today"]
    assert await _promises(chat) == [(FIFTY, TODAY), (Decimal("1150.00"), THE_15TH)]

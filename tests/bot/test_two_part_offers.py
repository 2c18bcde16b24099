"""Offers in parts ("50 now and 50 next week"): both parts read, judged, confirmed and kept."""

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
from bot.effects import Handoff, IssuePaymentLink, RecordPromise
from bot.facts import Installment
from bot.messages import ConversationKey
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Interpreter, Parse
from tests.bot.helpers import T0, Transcript, effects, keys, make_facts, texts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

TODAY = T0.date()  # Wednesday, November 25, 2026
FRIDAY, NEXT_WEEK, THE_15TH = date(2026, 11, 27), date(2026, 12, 2), date(2026, 12, 15)


def _parse(text: str, intent: str) -> Parse:
    entities = extract_entities(text, reference_time=T0, timezone="America/New_York")
    return Parse(text, IntentScore(intent, 0.9), entities=entities)


def _read(text: str, intent: str = "promise_to_pay") -> dict[str, str]:
    """The entities the engine would give the dialog for `text`."""
    return entity_choice.chosen_entities(_parse(text, intent), TODAY)


def verified(**facts: Any) -> Transcript:
    t = Transcript(make_facts(**facts))
    t.verify()
    return t


def offered(t: Transcript, text: str, intent: str = "promise_to_pay") -> Outcome:
    return t.says(text, intent, **_read(text, intent))


def _text(t: Transcript, out: Outcome, locale: str = "en") -> str:
    assert t.facts is not None
    return texts(out, t.facts, locale)[0]


# Reading the parts


@pytest.mark.parametrize(("text", "parts"), [
    ("i can do 50 now and 50 next week", "50.00@2026-11-25;50.00@2026-12-02"),
    ("puedo dar 50 ahora y 50 la proxima semana", "50.00@2026-11-25;50.00@2026-12-02"),
    ("100 on friday and the rest on the 15th", "100.00@2026-11-27;rest@2026-12-15"),
    ("200 el viernes y 200 el 15", "200.00@2026-11-27;200.00@2026-12-15"),
    ("te doy 100 hoy y el resto el 15", "100.00@2026-11-25;rest@2026-12-15"),
    ("i can pay 50, on friday and 50 on monday", "50.00@2026-11-27;50.00@2026-11-30"),
    ("i get paid friday so i can pay 50 now and 50 next week",
     "50.00@2026-11-25;50.00@2026-12-02"),
    ("i know i owe 1200 but i can pay 100 now and 100 on dec 10",
     "100.00@2026-11-25;100.00@2026-12-10"),
])
def test_each_part_is_an_amount_and_its_day(text: str, parts: str) -> None:
    assert _read(text)["parts"] == parts


@pytest.mark.parametrize("text", [
    "i'll pay 50 on friday",
    "i paid 50 last week and will pay 100 on friday",  # one payment made, one offered
    "i can pay 50 now and the rest later",  # no day for the rest
    "i can pay 50 now and then 50 every week",  # a plan
    "te pago el viernes y el lunes",  # days without amounts
    "i can pay 50 and 50 on friday",  # which day is the first 50's?
])
def test_no_parts_unless_every_part_is_plain(text: str) -> None:
    assert "parts" not in _read(text)


def test_a_payment_made_is_never_read_in_parts() -> None:
    text = "sent 50 monday and 50 tuesday"
    assert entity_choice.offered_parts(_parse(text, "already_paid"), TODAY) == []
    assert "parts" not in _read(text, "already_paid")


# Confirming and recording both parts


def test_now_and_next_week_confirms_both_and_records_two_promises_with_a_link() -> None:
    t = verified()
    out = offered(t, "i can do 50 now and 50 next week", "pay_partial")
    assert keys(out) == ["parts.confirm_today"]
    assert "you'll pay $50.00 today and $50.00 on December 2, 2026, $100.00 in total" in \
        _text(t, out)
    assert out.effects == []
    done = t.says("yes", "affirm")
    assert keys(done) == ["parts.recorded_today"]
    assert done.effects == [RecordPromise(Decimal("50.00"), TODAY),
                            RecordPromise(Decimal("50.00"), NEXT_WEEK),
                            IssuePaymentLink(Decimal("50.00"))]
    assert "https://pay.example/x" in _text(t, done)
    assert t.state.parts == [] and t.state.flow is None


def test_ahora_y_la_proxima_semana_in_spanish() -> None:
    t = verified()
    out = offered(t, "puedo dar 50 ahora y 50 la proxima semana", "pay_partial")
    assert keys(out) == ["parts.confirm_today"]
    assert "pagará $50.00 hoy y $50.00 el 2 de diciembre de 2026" in _text(t, out, "es")
    done = t.says("sí", "affirm")
    assert effects(done) == ["RecordPromise", "RecordPromise", "IssuePaymentLink"]
    assert "Puede hacer el pago de hoy" in _text(t, done, "es")


def test_the_rest_is_what_is_left_of_the_balance() -> None:
    t = verified()
    out = offered(t, "100 on friday and the rest on the 15th")
    assert keys(out) == ["parts.confirm"]
    text = _text(t, out)
    assert "$100.00 on November 27, 2026 and $1,100.00 on December 15, 2026" in text
    assert "$1,200.00 in total" in text
    done = t.says("yes", "affirm")
    assert keys(done) == ["parts.recorded"]
    assert done.effects == [RecordPromise(Decimal("100.00"), FRIDAY),
                            RecordPromise(Decimal("1100.00"), THE_15TH)]


def test_el_viernes_y_el_15_in_spanish() -> None:
    t = verified()
    out = offered(t, "200 el viernes y 200 el 15")
    assert keys(out) == ["parts.confirm"]
    assert "$200.00 el 27 de noviembre de 2026 y $200.00 el 15 de diciembre de 2026" in \
        _text(t, out, "es")
    done = t.says("si", "affirm")
    assert done.effects == [RecordPromise(Decimal("200.00"), FRIDAY),
                            RecordPromise(Decimal("200.00"), THE_15TH)]
    assert "sus compromisos de pagar $200.00 el 27 de noviembre" in _text(t, done, "es")


def test_no_asks_what_would_work_and_records_nothing() -> None:
    t = verified()
    offered(t, "i can do 50 now and 50 next week", "pay_partial")
    out = t.says("no", "deny")
    assert keys(out) == ["negotiate.ask.promise"] and out.effects == []
    assert t.state.parts == []
    again = offered(t, "ok 100 on friday", "counter_offer")
    assert keys(again) == ["promise.confirm"]
    assert t.says("yes", "affirm").effects == [RecordPromise(Decimal("100.00"), FRIDAY)]


def test_no_in_spanish_then_new_parts() -> None:
    t = verified()
    offered(t, "200 el viernes y 200 el 15")
    assert keys(t.says("no", "deny")) == ["negotiate.ask.promise"]
    out = offered(t, "100 el viernes y 300 el 15", "counter_offer")
    assert keys(out) == ["parts.confirm"]
    assert "$100.00 el 27 de noviembre de 2026 y $300.00" in _text(t, out, "es")


# Out of policy: the part is named and countered as one promise would be


def test_a_second_part_too_far_out_is_countered_by_the_latest_day() -> None:
    t = verified()
    out = offered(t, "i can do 50 now and 50 on march 1")
    assert keys(out) == ["parts.counter.second"]
    latest = TODAY + timedelta(days=30)  # promise.max_days_out
    assert "I can't accept the second" in _text(t, out)
    assert "$50.00 by December 25, 2026" in _text(t, out)
    done = t.says("yes", "affirm")
    assert done.effects[:2] == [RecordPromise(Decimal("50.00"), TODAY),
                                RecordPromise(Decimal("50.00"), latest)]


def test_a_first_part_below_the_minimum_is_countered_in_spanish() -> None:
    t = verified()
    out = offered(t, "te doy 10 ahora y 100 el viernes")
    assert keys(out) == ["parts.counter.first"]
    text = _text(t, out, "es")
    assert "No puedo aceptar el primer pago" in text
    assert "$20.00 a más tardar el 25 de noviembre de 2026 y luego $100.00 el 27" in text


def test_both_parts_outside_are_both_countered() -> None:
    t = verified()
    out = offered(t, "$5 on friday and $5 on march 1")
    assert keys(out) == ["parts.counter.both"]
    assert "either payment" in _text(t, out)


def test_out_of_policy_no_in_spanish_records_nothing() -> None:
    t = verified()
    offered(t, "50 ahora y 50 el 1 de marzo")
    out = t.says("no", "deny")
    assert keys(out) == ["negotiate.ask.promise"] and out.effects == []


# What is owed bounds the parts


def test_parts_past_the_balance_shrink_the_last_to_what_is_left() -> None:
    t = verified(balance=Decimal("80.00"))
    out = offered(t, "i can do 50 now and 50 next week", "pay_partial")
    assert keys(out) == ["parts.confirm_today"]
    assert out.said[0].reply.lead == "parts.capped"
    assert "$50.00 today and $30.00 on December 2, 2026, $80.00 in total" in _text(t, out)
    assert t.says("yes", "affirm").effects[:2] == [
        RecordPromise(Decimal("50.00"), TODAY), RecordPromise(Decimal("30.00"), NEXT_WEEK)]


def test_a_first_part_that_pays_everything_is_one_promise() -> None:
    t = verified(balance=Decimal("40.00"))
    out = offered(t, "i can do 50 now and 50 next week", "pay_partial")
    assert keys(out) == ["promise.confirm"]
    assert t.says("yes", "affirm").effects == [RecordPromise(Decimal("40.00"), TODAY),
                                               IssuePaymentLink(Decimal("40.00"))]


def test_pending_promises_leave_less_to_promise() -> None:
    t = verified(promised=Decimal("1150.00"),
                 pending_promises=(Installment(THE_15TH, Decimal("1150.00")),))
    out = offered(t, "100 on friday and the rest on the 15th")
    assert keys(out) == ["promise.confirm"]  # $50 is all that is left, paid friday
    assert out.said[0].reply.slots["offer"].total == Decimal("50.00")


def test_parts_already_promised_are_not_promised_again() -> None:
    pending = (Installment(FRIDAY, Decimal("200.00")), Installment(THE_15TH, Decimal("200.00")))
    t = verified(promised=Decimal("400.00"), pending_promises=pending)
    assert keys(offered(t, "200 el viernes y 200 el 15")) == ["promise.already"]


def test_beside_a_plan_no_parts_are_promised() -> None:
    t = verified(active_plan=True)
    out = offered(t, "i can do 50 now and 50 next week", "pay_partial")
    assert keys(out) == ["promise.beside_plan"] and out.effects == []


def test_three_parts_go_to_a_person_rather_than_lose_one() -> None:
    t = verified()
    out = offered(t, "50 now, 50 on friday and 50 on the 15th")
    assert keys(out) == ["negotiate.handoff"]
    assert isinstance(out.effects[0], Handoff) and out.effects[0].reason == "offer_in_parts"


def test_parts_said_before_verification_are_answered_after_it() -> None:
    t = Transcript(make_facts())
    offered(t, "i can do 50 now and 50 next week", "pay_partial")
    t.says("03/14/1985", "out_of_scope")
    out = t.says("10001", "out_of_scope")
    assert keys(out) == ["parts.confirm_today"]


def test_parts_in_another_currency_are_not_taken() -> None:
    t = verified()
    out = offered(t, "50 euros now and 50 euros friday")
    assert keys(out)[0] == "money.other_currency"
    assert "parts.confirm_today" not in keys(out) and t.state.parts == []


def test_a_round_is_spent_when_parts_answer_an_offer() -> None:
    t = verified()
    t.says("plan", "request_payment_plan", installments="6")
    assert t.state.rounds == 0
    offered(t, "i can do 50 now and 50 next week", "counter_offer")
    assert t.state.rounds == 1


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


async def test_two_promises_are_recorded_from_an_sms(chat: Chat) -> None:
    await chat.verify()
    out = await chat.says("i can do 50 now and 50 next week")
    assert [r.key for r in out.replies] == ["parts.confirm_today"]
    assert "$50.00 today and $50.00 on December 2, 2026" in out.replies[0].text
    done = await chat.says("yes")
    assert [r.key for r in done.replies] == ["parts.recorded_today"]
    assert "/pay/" in done.replies[0].text
    assert await _promises(chat) == [(Decimal("50.00"), TODAY),
                                     (Decimal("50.00"), NEXT_WEEK)]


async def test_two_promises_are_recorded_from_a_spanish_sms(chat: Chat) -> None:
    await chat.verify()
    out = await chat.says("te pago 200 el viernes y 200 el 15")
    assert [r.key for r in out.replies] == ["parts.confirm"]
    assert "$200.00 el 27 de noviembre de 2026 y $200.00 el 15 de diciembre" in \
        out.replies[0].text
    assert [r.key for r in (await chat.says("sí")).replies] == ["parts.recorded"]
    assert await _promises(chat) == [(Decimal("200.00"), FRIDAY),
                                     (Decimal("200.00"), THE_15TH)]


async def test_no_to_parts_records_nothing(chat: Chat) -> None:
    await chat.verify()
    await chat.says("100 on friday and the rest on the 15th")
    out = await chat.says("no")
    assert [r.key for r in out.replies] == ["negotiate.ask.promise"]
    assert await _promises(chat) == []

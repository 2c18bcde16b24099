"""Dialog gaps: a yes with thanks records, an amount every period is a plan, a handoff note
leads with the more time asked for, and a long negotiation keeps its history small."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import PaymentPlan, Promise
from backend.services.imports.writer import upsert_accounts
from bot.dialogs import router
from bot.dialogs.base import Outcome, Turn
from bot.effects import Handoff, IssuePaymentLink, RecordPlan, RecordPromise
from bot.facts import Answer, PendingPromise
from bot.messages import ConversationKey
from nlu.types import Interpreter
from tests.bot.helpers import T0, Transcript, keys, make_facts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

FRIDAY = date(2026, 11, 27)
HISTORY_LINES = 20  # the bound the stored history keeps (`bot.dialogs.base.HISTORY_LINES`)


def verified() -> Transcript:
    t = Transcript(make_facts())
    t.verify()
    return t


def said(t: Transcript, text: str, intent: str, confidence: float = 1.0,
         **entities: str) -> Outcome:
    """One message as the NLU scored it (the transcript helper reads every one as sure)."""
    out = router.step(t.state, Turn(text, intent, t.now, confidence, dict(entities)), t.facts)
    t.state = out.state
    return out


def read_back(t: Transcript) -> None:
    out = t.says("I'll pay 300 on friday", "promise_to_pay", amount="300.00",
                 date=FRIDAY.isoformat())
    assert keys(out) == ["promise.confirm"]


def handoff_of(out: Outcome) -> Handoff:
    [handoff] = [e for e in out.effects if isinstance(e, Handoff)]
    return handoff


# -- 1. A yes and courtesy at a read-back is the yes ---------------------------------------


@pytest.mark.parametrize(("text", "intent", "confidence"), [
    ("yes thank you", "thanks", 0.90),
    ("yes thanks", "affirm", 0.79),
    ("si gracias", "thanks", 0.85),
    ("Sí, gracias!", "thanks", 0.6),
    ("ok thanks", "thanks", 0.7),
    ("yes please", "affirm", 0.6),
    ("that's right, thx 🙏", "out_of_scope", 0.5),
    ("claro que si por favor", "affirm", 0.7),
])
def test_a_yes_with_courtesy_records_the_promise(text: str, intent: str,
                                                 confidence: float) -> None:
    t = verified()
    read_back(t)
    out = said(t, text, intent, confidence)
    assert keys(out) == ["promise.recorded"]
    assert out.effects == [RecordPromise(Decimal("300.00"), FRIDAY, "promise")]


@pytest.mark.parametrize(("text", "intent", "confidence"), [
    ("no thanks", "thanks", 0.9),
    ("maybe yes thanks", "affirm", 0.95),
    ("yes i guess, thanks", "affirm", 0.9),
    ("thanks", "thanks", 0.99),
    ("yes thanks but call me later", "affirm", 0.79),
])
def test_no_hedge_nor_bare_thanks_records(text: str, intent: str, confidence: float) -> None:
    t = verified()
    read_back(t)
    out = said(t, text, intent, confidence)
    assert not any(isinstance(e, RecordPromise) for e in out.effects)


def test_a_courteous_yes_is_clear_whatever_the_score() -> None:
    def turn(text: str, intent: str = "affirm", confidence: float = 0.5) -> Turn:
        return Turn(text, intent, T0, confidence)

    assert turn("yes thank you", "thanks", 0.9).clear_yes()
    assert turn("Yep, ty!").clear_yes()
    assert turn("okay por favor").clear_yes()
    assert not turn("no thanks", "thanks").clear_yes()
    assert not turn("probably yes thanks").clear_yes()
    assert not turn("yes but not friday").clear_yes()
    assert not turn("thank you").clear_yes()


def test_a_move_read_back_takes_a_yes_with_thanks() -> None:
    t = Transcript(make_facts(pending_promises=(PendingPromise(FRIDAY, Decimal("300.00")),)))
    t.verify()
    assert keys(t.says("can I move friday's payment to monday", "promise_to_pay",
                       date="2026-11-30", moved_from=FRIDAY.isoformat(),
                       move="verb")) == ["promise.move_confirm"]
    out = said(t, "yes thank you", "thanks", 0.9)
    assert keys(out) == ["promise.moved"]


# -- 2. An amount every period is a plan of that amount ------------------------------------


@pytest.mark.parametrize(("text", "intent", "amount", "frequency"), [
    ("I can pay 75/month", "promise_to_pay", "75.00", "monthly"),
    ("i can pay 75 a month", "promise_to_pay", "75.00", "monthly"),
    ("puedo pagar 50 cada quincena", "promise_to_pay", "50.00", "biweekly"),
    ("$100 every 2 weeks", "pay_partial", "100.00", "biweekly"),
])
def test_an_amount_every_period_is_judged_as_the_plan_asked(
        text: str, intent: str, amount: str, frequency: str) -> None:
    as_plan = verified().says("can I do a plan", "request_payment_plan", amount=amount,
                              frequency=frequency)
    t = verified()
    out = t.says(text, intent, amount=amount, frequency=frequency)
    assert keys(out) == keys(as_plan)
    assert keys(out)[0] in ("plan.confirm", "plan.counter")
    assert out.said[0].reply.slots["offer"] == as_plan.said[0].reply.slots["offer"]
    assert not any(isinstance(e, IssuePaymentLink) for e in out.effects)
    assert t.state.history[0] == f"asked: plan {amount} {frequency}"


def test_an_amount_every_period_answering_for_a_day_is_a_plan() -> None:
    t = verified()
    assert keys(t.says("I'll pay next week", "promise_to_pay",
                       date="2026-12-02")) == ["promise.ask_amount"]
    out = t.says("100 every 2 weeks", "promise_to_pay", amount="100.00", frequency="biweekly")
    assert keys(out)[0] in ("plan.confirm", "plan.counter")
    done = said(t, "yes thanks", "affirm", 0.79)
    assert keys(done) == ["plan.recorded"]
    assert isinstance(done.effects[0], RecordPlan)
    assert done.effects[0].offer.frequency == "biweekly"


# -- 3. A handoff note leads with the more time asked for ----------------------------------


def test_a_round_limit_note_leads_with_the_extension_asked() -> None:
    t = verified()
    assert keys(t.says("can I have until january 30", "request_extension",
                       date="2027-01-30")) == ["extension.counter"]
    out = t.says("no", "deny")
    for _ in range(6):
        if any(isinstance(e, Handoff) for e in out.effects):
            break
        out = t.says("what about january 20", "request_extension", date="2027-01-20")
    note = handoff_of(out).note or ""
    assert handoff_of(out).reason == "negotiation_rounds"
    assert note.startswith("debtor asked: extension on 2027-01-30")


def test_an_approval_note_names_the_extension_asked() -> None:
    policy = make_facts().policy
    facts = make_facts()
    judge = facts.judge
    assert judge is not None and policy is not None

    class NeedsApproval:
        def answer(self, kind: str, request: Any, terms: Any) -> Any:
            return Answer(None, needs_human=True)

        def __getattr__(self, name: str) -> Any:
            return getattr(judge, name)

    t = Transcript(replace(facts, judge=NeedsApproval()))  # type: ignore[arg-type]
    t.verify()
    out = t.says("can I have until the 30th", "request_extension", date="2026-12-30")
    assert keys(out) == ["negotiate.approval"]
    assert handoff_of(out).note == "debtor asked: extension on 2026-12-30"


# -- 4. A long negotiation keeps its history small, and the first ask ----------------------


def test_two_hundred_rounds_keep_the_state_small_and_the_first_ask() -> None:
    t = verified()
    for cents in range(200):
        out = t.says("can I do a plan", "request_payment_plan",
                     amount=str(Decimal("50.00") + Decimal(cents) / 100), frequency="monthly")
        assert keys(out) == ["plan.counter"]
    assert len(t.state.history) <= HISTORY_LINES
    assert len(json.dumps(t.state.to_dict())) < 4000
    assert keys(t.says("no", "deny")) == ["negotiate.ask.plan"]
    t.says("55 a month", "counter_offer", amount="55.00", frequency="monthly")
    t.says("no", "deny")
    out = t.says("56 a month", "counter_offer", amount="56.00", frequency="monthly")
    note = handoff_of(out).note or ""
    assert note.startswith("debtor asked: plan 50.00 monthly, ")
    assert "plan 56.00 monthly; offered: " in note
    assert len(t.state.history) <= HISTORY_LINES


# -- Through the engine, read by the real NLU ----------------------------------------------


@pytest.fixture
async def chat(container: Container, interpreter: Interpreter) -> Chat:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = interpreter
    install_conversations(None, container)
    chat = Chat(container, ConversationKey("sms", PHONE), outbox)
    await chat.verify()
    return chat


async def _keys(chat: Chat, text: str) -> list[str]:
    return [r.key for r in (await chat.says(text)).replies]


@pytest.mark.parametrize("yes", ["yes thank you", "yes thanks", "ok thanks", "yes please"])
async def test_engine_records_a_promise_on_yes_with_thanks(chat: Chat, yes: str) -> None:
    assert await _keys(chat, "i'll pay 100 on friday") == ["promise.confirm"]
    assert await _keys(chat, yes) == ["promise.recorded"]
    async with chat.container.sessions() as session:
        assert list(await session.scalars(select(Promise.amount))) == [Decimal("100.00")]


async def test_engine_reads_75_a_month_as_a_plan(chat: Chat) -> None:
    out = await _keys(chat, "I can pay 75/month")
    assert out[0] in ("plan.confirm", "plan.counter")
    async with chat.container.sessions() as session:
        assert list(await session.scalars(select(PaymentPlan))) == []


"""Review fixes, negotiating with the real NLU: a handoff note leads with what the debtor
asked for; taking the offer on the table is no round; "close it out" asks to settle; and an
amount paid "now" answering an offer is due today."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Handoff, PaymentPlan, Promise
from backend.services.imports.writer import upsert_accounts
from bot.dialogs.base import Turn
from bot.dialogs.negotiation import wants_settlement
from bot.messages import ConversationKey
from nlu.types import Interpreter
from tests.bot.helpers import T0, Transcript, keys, make_facts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

TODAY = date(2026, 11, 25)
FRIDAY = date(2026, 11, 27)
# More than 180 days past due: settlements down to 30% off, beyond 20% only with approval.
LONG_OVERDUE = date(2026, 5, 1)


async def _chat(container: Container, interpreter: Interpreter, **row: Any) -> Chat:
    """A verified debtor on the account `row` describes, read by the real NLU."""
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(**row)], container.clock.now())
    container.services["outbox"] = CollectingOutbox()
    container.interpreter = interpreter
    install_conversations(None, container)
    chat = Chat(container, ConversationKey("sms", PHONE), container.services["outbox"])
    await chat.verify()
    return chat


def _owing(balance: str, **row: Any) -> dict[str, Any]:
    return {"balance": Decimal(balance), "original_balance": Decimal(balance), **row}


async def _keys(chat: Chat, text: str) -> list[str]:
    return [r.key for r in (await chat.says(text)).replies]


async def _handoffs(chat: Chat) -> list[tuple[str, str]]:
    async with chat.container.sessions() as session:
        return [(h.reason, h.note or "") for h in await session.scalars(
            select(Handoff).order_by(Handoff.id))]


# -- 1. The note a person picks up leads with the debtor's ask ------------------------------


async def test_a_round_limit_note_leads_with_the_settlement_the_debtor_asked(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter, **_owing("4032.33"))
    assert await _keys(chat, "can I settle for $2,999.04?") == ["settlement.counter"]
    assert await _keys(chat, "no") == ["negotiate.ask.settlement"]
    assert await _keys(chat, "can you take $3,000 to settle") == ["settlement.counter"]
    assert await _keys(chat, "no") == ["negotiate.handoff"]
    [(reason, note)] = await _handoffs(chat)
    assert reason == "negotiation_rounds"
    assert note.startswith("debtor asked: settlement 2999.04, settlement 3000.00; offered: ")
    assert "settlement 3427.49 x1 2026-12-09" in note.split("offered: ")[1]


async def test_a_round_limit_note_leads_with_the_plan_the_debtor_asked(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter, **_owing("1747.03"))
    assert await _keys(chat, "can I do a plan of 75 a month") == ["plan.counter"]
    assert await _keys(chat, "no") == ["negotiate.ask.plan"]
    assert await _keys(chat, "75 a month") == ["plan.counter"]
    assert await _keys(chat, "no") == ["negotiate.ask.plan"]
    assert await _keys(chat, "80 a month") == ["negotiate.handoff"]
    [(reason, note)] = await _handoffs(chat)
    assert reason == "negotiation_rounds"
    assert note.startswith(
        "debtor asked: plan 75.00 monthly, plan 75.00 monthly, plan 80.00 monthly; offered: ")
    assert "plan 1747.03 x12 monthly" in note


async def test_an_approval_note_names_the_settlement_the_debtor_asked(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter, due_date=LONG_OVERDUE)
    assert await _keys(chat, "can I settle for $900") == ["negotiate.approval"]
    assert await _handoffs(chat) == [("needs_approval", "debtor asked: settlement 900.00")]


# -- 2. The offer on the table, taken in its own numbers, is no round -----------------------


async def test_the_plans_own_installment_on_the_last_round_is_read_back_and_recorded(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter, **_owing("1747.03"))
    assert await _keys(chat, "can I do a plan of 75 a month") == ["plan.counter"]
    assert await _keys(chat, "no") == ["negotiate.ask.plan"]
    assert await _keys(chat, "75 a month") == ["plan.counter"]
    assert await _keys(chat, "no") == ["negotiate.ask.plan"]
    read_back = await chat.says("ok 145.58 a month then")
    assert [r.key for r in read_back.replies] == ["plan.confirm"]
    assert "12 monthly payments, the first of $145.58" in read_back.replies[0].text
    assert await _keys(chat, "yes") == ["plan.recorded"]
    assert await _handoffs(chat) == []
    async with chat.container.sessions() as session:
        [plan] = (await session.scalars(select(PaymentPlan))).all()
    assert (plan.total, plan.frequency, plan.is_settlement) == (Decimal("1747.03"), "monthly",
                                                                False)


async def test_the_settlement_offered_taken_on_the_last_round_is_recorded(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter, **_owing("4032.33"))
    assert await _keys(chat, "can I settle for $2,999.04?") == ["settlement.counter"]
    assert await _keys(chat, "no") == ["negotiate.ask.settlement"]
    assert await _keys(chat, "can you take $3,000 to settle") == ["settlement.counter"]
    assert await _keys(chat, "fine, 3427.49 then") == ["settlement.confirm"]
    assert await _keys(chat, "yes") == ["settlement.recorded"]
    assert await _handoffs(chat) == []


# -- 3. Words that close the account for less ask to settle ---------------------------------


async def test_close_it_out_is_a_settlement_not_a_plan(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter, **_owing("3865.76"))
    out = await chat.says("can you take $3,285.90 to close it out?")
    assert [r.key for r in out.replies] == ["settlement.confirm"]
    assert "$3,285.90" in out.replies[0].text and "settle" in out.replies[0].text


@pytest.mark.parametrize("text", [
    "can you take 900 to close it out", "would you take 900 to close the account",
    "900 and we close this out", "i can pay 900 if we call it even",
    "can i pay it off for 900", "can i settle for 900", "puedo liquidar con 900",
    "te doy 900 para saldar la deuda", "puedo dar 900 para cerrar la cuenta",
    "900 para finiquitar", "900 y cerramos la cuenta",
])
def test_settle_phrasings_ask_to_settle(text: str) -> None:
    assert wants_settlement(Turn(text, "counter_offer", T0, entities={"amount": "900.00"}))


@pytest.mark.parametrize("text", [
    "i can pay it off next friday", "cual es mi saldo", "can i pay 900 now",
])
def test_paying_off_or_asking_the_balance_is_no_settlement(text: str) -> None:
    assert not wants_settlement(Turn(text, "counter_offer", T0))


# -- 4. "Now" answering an offer is today ---------------------------------------------------


@pytest.mark.parametrize("change", ["actually make it 100 now", "actually make it 100 right now",
                                    "mejor te pago 100 ya", "mejor 100 ahora"])
async def test_an_amount_now_answering_an_offer_is_due_today(
    container: Container, interpreter: Interpreter, change: str
) -> None:
    chat = await _chat(container, interpreter)
    assert await _keys(chat, "50 bucks now and the rest friday") == ["parts.confirm_today"]
    read_back = await chat.says(change)
    assert [r.key for r in read_back.replies] == ["promise.confirm"]
    assert "$100.00" in read_back.replies[0].text  # today's date, in the debtor's language
    assert await _keys(chat, "yes") == ["promise.recorded_today"]
    async with chat.container.sessions() as session:
        rows = (await session.execute(select(Promise.amount, Promise.due_date))).all()
    assert [tuple(row) for row in rows] == [(Decimal("100.00"), TODAY)]


@pytest.mark.parametrize(("text", "now"), [
    ("actually make it 100 now", True), ("100 right now", True), ("te pago 100 ya", True),
    ("100 ahora", True), ("i can't pay now, 100", False), ("ya te dije 100", False),
    ("no puedo ahora, pero 100", False),
])
def test_now_is_read_as_the_debtor_means_it(text: str, now: bool) -> None:
    t = Transcript(make_facts())
    t.verify()
    offered = t.says("50 now and the rest friday", "pay_partial", amount="50.00",
                     date=str(FRIDAY), parts=f"50.00@{TODAY};rest@{FRIDAY}")
    assert keys(offered) == ["parts.confirm_today"]
    changed = t.says(text, "pay_partial", amount="100.00")
    assert keys(changed) == (["promise.confirm"] if now else ["promise.ask_date"])
    if now:
        assert changed.said[0].reply.slots["offer"].first_due == TODAY

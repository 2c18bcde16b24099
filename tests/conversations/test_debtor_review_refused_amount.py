"""Debtor review: an amount the debtor says they cannot pay ("can't afford 100 a month, maybe
30", "100 es mucho") is never the offer read back when they offer another one."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Installment, PaymentPlan
from backend.services.imports.writer import upsert_accounts
from bot.entity_choice import chosen_entities
from bot.messages import ConversationKey
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Interpreter, Parse
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

REF = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("America/New_York"))
TODAY = date(2026, 11, 25)


def _chosen(text: str) -> dict[str, str]:
    entities = extract_entities(text, reference_time=REF, timezone="America/New_York")
    return chosen_entities(Parse(text, IntentScore("counter_offer", 0.9), entities=entities),
                           TODAY)


@pytest.mark.parametrize(("text", "amount"), [
    ("I cant afford 100 a month, maybe 30", "30.00"),
    ("i really cant do 100. maybe 20 a month", "20.00"),
    ("100 is too much, maybe 30", "30.00"),
    ("100 a month is too high for me, i can do 40", "40.00"),
    ("no puedo 100 al mes, tal vez 30", "30.00"),
    ("100 es mucho, puedo 30", "30.00"),
    ("100 al mes es demasiado, le puedo dar 40", "40.00"),
    ("i can do 30 instead of 100", "30.00"),
])
def test_the_refused_amount_is_not_the_offer(text: str, amount: str) -> None:
    assert _chosen(text)["amount"] == amount


@pytest.mark.parametrize(("text", "amount"), [
    ("i cant pay more than 50 a month", "50.00"),  # a ceiling, not a refusal
    ("no puedo pagar mas de 50 al mes", "50.00"),
    ("i can't pay 100 until friday", "100.00"),  # the day it will do
])
def test_a_ceiling_or_a_day_still_counts(text: str, amount: str) -> None:
    assert _chosen(text)["amount"] == amount


@pytest.mark.parametrize("text", ["i cant afford 100", "I can't afford 100", "no puedo 100",
                                  "100 is too much"])
def test_a_lone_refused_amount_offers_nothing(text: str) -> None:
    assert "amount" not in _chosen(text)  # the bot asks how much, never reads back 100


@pytest.mark.parametrize(("text", "count", "frequency"), [
    ("i cant do 12 payments of 100, how about 24 payments of 50", "24", None),
    ("cant do weekly, maybe 40 every 2 weeks", None, "biweekly"),
    ("I cant afford 100 a month, maybe 30", None, "monthly"),
    ("no puedo 100 al mes, tal vez 30", None, "monthly"),
])
def test_the_plan_terms_offered_not_the_refused_ones(
    text: str, count: str | None, frequency: str | None
) -> None:
    chosen = _chosen(text)
    assert chosen.get("installments") == count
    assert chosen.get("frequency") == frequency


async def _chat(container: Container, interpreter: Interpreter, balance: str) -> Chat:
    """A verified debtor owing `balance`, read by the real NLU."""
    owed = Decimal(balance)
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(balance=owed, original_balance=owed)],
                              container.clock.now())
    container.services["outbox"] = CollectingOutbox()
    container.interpreter = interpreter
    install_conversations(None, container)
    chat = Chat(container, ConversationKey("sms", PHONE), container.services["outbox"])
    await chat.verify()
    return chat


async def _installments(chat: Chat) -> list[str]:
    """Every recorded plan's installment amounts."""
    async with chat.container.sessions() as session:
        return [str(a) for a in await session.scalars(
            select(Installment.amount).join(PaymentPlan).order_by(Installment.id))]


@pytest.mark.parametrize("refusal", [
    "I cant afford 100 a month, maybe 30",
    "i really cant do 100. maybe 20 a month",
])
async def test_a_refused_100_a_month_is_not_read_back_as_the_debtors_offer(
    container: Container, interpreter: Interpreter, refusal: str
) -> None:
    chat = await _chat(container, interpreter, "1200.00")
    await chat.says("can I get a payment plan")  # 12 monthly payments of $100.00
    answer = await chat.says(refusal)
    # Below the policy's smallest installment: countered, never confirmed as their offer.
    assert [r.key for r in answer.replies] == ["plan.counter"]
    assert not chat.outbox.texts[-1].startswith("To confirm")
    await chat.says("no")
    assert await _installments(chat) == []


@pytest.mark.parametrize(("refusal", "installment"), [
    ("I cant afford 100 a month, maybe 30", "30.00"),
    ("i really cant do 100. maybe 20 a month", "25.00"),  # 12 payments at most: countered
])
async def test_yes_records_the_amount_offered_not_the_one_refused(
    container: Container, interpreter: Interpreter, refusal: str, installment: str
) -> None:
    chat = await _chat(container, interpreter, "300.00")
    await chat.says("can I get a payment plan")
    await chat.says(refusal)
    await chat.says("yes")
    recorded = await _installments(chat)
    assert recorded and set(recorded) == {installment}

"""A promise to pay today carries the pay link, as the today-part of an offer in parts does;
every link the bot issues names the channel it went out on."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services.imports.writer import upsert_accounts
from backend.services.payments.links import PaymentLinks
from bot import entity_choice
from bot.dialogs.base import Outcome
from bot.effects import IssuePaymentLink, RecordPromise
from bot.messages import ConversationKey
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Interpreter, Parse
from tests.bot.helpers import T0, Transcript, keys, make_facts, texts
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

TODAY = T0.date()
PAY_TOKEN = re.compile(r"/pay/(\S+)")


def said(t: Transcript, text: str, intent: str = "promise_to_pay") -> Outcome:
    entities = extract_entities(text, reference_time=T0, timezone="America/New_York")
    chosen = entity_choice.chosen_entities(
        Parse(text, IntentScore(intent, 0.9), entities=entities), TODAY
    )
    return t.says(text, intent, **chosen)


def verified() -> Transcript:
    t = Transcript(make_facts())
    t.verify()
    return t


def test_ill_pay_it_today_gets_the_link_with_the_confirmation() -> None:
    t = verified()
    assert keys(said(t, "ill pay it today")) == ["promise.ask_amount"]
    assert keys(said(t, "100")) == ["promise.confirm"]
    done = t.says("yes", "affirm")
    assert keys(done) == ["promise.recorded_today"]
    assert done.effects == [
        RecordPromise(Decimal("100.00"), TODAY),
        IssuePaymentLink(Decimal("100.00")),
    ]
    assert t.facts is not None
    assert (
        "promise to pay $100.00 today. You can pay it securely here: https://pay.example/x"
        in texts(done, t.facts)[0]
    )


def test_te_pago_100_hoy_in_spanish() -> None:
    t = verified()
    assert keys(said(t, "te pago 100 hoy")) == ["promise.confirm"]
    done = t.says("sí", "affirm")
    assert effects_of(done) == ["RecordPromise", "IssuePaymentLink"]
    assert t.facts is not None
    assert (
        "pagar $100.00 hoy. Puede pagarlo de forma segura aquí: https://pay.example/x"
        in texts(done, t.facts, "es")[0]
    )


def effects_of(out: Outcome) -> list[str]:
    return [type(e).__name__ for e in out.effects]


def test_a_promise_for_another_day_gets_no_link() -> None:
    t = verified()
    said(t, "i'll pay 100 on friday")
    done = t.says("yes", "affirm")
    assert keys(done) == ["promise.recorded"] and effects_of(done) == ["RecordPromise"]


# The whole turn: the real NLU, the engine, the link service


@pytest.fixture
async def chat(container: Container, interpreter: Interpreter) -> Chat:
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = interpreter
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), outbox)


async def test_a_promise_for_today_by_sms_carries_a_link_issued_for_sms(chat: Chat) -> None:
    await chat.verify()
    assert [r.key for r in (await chat.says("i'll pay 100 today")).replies] == ["promise.confirm"]
    done = await chat.says("yes")
    assert [r.key for r in done.replies] == ["promise.recorded_today"]
    token = PAY_TOKEN.search(done.replies[0].text)
    assert token is not None
    links: PaymentLinks = chat.container.services["payment_links"]
    link = links.read(token.group(1))
    assert link is not None
    assert (link.amount, link.channel) == (Decimal("100.00"), "sms")


async def test_money_today_in_spanish_by_sms_gets_its_link_at_once(chat: Chat) -> None:
    # TAXONOMY: part of the money now is pay_partial (a promise names a future day), so
    # "te pago 100 hoy" needs no confirmation round: the link for $100.00 comes at once.
    await chat.verify()
    done = await chat.says("te pago 100 hoy")
    assert [r.key for r in done.replies] == ["pay.partial.link"]
    assert "Puede pagar $100.00 de forma segura" in done.replies[0].text
    token = PAY_TOKEN.search(done.replies[0].text)
    assert token is not None
    link = chat.container.services["payment_links"].read(token.group(1))
    assert link is not None and (link.amount, link.channel) == (Decimal("100.00"), "sms")

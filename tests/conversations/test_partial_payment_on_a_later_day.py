"""An amount offered for a day to come ("I can pay 100 dollars on December 10"), read by the
NLU as pay_partial, is a promise: confirmed and recorded, no pay-now link. Today or no day
keeps the link."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backend.db.models import Promise
from bot.engine import TurnResult
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Parse
from tests.conversations.conftest import Chat
from tests.conversations.fakes import RuleInterpreter

PAY_NOW = re.compile(r"^(i can pay|puedo pagar)\b", re.I)


class ReadsPartialPayments(RuleInterpreter):
    """How the shipped model read the reviewer's message: pay_partial, with the real
    extractors' amount and date."""

    async def parse(self, text: str, **kwargs: Any) -> Parse:
        parsed = await super().parse(text, **kwargs)
        entities = extract_entities(text, reference_time=kwargs["reference_time"],
                                    timezone=kwargs.get("timezone"))
        if PAY_NOW.search(text):
            return replace(parsed, intent=IntentScore("pay_partial", 0.9), entities=entities)
        return replace(parsed, entities=entities)


async def _promises(chat: Chat) -> list[tuple[Decimal, date]]:
    async with chat.container.sessions() as session:
        rows = await session.execute(select(Promise.amount, Promise.due_date).order_by(Promise.id))
        return [(amount, due) for amount, due in rows]


def _keys(result: TurnResult) -> list[str]:
    return [r.key for r in result.replies]


async def _verified(chat: Chat) -> Chat:
    await chat.verify()
    chat.engine.interpreter = ReadsPartialPayments()
    return chat


async def test_an_amount_on_a_later_day_is_recorded_as_a_promise(chat: Chat) -> None:
    await _verified(chat)
    offered = await chat.says("I can pay 100 dollars on December 10")
    assert _keys(offered) == ["promise.confirm"]
    assert "/pay/" not in offered.replies[0].text
    assert "$100.00" in offered.replies[0].text and "December 10" in offered.replies[0].text
    done = await chat.says("yes")
    assert _keys(done) == ["promise.recorded"]
    assert not any("/pay/" in text for text in chat.outbox.texts)
    assert await _promises(chat) == [(Decimal("100.00"), date(2026, 12, 10))]


async def test_en_espanol_un_monto_para_otro_dia_es_una_promesa(chat: Chat) -> None:
    await _verified(chat)
    offered = await chat.says("puedo pagar 75 dolares el 10 de diciembre")
    assert _keys(offered) == ["promise.confirm"]
    assert _keys(await chat.says("sí")) == ["promise.recorded"]
    assert await _promises(chat) == [(Decimal("75.00"), date(2026, 12, 10))]


async def test_a_later_day_without_an_amount_asks_the_promise_amount(chat: Chat) -> None:
    await _verified(chat)
    assert _keys(await chat.says("I can pay part of it on December 10")) == [
        "promise.ask_amount"]
    assert _keys(await chat.says("100")) == ["promise.confirm"]
    assert _keys(await chat.says("yes")) == ["promise.recorded"]
    assert await _promises(chat) == [(Decimal("100.00"), date(2026, 12, 10))]


async def test_an_amount_today_still_gets_the_pay_now_link(chat: Chat) -> None:
    await _verified(chat)
    linked = await chat.says("I can pay 100 dollars today")
    assert _keys(linked) == ["pay.partial.link"]
    assert "/pay/" in linked.replies[0].text
    assert await _promises(chat) == []


async def test_an_amount_with_no_day_still_gets_the_pay_now_link(chat: Chat) -> None:
    await _verified(chat)
    linked = await chat.says("I can pay 100 dollars")
    assert _keys(linked) == ["pay.partial.link"]
    assert await _promises(chat) == []


async def test_asked_how_much_an_amount_on_a_later_day_is_a_promise(chat: Chat) -> None:
    await _verified(chat)
    assert _keys(await chat.says("I can pay some of it")) == ["pay.partial.ask"]
    assert _keys(await chat.says("100 on December 10")) == ["promise.confirm"]
    assert _keys(await chat.says("yes")) == ["promise.recorded"]
    assert await _promises(chat) == [(Decimal("100.00"), date(2026, 12, 10))]


class ReadsFullPayments(RuleInterpreter):
    """The same message read as pay_in_full, with the real extractors' amount and date."""

    async def parse(self, text: str, **kwargs: Any) -> Parse:
        parsed = await super().parse(text, **kwargs)
        entities = extract_entities(text, reference_time=kwargs["reference_time"],
                                    timezone=kwargs.get("timezone"))
        return replace(parsed, intent=IntentScore("pay_in_full", 0.9), entities=entities)


async def test_read_as_pay_in_full_a_smaller_amount_on_a_later_day_is_that_promise(
    chat: Chat,
) -> None:
    await chat.verify()
    chat.engine.interpreter = ReadsFullPayments()
    offered = await chat.says("I can pay 100 dollars on December 10")
    assert _keys(offered) == ["promise.confirm"]
    assert _keys(await chat.says("yes")) == ["promise.recorded"]
    assert await _promises(chat) == [(Decimal("100.00"), date(2026, 12, 10))]

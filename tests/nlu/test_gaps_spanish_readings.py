"""Spanish debtors' messages through the trained model: typed "mañana", amounts in words and
a monthly amount are offers, not out_of_scope (docs in /work/shared/TAXONOMY.md)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.types import Interpreter, Parse

# Monday 2026-11-30, 10:00 in Mexico City.
REF = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("America/Mexico_City"))
TZ = "America/Mexico_City"


async def _parse(interpreter: Interpreter, text: str) -> Parse:
    return await interpreter.parse(text, reference_time=REF, timezone=TZ)


def _values(parse: Parse, entity: str) -> list[str]:
    return [e.value for e in parse.entities if e.entity == entity]


@pytest.mark.parametrize("text", ["te pago 200 mña ntp 👍", "te pago 300 mñn"])
async def test_a_typed_manana_is_a_promise(interpreter, text):
    # Read as out_of_scope before: the bot answered "Perdone, no le he entendido".
    parse = await _parse(interpreter, text)
    assert parse.intent.name == "promise_to_pay", parse.ranking[:3]
    assert _values(parse, "date") == ["2026-12-01"]


async def test_five_hundred_pesos_in_words_is_part_of_the_money(interpreter):
    parse = await _parse(interpreter, "le doy quinientos pesos")
    assert parse.intent.name in {"pay_partial", "promise_to_pay"}, parse.ranking[:3]
    assert _values(parse, "amount") == ["500.00"]


async def test_an_amount_a_month_is_a_plan(interpreter):
    parse = await _parse(interpreter, "puedo dar 500 al mes")
    assert parse.intent.name in {"request_payment_plan", "counter_offer"}, parse.ranking[:3]
    assert _values(parse, "amount") == ["500.00"]
    assert _values(parse, "frequency") == ["monthly"]

"""Review fixes: the shipped model's readings of hedges, "I don't know", illness, bare days,
paydays and "I can do 1.2k"; and "N dollars M cents" is one amount (docs/TAXONOMY.md)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.extractors import extract_entities
from nlu.types import Interpreter, Parse

# Wednesday 2026-11-25, 10:00 in New York: "friday" is the 27th.
REF = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("America/New_York"))
TZ = "America/New_York"


async def _parse(interpreter: Interpreter, text: str) -> Parse:
    return await interpreter.parse(text, reference_time=REF, timezone=TZ)


def _values(parse: Parse, entity: str) -> list[str]:
    return [e.value for e in parse.entities if e.entity == entity]


@pytest.mark.parametrize("text", [
    "maybe", "probably", "possibly", "perhaps", "i guess",
    "quizás", "tal vez", "a lo mejor", "puede ser",
])
async def test_a_hedge_is_no_yes(interpreter, text):
    # Read as affirm (0.92) before: the bot would have booked what it had just proposed.
    parse = await _parse(interpreter, text)
    assert parse.intent.name == "out_of_scope", parse.ranking[:3]


@pytest.mark.parametrize("text", [
    "i dont know", "idk", "ni idea", "no sé", "not sure", "no estoy seguro",
])
async def test_not_knowing_is_no_wrong_person_nor_a_no(interpreter, text):
    parse = await _parse(interpreter, text)
    assert parse.intent.name == "out_of_scope", parse.ranking[:3]


@pytest.mark.parametrize("text", ["i dont know who that is", "no conozco a esa persona"])
async def test_not_knowing_the_person_stays_wrong_person(interpreter, text):
    parse = await _parse(interpreter, text)
    assert parse.intent.name == "wrong_person", parse.ranking[:3]


@pytest.mark.parametrize("text", ["i'm going through chemo", "estoy en quimio"])
async def test_treatment_for_an_illness_is_hardship(interpreter, text):
    parse = await _parse(interpreter, text)
    assert parse.intent.name == "hardship", parse.ranking[:3]


@pytest.mark.parametrize(("text", "day"), [
    ("today", "2026-11-25"),
    ("ok today", "2026-11-25"),
    ("today thanks", "2026-11-25"),
    ("friday, thank you", "2026-11-27"),
    ("i get paid friday", "2026-11-27"),
    ("i get paid on the 15th", "2026-12-15"),
    ("me pagan el viernes", "2026-11-27"),
    ("cobro el viernes", "2026-11-27"),
])
async def test_a_day_to_pay_or_a_payday_is_a_promise(interpreter, text, day):
    # A bare day (even with thanks) answers "when can you pay?"; a payday to come is no
    # payment made.
    parse = await _parse(interpreter, text)
    assert parse.intent.name == "promise_to_pay", parse.ranking[:3]
    assert _values(parse, "date") == [day]


async def test_an_amount_one_can_do_is_an_offer(interpreter):
    parse = await _parse(interpreter, "I can do 1.2k")
    assert parse.intent.name in {"pay_partial", "counter_offer"}, parse.ranking[:3]
    assert _values(parse, "amount") == ["1200.00"]


async def test_dollars_and_cents_on_a_day_read_as_one_amount(interpreter):
    parse = await _parse(interpreter, "i can pay 20 dollars 50 cents on friday")
    assert _values(parse, "amount") == ["20.50"]
    assert _values(parse, "date") == ["2026-11-27"]


@pytest.mark.parametrize(("text", "value", "span"), [
    ("i can pay 20 dollars 50 cents on friday", "20.50", "20 dollars 50 cents"),
    ("20 dollars and 50 cents", "20.50", "20 dollars and 50 cents"),
    ("$20 and 50 cents", "20.50", "$20 and 50 cents"),
    ("te pago 20 dolares con 50 centavos", "20.50", "20 dolares con 50 centavos"),
    ("20 dólares y 50 centavos", "20.50", "20 dólares y 50 centavos"),
    ("twenty dollars and fifty cents", "20.50", "twenty dollars and fifty cents"),
    ("$20 and 5 cents", "20.05", "$20 and 5 cents"),
    ("$1,200 and 75 cents", "1200.75", "$1,200 and 75 cents"),
])
def test_cents_after_the_units_belong_to_the_amount(text, value, span):
    amounts = [e for e in extract_entities(text, reference_time=REF, timezone=TZ)
               if e.entity == "amount"]
    assert [(a.value, a.text) for a in amounts] == [(value, span)]


@pytest.mark.parametrize("text", ["i can pay 50 cents", "le doy 50 centavos"])
def test_cents_alone_are_never_read_as_dollars(text):
    amounts = [e.value for e in extract_entities(text, reference_time=REF, timezone=TZ)
               if e.entity == "amount"]
    assert "50.00" not in amounts

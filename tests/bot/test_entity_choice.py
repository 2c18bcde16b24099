"""Of several amounts and dates in one message, the turn acts on the one the debtor offers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.entity_choice import chosen_entities
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Parse

REF = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # a Wednesday
TODAY = date(2026, 11, 25)


def _chosen(text: str, intent: str = "promise_to_pay") -> dict[str, str]:
    entities = extract_entities(text, reference_time=REF, timezone="America/New_York")
    return chosen_entities(Parse(text, IntentScore(intent, 0.9), entities=entities), TODAY)


@pytest.mark.parametrize(("text", "day"), [
    ("me pagaron el viernes, le pago el lunes", "2026-11-30"),
    ("me pagan el viernes y le pago el lunes", "2026-11-30"),
    ("i got paid friday, ill pay you monday", "2026-11-30"),
    ("cobro el 15 y le pago el 16", "2026-12-16"),
    ("te pago el viernes porque me pagan el jueves", "2026-11-27"),
    ("i paid 50 last week and will pay 100 on friday", "2026-11-27"),
])
def test_the_day_offered_not_the_payday_nor_a_past_payment(text: str, day: str) -> None:
    assert _chosen(text)["date"] == day


@pytest.mark.parametrize(("text", "day"), [
    ("i get paid friday, ill pay 50 then", "2026-11-27"),  # the payday is the only day named
    ("when i get paid on friday", "2026-11-27"),
    ("te pago el 30", "2026-11-30"),
])
def test_a_lone_day_counts_whatever_its_clause(text: str, day: str) -> None:
    assert _chosen(text)["date"] == day


def test_a_payment_made_names_the_past_day() -> None:
    text = "ya pague el lunes, me pagan el viernes"
    assert _chosen(text, "already_paid")["date"] == "2026-11-23"


@pytest.mark.parametrize(("text", "amount"), [
    ("i paid 50 last week and will pay 100 on friday", "100.00"),
    ("i get paid 800 on friday, i can pay 100", "100.00"),
    ("i know i owe 1278 but i can only pay 100 on friday", "100.00"),
    ("ya le mande 200 y le pago 300 el viernes", "300.00"),
    ("i can pay 100", "100.00"),
])
def test_the_amount_offered(text: str, amount: str) -> None:
    assert _chosen(text)["amount"] == amount


def test_a_payment_made_names_its_amount() -> None:
    assert _chosen("i paid 50 yesterday", "already_paid")["amount"] == "50.00"


def test_an_entity_value_that_is_no_iso_day_is_kept() -> None:
    parse = Parse("fri", IntentScore("promise_to_pay", 0.9), entities=(
        *extract_entities("fri", reference_time=REF),))
    odd = Parse("fri", parse.intent, entities=tuple(
        e.__class__(e.entity, "next friday", e.start, e.end, e.text, e.extractor, e.currency)
        for e in parse.entities))
    assert chosen_entities(odd, TODAY)["date"] == "next friday"

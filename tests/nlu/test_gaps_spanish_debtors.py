"""Spanish debtors' readings: phone-typed "mañana", "la otra semana", "a finales de
diciembre", amounts in words, and the day a correction or a refusal leaves to act on."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.entity_choice import chosen_entities
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Parse

# Monday 2026-11-30, 10:00 in Mexico City.
REF = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("America/Mexico_City"))
TZ = "America/Mexico_City"
TODAY = date(2026, 11, 30)


def _values(text: str, entity: str) -> list[str]:
    return [e.value for e in extract_entities(text, reference_time=REF, timezone=TZ)
            if e.entity == entity]


def _chosen(text: str, intent: str = "promise_to_pay") -> dict[str, str]:
    entities = extract_entities(text, reference_time=REF, timezone=TZ)
    return chosen_entities(Parse(text, IntentScore(intent, 0.9), entities=entities), TODAY)


@pytest.mark.parametrize(("text", "day"), [
    ("te pago 200 mña", "2026-12-01"),
    ("te pago 200 mña ntp 👍", "2026-12-01"),
    ("mñn", "2026-12-01"),
    ("mñna", "2026-12-01"),
    ("mñana sin falta", "2026-12-01"),
    ("pasado mñn", "2026-12-02"),
])
def test_manana_typed_on_a_phone_is_tomorrow(text, day):
    assert _values(text, "date") == [day]


def test_the_amount_stays_beside_a_typed_manana():
    assert _values("te pago 200 mña", "amount") == ["200.00"]


@pytest.mark.parametrize("text", [
    "la otra semana", "la proxima semana", "la semana entrante", "la siguiente semana",
    "next week",
])
def test_next_week_is_a_week_from_today_in_both_languages(text):
    assert _values(text, "date") == ["2026-12-07"]


@pytest.mark.parametrize(("text", "day"), [
    ("a finales de diciembre", "2026-12-31"),
    ("a fines de diciembre", "2026-12-31"),
    ("para finales de mes", "2026-11-30"),
    ("by the end of january", "2027-01-31"),
    ("a finales de febrero de 2028", "2028-02-29"),
    ("ya pagué a finales de octubre", "2026-10-31"),
])
def test_the_end_of_a_named_month_is_its_last_day(text, day):
    assert _values(text, "date") == [day]


@pytest.mark.parametrize(("text", "amount"), [
    ("doscientos cincuenta el 15", "250.00"),
    ("mil quinientos", "1500.00"),
    ("trescientos", "300.00"),
    ("quinientos pesos", "500.00"),
    ("le doy quinientos pesos", "500.00"),
    ("two hundred fifty on friday", "250.00"),
])
def test_a_hundred_or_more_in_words_is_an_amount(text, amount):
    assert _values(text, "amount") == [amount]


@pytest.mark.parametrize("text", [
    "en el dos mil veinte", "cien por ciento", "desde el dos mil diecinueve", "dos", "veinte",
])
def test_years_percentages_and_small_words_are_no_amount(text):
    assert _values(text, "amount") == []


def test_words_and_a_day_are_read_apart():
    assert _values("doscientos cincuenta el 15", "date") == ["2026-12-15"]


@pytest.mark.parametrize(("text", "day"), [
    ("no, la quincena es el 15", "2026-12-15"),
    ("no, hoy no, a finales de diciembre", "2026-12-31"),
    ("hoy no, el viernes", "2026-12-04"),
    ("not today, friday", "2026-12-04"),
    ("no el viernes, el lunes", "2026-12-07"),
    ("no, mejor el lunes", "2026-12-07"),
])
def test_a_refused_or_corrected_day_is_not_the_one_chosen(text, day):
    assert _chosen(text)["date"] == day


@pytest.mark.parametrize(("text", "day"), [
    ("mañana no hay problema", "2026-12-01"),
    ("not until friday", "2026-12-04"),
    ("el viernes te pago, y el lunes el resto", "2026-12-04"),
])
def test_a_day_said_yes_to_stays_chosen(text, day):
    assert _chosen(text)["date"] == day

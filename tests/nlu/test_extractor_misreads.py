"""Misreads that would record a wrong promise: tense across clauses, zip and phone numbers,
Spanish thousands in words, "weekly for N months", and "the 15th of this month"."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.extractors import extract_entities

# Wednesday 2026-11-25, 15:00 in New York.
REF = datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("America/New_York"))
TZ = "America/New_York"


def _entities(text: str, ref: datetime = REF) -> list[tuple[str, str]]:
    found = extract_entities(text, reference_time=ref, timezone=TZ)
    for e in found:
        assert text[e.start:e.end] == e.text
    return [(e.entity, e.value) for e in found]


def _values(text: str, entity: str, ref: datetime = REF) -> list[str]:
    return [value for kind, value in _entities(text, ref) if kind == entity]


# --- A past cue speaks for its own clause -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("i get paid friday, i'll pay then", ["2026-11-27"]),
        ("i get paid on the 3rd, ill pay 100 then", ["2026-12-03"]),
        ("I'm getting paid wednesday so I'll pay it then", ["2026-12-02"]),
        ("sorry i was sick, i'll pay monday", ["2026-11-30"]),
        ("i paid 20 yesterday and will pay 30 on friday", ["2026-11-24", "2026-11-27"]),
        ("i paid 50 on the 20th, i can pay 100 on the 3rd", ["2026-11-20", "2026-12-03"]),
    ],
)
def test_a_past_cue_does_not_move_a_promise_into_the_past(text, dates):
    assert _values(text, "date") == dates


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("i paid on friday", ["2026-11-20"]),
        ("ya pagué el lunes", ["2026-11-23"]),
        ("i got paid friday", ["2026-11-20"]),
        ("i paid 12.50 on friday", ["2026-11-20"]),  # a decimal point ends no clause
        ("ya pagué el lunes y el martes", ["2026-11-23", "2026-11-24"]),
        ("friday, i sent it", ["2026-11-20"]),
        ("i sent 50 on monday and 50 on the 20th", ["2026-11-23", "2026-11-20"]),
        ("i'll pay 100 and i paid 50 on friday", ["2026-11-20"]),
    ],
)
def test_a_past_payment_keeps_its_past_date(text, dates):
    assert _values(text, "date") == dates


# --- Zip codes, phone numbers and "mo" ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        ("my zip is 33155 and i can pay friday", []),
        ("zip code 33155", []),
        ("i can pay friday, call 5551234", []),
        ("call me 5551234 i can pay 40", ["40.00"]),
        ("phone: 5551234, pay 60", ["60.00"]),
        ("mi código postal es 33155, le pago 200", ["200.00"]),
        ("llámame al 5512345, le pago 300", ["300.00"]),
        ("mi número es 5512345", []),
        ("i can pay for 12 mo", []),
        ("i can do 2 mos", []),
    ],
)
def test_zip_codes_phone_numbers_and_months_are_not_amounts(text, amounts):
    assert _values(text, "amount") == amounts


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("i can pay 20/mo for 12 mo",
         [("amount", "20.00"), ("frequency", "monthly"), ("installments", "12")]),
        ("pay 20/mo for 12mo",
         [("amount", "20.00"), ("frequency", "monthly"), ("installments", "12")]),
        ("50/wk", [("amount", "50.00"), ("frequency", "weekly")]),
        ("$20 per mo for 12 mos",
         [("amount", "20.00"), ("frequency", "monthly"), ("installments", "12")]),
    ],
)
def test_per_month_shorthand(text, entities):
    assert _entities(text) == entities


def test_twelve_mo_is_a_duration_and_el_7mo_a_day():
    assert _values("pay 20/mo for 12mo", "date") == []
    assert _values("pago el 7mo", "date") == ["2026-12-07"]


# --- Spanish thousands and number words after a pay verb ----------------------------------


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        ("le pago 2 mil", [("2000.00", None)]),
        ("le pago 2 mil quinientos", [("2500.00", None)]),
        ("te pago 2 mil una vez", [("2000.00", None)]),
        ("te pago 2 mil 500", [("2500.00", None)]),
        ("te doy 3 mil 250 pesos", [("3250.00", None)]),
        ("i can pay 2 thousand 500", [("2500.00", None)]),
        ("i can pay 2 thousand and 500 dollars", [("2500.00", "USD")]),
        ("i can do 2 thousand", [("2000.00", None)]),
        ("2 mil 15 de diciembre", [("2000.00", None)]),  # the 15th is a day, not 2,015
        ("te pago 1,5 mil", [("1500.00", None)]),
        ("le doy mil quinientos el lunes", [("1500.00", None)]),
        ("le pago 50 mil pesos el viernes", [("50000.00", None)]),
        ("$2 mil", [("2000.00", "USD")]),
        ("puedo pagar cien", [("100.00", None)]),
        ("te pago mil el sabado", [("1000.00", None)]),
        ("le puedo abonar ciento cincuenta ahorita", [("150.00", None)]),
        ("i can pay you two hundred", [("200.00", None)]),
        ("puedo pagar dos", []),  # a count, maybe: ask
        ("i can pay two", []),
        ("i can pay once a month", []),
    ],
)
def test_spanish_thousands_and_pay_verb_number_words(text, amounts):
    found = extract_entities(text, reference_time=REF, timezone=TZ)
    assert [(e.value, e.currency) for e in found if e.entity == "amount"] == amounts


def test_fifty_mil_pesos_keeps_its_date():
    assert _values("le pago 50 mil pesos el viernes", "date") == ["2026-11-27"]
    assert _values("le doy mil quinientos el lunes", "date") == ["2026-11-30"]


# --- "N months" with a weekly or biweekly frequency ---------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("can i pay weekly for 3 months", ["13"]),
        ("can i pay 50 every week for 6 months", ["26"]),
        ("cada semana por 3 meses", ["13"]),
        ("biweekly for 6 months", ["13"]),
        ("twice a month for 6 months", ["13"]),
        ("weekly or monthly for 6 months", []),  # which? ask
        ("$50 a month for 6 months", ["6"]),
        ("6 monthly payments", ["6"]),
        ("6 weekly payments", ["6"]),
        ("3 payments", ["3"]),
        ("split into 4", ["4"]),
        ("12 meses", ["12"]),
    ],
)
def test_months_count_payments_at_the_named_frequency(text, count):
    assert _values(text, "installments") == count


# --- "this month" and "next month" after a day ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("le pago el 15 de este mes", ["2026-11-15"]),  # past: the policy refuses, and asks
        ("the 3rd of this month", ["2026-11-03"]),
        ("on the 30th this month", ["2026-11-30"]),
        ("i'll pay on the 15th next month", ["2026-12-15"]),
        ("pay on the 30th of next month", ["2026-12-30"]),
        ("le pago el día 3 del mes que viene", ["2026-12-03"]),
        ("the 31st of this month", []),  # November has no 31st: not December's either
    ],
)
def test_a_day_of_this_or_next_month(text, dates):
    assert _values(text, "date") == dates


def test_next_month_is_the_next_month_not_the_next_such_day():
    dec_10 = datetime(2026, 12, 10, 15, 0, tzinfo=ZoneInfo(TZ))
    assert _values("le pago el 15 del próximo mes", "date", dec_10) == ["2027-01-15"]
    assert _values("the 20th of this month", "date", dec_10) == ["2026-12-20"]

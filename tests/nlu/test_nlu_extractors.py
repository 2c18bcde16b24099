"""Entity extractors, table-driven, EN and ES, with timezone-aware reference times."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.extractors import extract_entities

# Wednesday 2026-11-25, 15:00 in New York.
REF = datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("America/New_York"))
TZ = "America/New_York"


def _values(text: str, entity: str, ref: datetime = REF, tz: str | None = TZ) -> list[str]:
    found = extract_entities(text, reference_time=ref, timezone=tz)
    for e in found:
        assert text[e.start:e.end] == e.text
    return [e.value for e in found if e.entity == entity]


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("$50 now", "50.00", "USD"),
        ("50 bucks now", "50.00", "USD"),
        ("i can send fifty dollars", "50.00", "USD"),
        ("can do 1,200.50", "1200.50", None),
        ("1.2k by friday", "1200.00", None),
        ("2k", "2000.00", None),
        ("le pago cincuenta dólares", "50.00", "USD"),
        ("te puedo dar 1.200,50 pesos", "1200.50", None),
        ("a hundred bucks", "100.00", "USD"),
        ("mil quinientos pesos", "1500.00", None),
        ("USD 300", "300.00", "USD"),
        ("€40", "40.00", "EUR"),
        ("can i pay 75 today", "75.00", None),
        ("50.00", "50.00", None),
    ],
)
def test_amounts(text, value, currency):
    found = [e for e in extract_entities(text, reference_time=REF, timezone=TZ)
             if e.entity == "amount"]
    assert [(e.value, e.currency) for e in found] == [(value, currency)]


@pytest.mark.parametrize(
    "text",
    ["i can pay 50%", "i can pay half", "call me at 5pm", "call me at 10", "at 5:30",
     "i have 2 kids", "my number is 5551234567", "paid on the 15th", "3 payments", "12/3"],
)
def test_not_amounts(text):
    assert _values(text, "amount") == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("cant pay till fri", "2026-11-27"),
        ("next friday", "2026-12-04"),
        ("this friday", "2026-11-27"),
        ("the 15th", "2026-12-15"),
        ("on the 30th", "2026-11-30"),
        ("12/3", "2026-12-03"),
        ("end of month", "2026-11-30"),
        ("end of next month", "2026-12-31"),
        ("in two weeks", "2026-12-09"),
        ("in 3 days", "2026-11-28"),
        ("tmrw", "2026-11-26"),
        ("today", "2026-11-25"),
        ("dec 3rd", "2026-12-03"),
        ("jan 5", "2027-01-05"),
        ("2026-12-01", "2026-12-01"),
        ("first of next month", "2026-12-01"),
        ("i paid last week", "2026-11-18"),
        ("i paid on friday", "2026-11-20"),
        ("sent it 2 days ago", "2026-11-23"),
        ("pago mañana", "2026-11-26"),
        ("el viernes", "2026-11-27"),
        ("el viernes pasado", "2026-11-20"),
        ("te pago el 15", "2026-12-15"),
        ("12/3 te pago", "2027-03-12"),
        ("el 3 de diciembre", "2026-12-03"),
        ("en dos semanas", "2026-12-09"),
        ("a fin de mes", "2026-11-30"),
        ("ya pagué ayer", "2026-11-24"),
        ("hace una semana", "2026-11-18"),
    ],
)
def test_dates(text, iso):
    assert _values(text, "date") == [iso]


@pytest.mark.parametrize(
    "text",
    ["call me at 5pm", "at 5:30", "por la mañana", "i sat down", "pay 1/2 now", "right now",
     "a few more weeks", "50%"],
)
def test_not_dates(text):
    assert _values(text, "date") == []


def test_date_uses_debtor_timezone():
    late_utc = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # still the 25th in New York
    assert _values("tomorrow", "date", late_utc, "America/New_York") == ["2026-11-26"]
    assert _values("tomorrow", "date", late_utc, "Europe/Madrid") == ["2026-11-27"]
    naive = datetime(2026, 11, 25, 23, 30)
    assert _values("mañana", "date", naive, "America/Bogota") == ["2026-11-26"]


@pytest.mark.parametrize(
    ("text", "count"),
    [("6 months", "6"), ("3 payments", "3"), ("split into 4", "4"),
     ("can i split it into 3 payments", "3"), ("en 6 cuotas", "6"), ("seis meses", "6"),
     ("dividirlo en 3", "3"), ("twelve monthly payments", "12")],
)
def test_installments(text, count):
    assert _values(text, "installments") == [count]


@pytest.mark.parametrize(
    ("text", "frequency"),
    [("weekly", "weekly"), ("50 a week", "weekly"), ("cada semana", "weekly"),
     ("every 2 weeks", "biweekly"), ("biweekly", "biweekly"), ("quincenal", "biweekly"),
     ("every other week", "biweekly"), ("a month", "monthly"), ("al mes", "monthly"),
     ("$100 monthly", "monthly"), ("por mes", "monthly")],
)
def test_frequency(text, frequency):
    assert _values(text, "frequency") == [frequency]


def test_combined_plan_message():
    found = extract_entities("$50 a month for 6 months starting fri", reference_time=REF,
                             timezone=TZ)
    assert [(e.entity, e.value) for e in found] == [
        ("amount", "50.00"), ("frequency", "monthly"), ("installments", "6"),
        ("date", "2026-11-27"),
    ]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("te pago el vie", "2026-11-27"),  # Spanish weekday abbreviations after an article
        ("el jue te deposito", "2026-11-26"),
        ("para el sab", "2026-11-28"),
        ("el otro viernes", "2026-12-04"),  # Mexico: the Friday after the coming one
        ("te pago en la quincena", "2026-11-30"),  # paydays: the 15th and the month's end
        ("la próxima quincena", "2026-11-30"),
        ("la otra quincena", "2026-12-15"),
    ],
)
def test_spanish_days_as_people_write_them(text, iso):
    assert _values(text, "date") == [iso]


@pytest.mark.parametrize("text", ["dom", "te pago 200 cada quincena", "lun y mar"])
def test_spanish_day_words_that_name_no_day(text):
    assert _values(text, "date") == []

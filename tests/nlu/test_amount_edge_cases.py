"""Amount and date edge cases: decimal vs. thousands dots by language, phone and case numbers."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.extractors import extract_entities
from nlu.extractors.amount import extract_amounts
from nlu.extractors.numbers import to_number

# Wednesday 2026-11-25, 15:00 in New York.
REF = datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("America/New_York"))
TZ = "America/New_York"


def _values(text: str, entity: str, language: str | None = None) -> list[str]:
    found = extract_entities(text, reference_time=REF, timezone=TZ, language=language)
    for e in found:
        assert text[e.start:e.end] == e.text
    return [e.value for e in found if e.entity == entity]


# --- Defect 1: a dot followed by three digits --------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["i can pay 12.345 now", "i can pay 50.555 tomorrow", "$12.345 now", "12.345 dollars",
     "i can do 50.555", "$12.3456", "12.345k"],
)
def test_english_dot_three_digits_is_never_read_as_thousands(text):
    # Ambiguous in English: no amount at all (the dialog asks), never 12345.00.
    assert _values(text, "amount", "en") == []
    assert _values(text, "amount") == []  # detected language


def test_english_three_decimals_keeps_the_date():
    assert _values("i can pay 50.555 tomorrow", "date", "en") == ["2026-11-26"]


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        ("te pago 1.500", None, "1500.00"),
        ("te pago 1.500", "es", "1500.00"),
        ("1.500", "es", "1500.00"),
        ("pago 12.345 el viernes", "es", "12345.00"),
        ("te puedo dar 1.200,50 pesos", None, "1200.50"),
        ("te puedo dar 1.200,50 pesos", "es", "1200.50"),
        ("puedo 1.234.567", "es", "1234567.00"),
        ("i can pay 1.234.567", "en", "1234567.00"),
        ("pay 1.234,50", "en", "1234.50"),
        ("can do 1,200.50", "en", "1200.50"),
        ("can do 1,200.50", "es", "1200.50"),
        ("1.2k by friday", "en", "1200.00"),
        ("1.2k", "es", "1200.00"),
        ("50 bucks now", None, "50.00"),
        ("$1,234.56", "en", "1234.56"),
        ("$1,234.56", None, "1234.56"),
        ("i can pay 12.34 now", "en", "12.34"),
        ("1.5", "en", "1.50"),
        ("50.00", "en", "50.00"),
        ("1,234", "en", "1234.00"),
    ],
)
def test_separators_by_language(text, language, value):
    assert _values(text, "amount", language) == [value]


def test_to_number_separators():
    assert to_number("12.345", "en") is None
    assert to_number("12.345") is None  # unknown language: the safe reading
    assert str(to_number("12.345", "es")) == "12345"
    assert str(to_number("1.234.567", "en")) == "1234567"
    assert str(to_number("1.200,50", "en")) == "1200.50"
    assert str(to_number("12.34", "es")) == "12.34"


def test_extract_amounts_language_argument():
    assert [m.value for m in extract_amounts("te pago 1.500", "es")] == ["1500.00"]
    assert [m.value for m in extract_amounts("i can pay 12.345", "en")] == []


# --- Defect 2: phone, case and reference numbers ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "my lawyer is John Smith, 555-123-4567",
        "my lawyer is John Smith 555-123-4567",
        "555.123.4567",
        "(555) 123-4567",
        "(555)123-4567",
        "555 123 4567",
        "+1 555 123 4567",
        "+1-555-123-4567",
        "+15551234567",
        "1-800-555-1234",
        "call 555-123-4567 please",
        "my number is 555-1234",
        "mi numero es 55 1234 5678",
        "+52 55 1234 5678",
        "+44 20 7946 0958",
        "55-12-34-56",
        "case 23-12345",
        "case no. 2:24-bk-10234",
        "case no. 22-31884 chapter 7",
        "i filed for chapter 7 bankruptcy, case number 23-14567",
        "el numero de caso de mi bancarrota es 23-10456",
        "expediente 24-10877",
        "case 23-12",
        "ref 123-456",
        "referencia 123-456-789",
        "account 4567-8910",
    ],
)
def test_phone_and_case_numbers_are_not_amounts_or_dates(text):
    assert _values(text, "amount") == []
    assert _values(text, "date") == []


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("i can pay 50, call me at 555-123-4567", "50.00"),
        ("call me at 555-123-4567, i can pay 50", "50.00"),
        ("call me 555 123 4567 i can pay 50", "50.00"),
        ("i can pay 100. call 555-0147", "100.00"),
        ("$200 now, case 23-12345", "200.00"),
    ],
)
def test_amount_next_to_a_phone_number(text, amount):
    assert _values(text, "amount") == [amount]


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        ("$50-60", ["50.00"]),
        ("50-60", ["50.00"]),
        ("i can do 100-150", ["100.00"]),
        ("i can pay 500-1000", ["500.00"]),
        ("i can pay 50-60 dollars", ["50.00", "60.00"]),
        ("$50 - $60", ["50.00", "60.00"]),
    ],
)
def test_ranges_keep_their_reading(text, amounts):
    assert _values(text, "amount") == amounts


@pytest.mark.parametrize(
    ("text", "iso"),
    [("12-15-2026", "2026-12-15"), ("2026-12-01", "2026-12-01"), ("on 12-15", "2026-12-15"),
     ("12-3", "2026-12-03"), ("bk filed on 9/30, case 25-40112", "2026-09-30")],
)
def test_dash_dates_still_dates(text, iso):
    assert _values(text, "date") == [iso]


def test_dash_date_next_to_amount():
    assert _values("i can pay 100 on 12-15", "amount") == ["100.00"]
    assert _values("i can pay 100 on 12-15", "date") == ["2026-12-15"]


def test_in_case_is_not_a_case_number():
    assert _values("in case 50-60 works", "amount") == ["50.00"]
    assert _values("en caso de 50-60 pesos", "amount") == ["50.00", "60.00"]


# --- Thousands grouped with a space ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "amounts"),
    [
        ("pago 1 500 el lunes", "es", ["1500.00"]),
        ("te doy 15 000 pesos", "es", ["15000.00"]),
        ("te pago $1 500", "es", ["1500.00"]),
        ("el 15 200 pesos", "es", ["200.00"]),  # the 15th, and 200: never 15,200
        ("I can pay 1 500", "en", []),  # no English writer means 1500 by it: ask again
    ],
)
def test_space_grouped_thousands_are_read_in_spanish_only(
    text: str, language: str, amounts: list[str]
) -> None:
    assert _values(text, "amount", language) == amounts

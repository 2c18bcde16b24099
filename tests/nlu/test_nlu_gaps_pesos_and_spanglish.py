"""A bilingual reviewer's gaps: Mexican pesos named as such, and Spanglish read as Spanish."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.extractors import extract_entities
from nlu.language import detect_language, language_of

# Wednesday 2026-11-25, 10:00 in Mexico City.
REF = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("America/Mexico_City"))
TZ = "America/Mexico_City"


def _amounts(text: str) -> list[tuple[str, str, str | None]]:
    return [(e.value, e.text, e.currency)
            for e in extract_entities(text, reference_time=REF, timezone=TZ)
            if e.entity == "amount"]


@pytest.mark.parametrize(("text", "amounts"), [
    ("500 pesos mexicanos", [("500.00", "500 pesos mexicanos", "MXN")]),
    ("te doy 500 pesos mexicanos el viernes", [("500.00", "500 pesos mexicanos", "MXN")]),
    ("te puedo dar 500 MXN", [("500.00", "500 MXN", "MXN")]),
    ("le pago 500 mxn", [("500.00", "500 mxn", "MXN")]),
    ("$500 MXN", [("500.00", "$500 MXN", "MXN")]),
    ("te pago $1,500.00 M.N. el lunes", [("1500.00", "$1,500.00 M.N.", "MXN")]),
    ("500 pesos M.N.", [("500.00", "500 pesos M.N.", "MXN")]),
    ("MXN 500", [("500.00", "MXN 500", "MXN")]),
    ("MX$750", [("750.00", "MX$750", "MXN")]),
    ("50 mil pesos colombianos", [("50000.00", "50 mil pesos colombianos", "COP")]),
    ("20 mil pesos chilenos", [("20000.00", "20 mil pesos chilenos", "CLP")]),
])
def test_words_naming_mexican_pesos_give_mxn(text, amounts):
    assert _amounts(text) == amounts


@pytest.mark.parametrize(("text", "amount"), [
    ("te puedo dar 500 pesos", ("500.00", "500 pesos", None)),
    ("1,500 pesos el viernes", ("1500.00", "1,500 pesos", None)),
    ("$500", ("500.00", "$500", "USD")),
])
def test_a_bare_peso_is_left_to_the_account_currency(text, amount):
    # The bot takes a bare "pesos" as the account's own peso (bot/dialogs/currency.py, PESO):
    # the extractor cannot tell Mexico's from Colombia's or Chile's.
    assert _amounts(text) == [amount]


def test_a_day_followed_by_mxn_is_money_not_a_day():
    found = extract_entities("te pago el 30 mxn", reference_time=REF, timezone=TZ)
    assert [(e.entity, e.value, e.currency) for e in found] == [("amount", "30.00", "MXN")]


@pytest.mark.parametrize("text", [
    "hola, i can pay el viernes",
    "oye no puedo pagar this week, perdí mi trabajo",
    "puedo hacer un payment plan?",
    "cuanto debo total",
    "si puedo pay friday",
    "thanks, gracias",
    "me da chance hasta el 30?",
])
def test_spanglish_with_as_much_spanish_as_english_is_spanish(text):
    assert language_of(text) == "es"
    assert detect_language(text) == "es"


@pytest.mark.parametrize(("text", "language"), [
    ("I can pay on Friday", "en"),
    ("yes", "en"),
    ("no thanks", "en"),
    ("can i pay el lunes", "en"),  # two Spanish words to three English ones
    ("I paid con cash", "en"),
    ("my name is Jose de la Cruz, can you call me", "en"),
    ("ok", None),
    ("plan", None),
    ("no", None),
    ("yo whats up", None),
])
def test_english_and_neutral_words_keep_their_reading(text, language):
    assert language_of(text) == language

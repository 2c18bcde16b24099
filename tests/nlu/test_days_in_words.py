"""Days written in words or Spanish ordinals: 'december first', 'on the fifth', 'el quince',
'el 1o'; a bare 'el dos' or '2o' names no day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nlu.extractors import extract_entities

NOV_29 = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


def found(text: str) -> list[tuple[str, str]]:
    entities = extract_entities(text, reference_time=NOV_29, timezone="UTC")
    return [(e.entity, e.value) for e in entities]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("december first", "2026-12-01"),
        ("dec first i can do it", "2026-12-01"),
        ("january the first 2027", "2027-01-01"),
        ("may fifth", "2027-05-05"),
        ("the twentieth of december", "2026-12-20"),
        ("the twenty-first of december", "2026-12-21"),
        ("i'll pay on the fifth", "2026-12-05"),
        ("by the twenty first, ok", "2026-12-21"),
        ("i paid on the third", "2026-11-03"),
        ("el 1o", "2026-12-01"),
        ("te pago el 1ero", "2026-12-01"),
        ("pago el 1o de diciembre", "2026-12-01"),
        ("1er de mayo", "2027-05-01"),
        ("te pago el quince", "2026-12-15"),
        ("el treinta y uno", "2026-12-31"),
        ("el día dos", "2026-12-02"),
        ("quince de diciembre", "2026-12-15"),
        ("el veintidós de enero", "2027-01-22"),
    ],
)
def test_a_day_in_words_is_read(text: str, expected: str) -> None:
    assert ("date", expected) in found(text)


@pytest.mark.parametrize(
    "text",
    ["el dos", "quiero el uno", "on the fifth try", "2o", "i can pay 5o", "for 12mo",
     "el veinte por ciento", "the first thing i want"],
)
def test_no_day_is_read_where_none_is_named(text: str) -> None:
    assert not [value for entity, value in found(text) if entity == "date"]


def test_amount_and_day_in_words_are_both_read() -> None:
    assert found("I'll pay 50 on the fifth") == [("amount", "50.00"), ("date", "2026-12-05")]
    assert found("pago 200 el 1o de diciembre") == [("amount", "200.00"), ("date", "2026-12-01")]
    assert found("quince dolares el quince") == [("amount", "15.00"), ("date", "2026-12-15")]

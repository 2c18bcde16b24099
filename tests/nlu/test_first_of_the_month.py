"""'el primero', 'primero de enero', 'on the first' name the 1st; 'primero quiero…' does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nlu.extractors import extract_entities

NOV_28 = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def dates(text: str, reference_time: datetime = NOV_28) -> list[str]:
    found = extract_entities(text, reference_time=reference_time, timezone="UTC")
    return [e.value for e in found if e.entity == "date"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("el primero", ["2026-12-01"]),
        ("Le pago el primero.", ["2026-12-01"]),
        ("te pago 150 el primero", ["2026-12-01"]),
        ("para el primero", ["2026-12-01"]),
        ("hasta el primero", ["2026-12-01"]),
        ("antes del primero", ["2026-12-01"]),
        ("el día primero", ["2026-12-01"]),
        ("el primero de diciembre", ["2026-12-01"]),
        ("el primero de enero", ["2027-01-01"]),
        ("primero de enero", ["2027-01-01"]),
        ("el primero de diciembre de 2026", ["2026-12-01"]),
        ("el primero del próximo mes", ["2026-12-01"]),
        ("el primero del mes que viene", ["2026-12-01"]),
        ("el 1ro", ["2026-12-01"]),
        ("el 1°", ["2026-12-01"]),
        ("el 1º de enero", ["2027-01-01"]),
        ("pagué el primero", ["2026-11-01"]),  # a past payment: the last 1st
        ("ya pagué el primero del mes pasado", ["2026-10-01"]),
        ("i'll pay on the first", ["2026-12-01"]),
        ("by the first.", ["2026-12-01"]),
        ("the first of january", ["2027-01-01"]),
        ("first of december", ["2026-12-01"]),
        ("the first of the month", ["2026-12-01"]),
        ("i paid on the first", ["2026-11-01"]),
    ],
)
def test_the_first_is_day_one(text: str, expected: list[str]) -> None:
    assert dates(text) == expected


def test_the_first_of_next_month_is_next_month_even_on_the_first() -> None:
    dec_1 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert dates("el primero", dec_1) == ["2026-12-01"]
    assert dates("el primero del próximo mes", dec_1) == ["2027-01-01"]


@pytest.mark.parametrize(
    "text",
    [
        "primero quiero saber cuánto debo",
        "lo primero es saber cuánto debo",
        "el primero que llegue",
        "el primero de la lista",
        "primero de todo, ¿quién es?",
        "first I want to know how much I owe",
        "the first payment bounced",
        "on the first try",
        "i'm the first",
    ],
)
def test_first_as_firstly_is_no_date(text: str) -> None:
    assert dates(text) == []

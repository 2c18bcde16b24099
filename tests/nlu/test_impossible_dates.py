"""A day that does not exist is no date, and its digits no amount; 'the 31st' is the next
month that has one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nlu.extractors import extract_entities

NOV_28 = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def dates(text: str) -> list[str]:
    found = extract_entities(text, reference_time=NOV_28, timezone="UTC")
    return [e.value for e in found if e.entity == "date"]


@pytest.mark.parametrize(("text", "expected"), [
    ("I can pay 100 on the 31st", ["2026-12-31"]),
    ("on the 30th", ["2026-11-30"]),
    ("i paid on the 31st", ["2026-10-31"]),  # a past payment: the last 31st
    ("el 31", ["2026-12-31"]),
])
def test_a_day_of_the_month_is_the_next_month_that_has_it(text: str, expected: list[str]) -> None:
    assert dates(text) == expected


@pytest.mark.parametrize("text", ["I'll pay feb 30", "2027-02-30", "02/30/2027", "30 de febrero"])
def test_a_date_that_does_not_exist_is_no_date(text: str) -> None:
    assert dates(text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("pago 300 el sabado 12 de diciembre", ["2026-12-12"]),
    ("I'll pay saturday the 12th", ["2026-12-12"]),
    ("friday, december 4", ["2026-12-04"]),
    ("on friday or on the 10th", ["2026-12-04", "2026-12-10"]),  # two dates stay two
])
def test_a_weekday_followed_by_its_date_is_that_date(text: str, expected: list[str]) -> None:
    assert dates(text) == expected


def entities(text: str) -> list[tuple[str, str]]:
    return [(e.entity, e.value) for e in extract_entities(text, reference_time=NOV_28)]


@pytest.mark.parametrize("text", [
    "i will pay on feb 30", "i will pay on june 31", "te pago el 30 de febrero",
    "2026-02-30", "april the thirty first",
])
def test_the_digits_of_a_day_that_does_not_exist_are_no_amount(text: str) -> None:
    # "i will pay on feb 30" was read back to the debtor as a promise of $30.00.
    assert entities(text) == []


def test_amounts_beside_impossible_or_real_days_are_kept() -> None:
    assert entities("pay $30 on feb 30") == [("amount", "30.00")]
    assert entities("i can pay 31 june 1") == [("amount", "31.00"), ("date", "2026-06-01")]
    assert entities("i will pay 30 on feb 28") == [("amount", "30.00"), ("date", "2027-02-28")]

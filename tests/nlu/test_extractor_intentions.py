""""I was going to pay friday" tells when the debtor means to pay: the day to come, not the last."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.extractors import extract_entities

REF = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # a Wednesday


def _dates(text: str) -> list[str]:
    entities = extract_entities(text, reference_time=REF, timezone="America/New_York")
    return [e.value for e in entities if e.entity == "date"]


@pytest.mark.parametrize(("text", "day"), [
    ("i was going to pay friday", "2026-11-27"),
    ("I was gonna pay on the 5th", "2026-12-05"),
    ("we were going to send it on monday", "2026-11-30"),
    ("i was planning to pay on the 1st", "2026-12-01"),
    ("i was thinking of paying friday", "2026-11-27"),
    ("iba a pagar el viernes", "2026-11-27"),
    ("ya le iba a pagar el viernes", "2026-11-27"),
    ("pensaba pagarle el 5", "2026-12-05"),
    ("tenía pensado depositarle el lunes", "2026-11-30"),
    ("ya pagué una parte, iba a pagar el resto el viernes", "2026-11-27"),
])
def test_an_intention_names_the_next_such_day(text: str, day: str) -> None:
    assert _dates(text) == [day]


@pytest.mark.parametrize(("text", "day"), [
    ("i paid friday", "2026-11-20"),
    ("pagué el viernes", "2026-11-20"),
    ("i was paid friday", "2026-11-20"),  # a payday gone by
    ("i was paid on the 5th", "2026-11-05"),
    ("i was going to pay last friday", "2026-11-20"),
    ("iba a pagar el viernes pasado", "2026-11-20"),
    ("pensaba que ya le había pagado el viernes", "2026-11-20"),  # a belief, not a plan
    ("ya le mandé el dinero el lunes", "2026-11-23"),
])
def test_a_past_day_stays_past(text: str, day: str) -> None:
    assert _dates(text) == [day]


def test_the_intention_speaks_for_its_own_clause_only() -> None:
    assert _dates("i paid friday and was going to pay the rest monday") == [
        "2026-11-20", "2026-11-30"]
    assert _dates("i was going to pay friday but i paid monday") == ["2026-11-27", "2026-11-23"]

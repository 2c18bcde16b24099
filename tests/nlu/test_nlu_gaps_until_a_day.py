""""Can I have until the 30th": a named day is a promise (docs/TAXONOMY.md, hard cases)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.extractors import extract_entities
from nlu.types import Interpreter

TZ = "America/Chicago"
# Wednesday 2026-11-25, 10:00 in Chicago.
REF = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo(TZ))


@pytest.mark.parametrize("text", [
    "can I have until the 30th",
    "Can I have until the 30th to pay?",
    "can you give me until friday",
    "me das chance hasta el 30",
    "dame hasta el 30",
])
async def test_more_time_to_a_named_day_is_a_promise(interpreter: Interpreter, text: str):
    parse = await interpreter.parse(text, reference_time=REF, timezone=TZ)
    assert parse.intent.name == "promise_to_pay", parse.ranking[:3]


@pytest.mark.parametrize("text", ["can I have more time", "me da chance?"])
async def test_more_time_without_a_day_stays_an_extension(interpreter: Interpreter, text: str):
    parse = await interpreter.parse(text, reference_time=REF, timezone=TZ)
    assert parse.intent.name == "request_extension", parse.ranking[:3]


@pytest.mark.parametrize(("reference", "day"), [
    (REF, "2026-11-30"),
    (datetime(2026, 12, 31, 10, 0, tzinfo=ZoneInfo(TZ)), "2027-01-30"),
    (datetime(2027, 2, 10, 10, 0, tzinfo=ZoneInfo(TZ)), "2027-03-30"),  # February has none
])
@pytest.mark.parametrize("text", ["can I have until the 30th", "me da chance hasta el 30?"])
def test_the_30th_is_the_next_30th(text: str, reference: datetime, day: str):
    found = extract_entities(text, reference_time=reference, timezone=TZ)
    assert [(e.entity, e.value) for e in found] == [("date", day)]

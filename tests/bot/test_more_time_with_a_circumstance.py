"""More time asked for because of a circumstance (a lost job, an illness) is answered as a
hardship: its options and its hold, not a later due date (docs/TAXONOMY.md)."""

from __future__ import annotations

import pytest

from tests.bot.helpers import Transcript, effects, keys, make_facts


def verified() -> Transcript:
    t = Transcript(make_facts())
    t.verify()
    return t


@pytest.mark.parametrize("text", [
    "i need more time i lost my job",
    "can I get more time? I was laid off last month",
    "necesito más tiempo, me quedé sin trabajo",
    "dame mas tiempo estoy en el hospital",
])
def test_more_time_because_of_a_circumstance_is_a_hardship(text: str) -> None:
    out = verified().says(text, "request_extension")
    assert keys(out) == ["hardship.options"]
    assert effects(out) == ["SetHardship"]


@pytest.mark.parametrize("text", [
    "i need more time",
    "can i have a few more weeks, payday is late",
    "necesito mas tiempo por favor",
])
def test_more_time_without_one_stays_an_extension(text: str) -> None:
    out = verified().says(text, "request_extension")
    assert "hardship.options" not in keys(out) and "SetHardship" not in effects(out)


def test_a_day_named_keeps_the_extension_asked_for() -> None:
    out = verified().says("lost my job, can I have until the 20th", "request_extension",
                          date="2026-12-20")
    assert "SetHardship" not in effects(out)

""""I was going to pay friday" is a promise for the coming Friday, in English and Spanish."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.effects import RecordPromise
from bot.entity_choice import chosen_entities
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Parse
from tests.bot.helpers import T0, Transcript, keys, make_facts, texts

FRIDAY = date(2026, 11, 27)  # T0 is Wednesday, November 25, 2026


def _read(text: str, intent: str) -> dict[str, str]:
    entities = extract_entities(text, reference_time=T0, timezone="America/New_York")
    return chosen_entities(Parse(text, IntentScore(intent, 0.9), entities=entities), T0.date())


@pytest.mark.parametrize(("text", "amount", "locale", "said"), [
    ("i was going to pay friday", "100", "en", "you'll pay $100.00 on November 27, 2026"),
    ("I was gonna pay you friday", "100", "en", "you'll pay $100.00 on November 27, 2026"),
    ("ya le iba a pagar el viernes", "100", "es", "pagará $100.00 el 27 de noviembre de 2026"),
])
def test_a_day_the_debtor_was_going_to_pay_is_the_day_promised(
        text: str, amount: str, locale: str, said: str) -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says(text, "promise_to_pay", **_read(text, "promise_to_pay"))) == [
        "promise.ask_amount"]
    confirm = t.says(amount, "out_of_scope", **_read(amount, "out_of_scope"))
    assert keys(confirm) == ["promise.confirm"]
    assert t.facts is not None and said in texts(confirm, t.facts, locale)[0]
    assert t.says("yes", "affirm").effects == [RecordPromise(Decimal("100.00"), FRIDAY)]

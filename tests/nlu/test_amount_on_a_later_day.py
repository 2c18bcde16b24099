"""The shipped model reads an amount offered for a day to come as promise_to_pay (a future day
is a promise, docs/TAXONOMY.md), and an amount offered now as pay_partial."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlu.interpreter import EmbeddedInterpreter
from nlu.training import load_and_validate, train_model

DATA = Path(__file__).resolve().parents[2] / "nlu" / "training_data"
NOW = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def interpreter() -> EmbeddedInterpreter:
    data, _ = load_and_validate(DATA)
    return EmbeddedInterpreter(train_model(data))  # the served threshold, 0.5


@pytest.mark.parametrize(("text", "amount", "day"), [
    # The reviewer's two messages (read as pay_partial and out_of_scope before).
    ("I can pay 100 dollars on December 10", "100.00", "2026-12-10"),
    ("I could pay 75 dollars on december 20", "75.00", "2026-12-20"),
])
def test_an_amount_on_a_later_day_is_a_promise(interpreter, text, amount, day):
    parse = interpreter.parse_sync(text, reference_time=NOW, timezone="America/New_York")
    assert parse.intent.name == "promise_to_pay", parse.ranking[:3]
    values = {e.entity: e.value for e in parse.entities}
    assert values["amount"] == amount and values["date"] == day


def test_an_amount_now_stays_a_partial_payment(interpreter):
    parse = interpreter.parse_sync("I can pay 100 dollars right now", reference_time=NOW,
                                   timezone="America/New_York")
    assert parse.intent.name == "pay_partial", parse.ranking[:3]

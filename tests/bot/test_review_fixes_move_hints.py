"""The bot offers to move a pending promise only while the policy (promise.max_moves) would
still let one move: a hint followed by a refusal misleads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot import entity_choice
from bot.dialogs.base import Outcome
from bot.facts import PendingPromise
from nlu.extractors import extract_entities
from nlu.types import IntentScore, Parse
from tests.bot.helpers import T0, Transcript, keys, make_facts, texts

FRIDAY, THE_1ST = date(2026, 11, 27), date(2026, 12, 1)
MOVE_WORDS = ("move", "cambiar")


def pending(*promises: PendingPromise) -> Transcript:
    promised = sum((p.amount for p in promises), Decimal(0))
    t = Transcript(make_facts(promised=promised, pending_promises=promises))
    t.verify()
    return t


def said(t: Transcript, text: str, intent: str) -> Outcome:
    entities = extract_entities(text, reference_time=T0, timezone="America/New_York")
    chosen = entity_choice.chosen_entities(
        Parse(text, IntentScore(intent, 0.9), entities=entities), T0.date()
    )
    return t.says(text, intent, **chosen)


def text(t: Transcript, out: Outcome, locale: str = "en", **kwargs: Any) -> str:
    assert t.facts is not None
    return " ".join(texts(out, t.facts, locale, **kwargs))


def test_covered_by_a_promise_moved_already_offers_no_move() -> None:
    t = pending(PendingPromise(FRIDAY, Decimal("1200.00"), moves=1))
    out = said(t, "actually can i push it to jan 5", "request_extension")
    assert keys(out) == ["promise.covered_no_moves"]
    for locale in ("en", "es"):
        assert not any(w in text(t, out, locale).lower() for w in MOVE_WORDS)
    # What the old hint invited is refused: the hint must not have offered it.
    assert keys(said(t, "move it to jan 5", "request_extension")) == ["promise.move_limit"]


def test_covered_by_a_promise_that_may_still_move_says_how() -> None:
    t = pending(PendingPromise(FRIDAY, Decimal("1200.00"), moves=0))
    out = said(t, "actually can i push it to jan 5", "request_extension")
    assert keys(out) == ["promise.covered"]
    assert "move it to the 5th" in text(t, out)


def test_a_new_promise_beside_one_moved_already_offers_no_move() -> None:
    t = pending(PendingPromise(FRIDAY, Decimal("100.00"), moves=1))
    out = said(t, "i can pay 50 on december 4", "promise_to_pay")
    assert keys(out) == ["promise.confirm"]
    assert out.said[0].reply.lead == "promise.stands_no_moves"
    assert "still stands" in text(t, out) and "move" not in text(t, out)


def test_a_new_promise_beside_several_moved_already_offers_no_move() -> None:
    t = pending(
        PendingPromise(FRIDAY, Decimal("100.00"), moves=1),
        PendingPromise(THE_1ST, Decimal("100.00"), moves=1),
    )
    out = said(t, "i can pay 50 on december 4", "promise_to_pay")
    assert out.said[0].reply.lead == "promise.stands_many_no_moves"
    assert "move" not in text(t, out) and "cambiar" not in text(t, out, "es")


def test_one_of_several_may_still_move_so_the_hint_stays() -> None:
    t = pending(
        PendingPromise(FRIDAY, Decimal("100.00"), moves=1),
        PendingPromise(THE_1ST, Decimal("100.00"), moves=0),
    )
    out = said(t, "i can pay 50 on december 4", "promise_to_pay")
    assert out.said[0].reply.lead == "promise.stands_many"

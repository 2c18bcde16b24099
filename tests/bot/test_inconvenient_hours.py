"""Times the debtor calls inconvenient (12 CFR 1006.6(b)(1)): read from the words, acknowledged,
recorded as an effect, whatever the intent; payment times and "busy now" are no designation."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.dialogs import router
from bot.dialogs.base import DialogState, Turn
from bot.dialogs.inconvenient import designation
from bot.effects import RecordOptOut, SetContactHours

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "not_before", "not_after"), [
    ("please don't message me before noon, I work nights", time(12), None),
    ("no texts after 6pm", None, time(18)),
    ("not before 10am", time(10), None),
    ("no me escriban antes de las 12", time(12), None),
    ("después de las 8 de la noche no", None, time(20)),
    ("only text me after 5", time(17), None),
    ("Please don’t text before 12pm", time(12), None),
    ("don't call me after 18:00", None, time(18)),
    ("do not message me before 6 pm", time(18), None),
    ("no me llamen antes del mediodía", time(12), None),
    ("no me escriban después de las 21:30", None, time(21, 30)),
    ("don't text me on weekends before 10am", time(10), None),  # every day: the stricter
])
def test_contact_time_phrases_designate_hours(text: str, not_before: time | None,
                                              not_after: time | None) -> None:
    found = designation(text)
    assert found is not None
    assert (found.not_before, found.not_after) == (not_before, not_after)


@pytest.mark.parametrize("text", [
    "busy now", "can't talk now", "I'm at work, can't talk", "I'll pay before noon",
    "pay by 6pm friday", "don't call me, I'll pay before noon", "I can pay after 5pm",
    "no puedo pagar antes de las 5", "don't call me until the 15th", "pagaré antes de las 12",
    "no, after 5 works for the payment", "don't text me until tomorrow after 5",
])
def test_payment_times_and_busy_now_designate_nothing(text: str) -> None:
    assert designation(text) is None


@pytest.mark.parametrize("text", ["you can text me anytime",
                                  "ya pueden escribirme a cualquier hora"])
def test_anytime_clears_the_designation(text: str) -> None:
    found = designation(text)
    assert found is not None and found.cleared


def test_a_bare_designation_is_acknowledged_before_verification_and_not_an_opt_out() -> None:
    state = DialogState()
    out = router.step(state, Turn("no texts after 6pm", "opt_out", NOW, language="en"), None)
    assert out.effects == [SetContactHours(None, time(18))]
    assert not any(isinstance(e, RecordOptOut) for e in out.effects)
    assert [(s.reply.key, s.reply.slots, s.debt) for s in out.said] == [
        ("contact_hours.not_after", {"end": "6 PM"}, False)]


def test_the_acknowledgement_comes_first_and_the_turn_goes_on() -> None:
    state = DialogState()
    turn = Turn("no me escriban antes de las 12, quiero hablar con una persona",
                "request_agent", NOW, language="es")
    out = router.step(state, turn, None)
    assert out.effects[0] == SetContactHours(time(12), None)
    assert out.said[0].reply.key == "contact_hours.not_before"
    assert out.said[0].reply.slots == {"start": "12:00"}
    assert len(out.said) >= 2 and any(type(e).__name__ == "Handoff" for e in out.effects)


def test_a_stop_written_with_the_hours_is_still_an_opt_out() -> None:
    out = router.step(DialogState(),
                      Turn("stop, and never text me after 6pm", "opt_out", NOW), None)
    assert SetContactHours(None, time(18)) in out.effects
    assert any(isinstance(e, RecordOptOut) for e in out.effects)

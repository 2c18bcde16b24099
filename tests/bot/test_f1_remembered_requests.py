"""A request survives a lapsed verification and a shared-number relink; hardship notes quote."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.effects import Handoff, Relink
from bot.facts import Identity, Narrowed
from tests.bot.helpers import Transcript, effects, keys, make_facts

NIGHT_TO_MORNING = timedelta(hours=9, minutes=22)
HER_DOB = date(1990, 7, 2)


def _morning(t: Transcript) -> None:
    """The night passes: the debtor's replies were held, then dropped as expired."""
    t.later(NIGHT_TO_MORNING)
    assert t.facts is not None
    t.facts = replace(t.facts, today=t.facts.today + timedelta(days=1), replies_dropped=True)


def _reverify(t: Transcript, opening: str = "ok", intent: str = "affirm") -> list[str]:
    """The morning: the debtor answers the request to verify again, then both questions."""
    assert keys(t.says(opening, intent))[0] == "identity.expired"
    t.says("03/14/1985", "out_of_scope")
    return keys(t.says("10001", "out_of_scope"))


def test_a_request_answered_before_the_verification_lapsed_is_answered_on_reverifying() -> None:
    t = Transcript(make_facts())
    t.verify()
    at_night = keys(t.says("can I get a payment plan", "request_payment_plan"))
    _morning(t)
    assert _reverify(t) == at_night


def test_a_promise_said_at_night_is_read_back_again_with_its_own_terms() -> None:
    t = Transcript(make_facts())
    t.verify()
    at_night = t.says("I can pay 100 on friday", "promise_to_pay", amount="100", date="2026-11-27")
    _morning(t)
    assert _reverify(t, "hello", "greet") == keys(at_night)  # a greeting replaces nothing
    assert t.state.offer == at_night.state.offer


def test_a_debtor_who_wrote_again_while_verified_is_greeted_as_verified() -> None:
    t = Transcript(make_facts())
    t.verify()
    t.says("how much do I owe?", "ask_balance")
    t.says("thanks", "thanks")  # they had the answer
    _morning(t)
    assert _reverify(t) == ["identity.verified"]


def test_a_request_whose_answer_went_out_was_heard() -> None:
    t = Transcript(make_facts())
    t.verify()
    t.says("how much do I owe?", "ask_balance")
    t.later(NIGHT_TO_MORNING)  # the verification lapsed, but nothing was dropped
    assert t.facts is not None
    t.facts = replace(t.facts, today=t.facts.today + timedelta(days=1))
    assert _reverify(t, "hi", "greet") == ["identity.verified"]


def test_a_greeting_does_not_replace_the_request_remembered_before_verification() -> None:
    t = Transcript(make_facts())
    t.says("can I get a payment plan", "request_payment_plan")
    t.says("hello?", "greet")
    t.says("03/14/1985", "out_of_scope")
    assert keys(t.says("10001", "out_of_scope")) != ["identity.verified"]


def test_a_relinked_holder_is_asked_in_so_many_words_to_say_the_request_again() -> None:
    hers = make_facts(
        account_id=2,
        debtor_id=20,
        balance=make_facts().balance / 3,
        identity=Identity(HER_DOB, "11215", "ACME-000777888"),
    )
    t = Transcript(make_facts(debtor_id=10, holders=(hers,)))
    t.says("can I get a payment plan", "request_payment_plan")
    t.says("07/02/1990", "out_of_scope")
    t.facts = replace(t.facts, narrowed=Narrowed(0, (2,)))  # the store records the narrowing
    out = t.says("11215", "out_of_scope")
    assert any(isinstance(e, Relink) for e in out.effects)
    assert keys(out) == ["identity.verified_ask_again"]
    assert not any(s.debt for s in out.said)  # nothing read from the other holder's account
    assert t.state.pending is None


def test_a_person_chosen_from_the_hardship_options_is_told_the_circumstance() -> None:
    t = Transcript(make_facts())
    t.verify()
    assert keys(t.says("I lost my job last month", "hardship")) == ["hardship.options"]
    out = t.says("3", "request_agent")  # the options' third choice: a person
    assert effects(out) == ["Handoff"]
    [handoff] = [e for e in out.effects if isinstance(e, Handoff)]
    assert handoff.queue == "hardship"
    assert handoff.note is not None
    assert '"I lost my job last month"' in handoff.note and '"3"' not in handoff.note
    assert "circumstance: lost my job" in handoff.note
    assert "asked for a person" in handoff.note


def test_words_typed_to_ask_for_the_person_are_quoted_with_the_circumstance() -> None:
    t = Transcript(make_facts())
    t.verify()
    t.says("I lost my job last month", "hardship")
    [handoff] = [e for e in t.says("talk to a person", "request_agent").effects]
    assert isinstance(handoff, Handoff) and handoff.note is not None
    assert handoff.note.startswith('debtor said: "talk to a person"; earlier, debtor said: "I lost')

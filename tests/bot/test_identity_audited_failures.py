"""The identity dialog counts the account's audited wrong answers, not only its own state's."""

from __future__ import annotations

from tests.bot.helpers import Transcript, effects, keys, make_facts


def test_a_fresh_state_on_a_used_up_account_is_locked_and_handed_off() -> None:
    t = Transcript(make_facts(identity_failures=2))

    first = t.says("03/14/1985", "out_of_scope")

    assert keys(first) == ["identity.locked"]
    assert effects(first) == ["Handoff"]
    assert t.state.locked and t.state.attempts == 2  # what the console shows an agent
    for text in ("03/14/1985", "10001"):  # the right answers open nothing
        assert keys(t.says(text, "out_of_scope")) == ["identity.locked"]
    assert not t.state.is_verified(t.now)


def test_the_carried_failures_and_one_more_lock() -> None:
    t = Transcript(make_facts(identity_failures=1))
    t.says("hi", "greet")

    second = t.says("01/01/1970", "out_of_scope")

    assert keys(second) == ["identity.locked"]
    assert effects(second) == ["Audit", "Handoff"]
    assert second.effects[0].detail == "attempt 2"  # type: ignore[attr-defined]


def test_the_state_and_the_facts_are_the_same_answers_not_added_up() -> None:
    t = Transcript(make_facts())
    t.says("hi", "greet")
    t.says("01/01/1970", "out_of_scope")
    t.facts = make_facts(identity_failures=1)  # the audit log holds the one the state holds

    second = t.says("01/01/1970", "out_of_scope")

    # the policy's second attempt, not a third: the lock is this answer's, audited as such
    assert keys(second) == ["identity.locked"] and effects(second) == ["Audit", "Handoff"]
    assert second.effects[0].detail == "attempt 2"  # type: ignore[attr-defined]
    assert t.state.attempts == 2


def test_the_portal_copy_in_state_is_not_counted_twice() -> None:
    """The portal copies the account's failures into the state before the turn: with the same
    count in the facts, a right answer still has its try, and one more wrong answer uses one
    attempt, not two."""
    t = Transcript(make_facts(identity_failures=1))
    t.says("hi", "greet")
    t.state.attempts = 1

    assert keys(t.says("03/14/1985", "out_of_scope")) == ["identity.next.postal_code"]
    out = t.says("10002", "out_of_scope")

    assert keys(out) == ["identity.locked"] and effects(out) == ["Audit", "Handoff"]
    assert out.effects[0].detail == "attempt 2"  # type: ignore[attr-defined]

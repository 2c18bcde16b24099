"""Right-party verification: nothing about the debt until verified; lock after N failures."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.facts import Identity
from tests.bot.helpers import Transcript, effects, keys, make_facts, texts

DEBT_WORDS = re.compile(r"\$|1,200|Acme|debt|deuda|balance|saldo|123456|past due|atraso", re.I)


def test_balance_question_waits_for_verification_then_is_answered() -> None:
    facts = make_facts()
    t = Transcript(facts)
    first = t.says("how much do I owe?", "ask_balance")
    assert keys(first) == ["identity.ask.date_of_birth"]
    assert first.said[0].reply.lead == "identity.intro"  # one message: at night only one goes
    second = t.says("March 14, 1985", "out_of_scope")
    assert keys(second) == ["identity.next.postal_code"]
    third = t.says("10001", "out_of_scope")
    assert keys(third) == ["balance.answer"]
    assert effects(third) == ["Audit"]
    assert third.said[0].debt


def test_nothing_said_before_verification_mentions_the_debt() -> None:
    facts = make_facts()
    t = Transcript(facts)
    outs = [
        t.says("what is this about?", "ask_who"),
        t.says("who are you", "ask_who"),
        t.says("01/01/1990", "out_of_scope"),
        t.says("pay it", "pay_in_full"),
    ]
    for out in outs:
        assert not any(s.debt for s in out.said)
        for text in texts(out, facts) + texts(out, facts, "es"):
            assert not DEBT_WORDS.search(text), text


def test_wrong_answers_lock_and_hand_off_even_if_the_right_one_follows() -> None:
    facts = make_facts()
    t = Transcript(facts)
    t.says("hi", "greet")
    first = t.says("01/01/1990", "out_of_scope")
    assert keys(first) == ["identity.retry.date_of_birth"]
    assert first.said[0].reply.slots["left"] == 1
    locked = t.says("02/02/1990", "out_of_scope")  # compliance.md A.2 item 9: twice, then stop
    assert keys(locked) == ["identity.locked"]
    assert effects(locked) == ["Audit", "Handoff"]
    again = t.says("03/14/1985", "out_of_scope")
    assert keys(again) == ["identity.locked"]
    assert not t.state.is_verified(t.now)


def test_attempts_follow_the_policy() -> None:
    from backend.services.policy import Policy
    from backend.services.policy.model import VerificationPolicy

    policy = Policy(
        verification=VerificationPolicy(factors=["reference_last4", "postal_code"], max_attempts=1)
    )
    t = Transcript(make_facts(policy))
    assert keys(t.says("hi", "greet"))[-1] == "identity.ask.reference_last4"
    assert keys(t.says("9999", "out_of_scope")) == ["identity.locked"]


def test_reference_digits_factor_verifies() -> None:
    from backend.services.policy import Policy
    from backend.services.policy.model import VerificationPolicy

    policy = Policy(verification=VerificationPolicy(factors=["postal_code", "reference_last4"]))
    t = Transcript(make_facts(policy))
    t.says("hi", "greet")
    assert keys(t.says("10001", "out_of_scope")) == ["identity.next.reference_last4"]
    assert keys(t.says("it ends 3456", "out_of_scope")) == ["identity.verified"]


def test_a_short_number_is_no_attempt_at_the_reference_digits() -> None:
    from backend.services.policy import Policy
    from backend.services.policy.model import VerificationPolicy

    policy = Policy(
        verification=VerificationPolicy(factors=["postal_code", "reference_last4"], max_attempts=1)
    )
    t = Transcript(make_facts(policy))
    t.says("hi", "greet")
    assert keys(t.says("10001", "out_of_scope")) == ["identity.next.reference_last4"]
    assert "identity.locked" not in keys(t.says("i can pay 50 on the 3rd", "pay_partial"))
    # verified on the one try left, the remembered request goes on
    assert keys(t.says("it ends 3456", "out_of_scope")) == ["pay.partial.ask"]


def test_verification_expires() -> None:
    t = Transcript(make_facts())
    t.verify()
    t.later(timedelta(minutes=31))
    out = t.says("how much?", "ask_balance")
    assert keys(out) == ["identity.expired", "identity.ask.date_of_birth"]


def test_unanswered_questions_hand_off_instead_of_looping() -> None:
    t = Transcript(make_facts())
    t.says("hi", "greet")
    t.says("what?", "out_of_scope")
    t.says("why?", "out_of_scope")
    out = t.says("huh", "out_of_scope")
    assert keys(out) == ["identity.handoff"] and effects(out) == ["Handoff"]


def test_no_factor_on_file_hands_off() -> None:
    facts = make_facts(identity=Identity(None, None, ""))
    out = Transcript(facts).says("hi", "greet")
    assert keys(out) == ["identity.cannot_verify"] and effects(out) == ["Handoff"]


def test_spanish_birth_date_in_words_is_understood() -> None:
    from bot.dialogs.identity import birth_dates

    assert date(1985, 3, 14) in birth_dates("14 de marzo de 1985")
    assert date(1985, 3, 14) in birth_dates("14/03/1985")
    assert date(1985, 3, 14) in birth_dates("1985-03-14")


def test_unknown_sender_hears_nothing_about_a_debt() -> None:
    out = Transcript(None).says("hello", "greet")
    assert keys(out) == ["unknown.sender"] and effects(out) == ["Handoff"]


def test_an_account_not_yet_due_is_not_called_zero_days_past_due() -> None:
    facts = make_facts(days_past_due=0)
    t = Transcript(facts)
    t.says("how much do I owe?", "ask_balance")
    t.says("March 14, 1985", "out_of_scope")
    answer = t.says("10001", "out_of_scope")
    assert keys(answer) == ["balance.answer_current"]
    [english] = texts(answer, facts)
    [spanish] = texts(answer, facts, locale="es")
    assert "$1,200.00, not yet past due" in english and "0 days" not in english
    assert "aún sin atraso" in spanish and "0 días" not in spanish


def test_one_day_past_due_is_singular() -> None:
    facts = make_facts(days_past_due=1)
    t = Transcript(facts)
    for text, intent in (("balance?", "ask_balance"), ("March 14, 1985", "out_of_scope")):
        t.says(text, intent)
    answer = t.says("10001", "out_of_scope")
    assert "1 day past due" in texts(answer, facts)[0]
    assert "1 día de atraso" in texts(answer, facts, locale="es")[0]


def test_an_answer_with_thanks_is_an_answer_not_small_talk() -> None:
    t = Transcript(make_facts())
    t.says("how much do I owe?", "ask_balance")
    second = t.says("03/14/1985 thanks", "thanks")  # how the NLU reads it
    assert keys(second) == ["identity.next.postal_code"]
    third = t.says("10001 thank you", "thanks")
    assert keys(third) == ["balance.answer"]


def test_thanks_without_an_answer_is_still_small_talk() -> None:
    t = Transcript(make_facts())
    t.says("how much do I owe?", "ask_balance")
    out = t.says("thanks", "thanks")
    assert "identity.next.postal_code" not in keys(out) and not out.said[0].debt


def test_the_reference_shown_is_its_last_digits_like_the_ones_asked_for() -> None:
    assert make_facts(reference="INV-12-34").reference_tail == "1234"
    assert make_facts(reference="ACME-000123456").reference_tail == "3456"

"""Right-party verification cannot be guessed many values at a time, nor lose the debtor's question.

One message is one answer: a message holding more than one date of birth, postal code or set of
reference digits is a guessing pattern, counted as a failed attempt. A numeric date whose day and
month could be read either way is read one way, the debtor's (month first in English, day first
in Spanish), never both.
"""

from __future__ import annotations

from datetime import date, timedelta

from backend.services.policy import Policy
from backend.services.policy.model import VerificationPolicy
from bot.dialogs import router
from bot.dialogs.base import Outcome, Turn
from bot.dialogs.identity import birth_dates
from bot.facts import Facts, Identity
from tests.bot.helpers import Transcript, effects, keys, make_facts

DOB = date(1971, 3, 16)
ZIP = "94153"


def _facts(dob: date = DOB, postal: str = ZIP, **overrides: object) -> Facts:
    return make_facts(identity=Identity(dob, postal, "ACME-000123456"), **overrides)


def _asked(facts: Facts) -> Transcript:
    t = Transcript(facts)
    t.says("hi", "greet")
    return t


def _every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- many values in one message ---------------------------------------------------------------


def test_a_message_listing_many_dates_is_a_failed_attempt() -> None:
    t = _asked(_facts())
    guesses = " ".join(
        f"{d.month}/{d.day}/{d.year}" for d in _every_day(date(1971, 1, 1), date(1971, 4, 10))
    )
    out = t.says(guesses, "out_of_scope")
    assert keys(out) == ["identity.retry.date_of_birth"]
    assert effects(out) == ["Audit"] and t.state.attempts == 1
    assert out.identity_answer  # its text holds birth dates: never shown to the trainers
    assert not t.state.is_verified(t.now)
    # the right ZIP afterwards does not verify: the date was not accepted
    assert keys(t.says(ZIP, "out_of_scope")) == ["identity.ask.date_of_birth"]
    assert not t.state.is_verified(t.now)


def test_two_lists_of_dates_lock_the_conversation() -> None:
    t = _asked(_facts())
    days = _every_day(date(1971, 1, 1), date(1971, 12, 31))
    lists = [" ".join(d.isoformat() for d in days[n * 100 : (n + 1) * 100]) for n in range(2)]
    first = t.says(lists[0], "out_of_scope")
    assert keys(first) == ["identity.retry.date_of_birth"] and not t.state.locked
    out = t.says(lists[1], "out_of_scope")
    assert keys(out) == ["identity.locked"] and t.state.locked


def test_written_out_dates_listed_together_are_a_failed_attempt() -> None:
    t = _asked(_facts())
    out = t.says("March 16, 1971 or March 17, 1971 or 15 de marzo de 1971", "out_of_scope")
    assert keys(out) == ["identity.retry.date_of_birth"] and t.state.attempts == 1


def test_one_date_written_both_ways_round_is_a_failed_attempt() -> None:
    t = _asked(_facts(dob=date(1980, 4, 3)))
    out = t.says("03/04/1980 04/03/1980", "out_of_scope")
    assert keys(out) == ["identity.retry.date_of_birth"] and t.state.attempts == 1


def test_a_message_listing_many_zip_codes_is_a_failed_attempt() -> None:
    t = _asked(_facts())
    assert keys(t.says("03/16/1971", "out_of_scope")) == ["identity.next.postal_code"]
    out = t.says(" ".join(str(z) for z in range(94000, 94166)), "out_of_scope")
    assert keys(out) == ["identity.retry.date_of_birth"]
    assert t.state.attempts == 1 and not t.state.is_verified(t.now)


def test_two_zip_codes_are_a_failed_attempt_even_with_the_right_one_first() -> None:
    t = _asked(_facts())
    t.says("03/16/1971", "out_of_scope")
    out = t.says("94153 or 94154-1234", "out_of_scope")
    assert keys(out) == ["identity.retry.date_of_birth"] and t.state.attempts == 1


def test_zip_plus_four_is_one_value() -> None:
    t = _asked(_facts())
    t.says("03/16/1971", "out_of_scope")
    assert keys(t.says("94153-1234", "out_of_scope")) == ["identity.verified"]


def test_a_five_digit_zip_verifies_against_a_zip_plus_four_on_file() -> None:
    t = _asked(_facts(postal="94153-1234"))
    t.says("03/16/1971", "out_of_scope")
    assert keys(t.says("it's 94153", "out_of_scope")) == ["identity.verified"]


def test_several_reference_endings_are_a_failed_attempt() -> None:
    policy = Policy(verification=VerificationPolicy(factors=["reference_last4", "postal_code"]))
    t = _asked(make_facts(policy))
    out = t.says("3455 3456 3457", "out_of_scope")
    assert keys(out) == ["identity.retry.reference_last4"] and t.state.attempts == 1
    assert keys(t.says("my account 000123456, it ends 3456", "out_of_scope")) == [
        "identity.next.postal_code"
    ]


# --- one date, read the debtor's way ----------------------------------------------------------


def test_a_date_with_words_around_it_still_verifies() -> None:
    for text in (
        "03/16/1971 thanks",
        "my dob is March 16 1971",
        "March 16, 1971",
        "16 de marzo de 1971",
        "the 16th of March, 1971",
        "1971-03-16",
        "3/16/1971, zip to follow",
    ):
        t = _asked(_facts())
        assert keys(t.says(text, "out_of_scope")) == ["identity.next.postal_code"], text


def test_a_spanish_debtor_writes_the_day_first() -> None:
    for text in ("16/03/1971", "16-03-1971", "16 de marzo de 1971"):
        t = _asked(_facts(preferred_language="es"))
        assert keys(t.says(text, "out_of_scope")) == ["identity.next.postal_code"], text


def test_an_english_debtor_is_read_month_first_only() -> None:
    march_4 = _asked(_facts(dob=date(1980, 3, 4)))
    assert keys(march_4.says("03/04/1980", "out_of_scope")) == ["identity.next.postal_code"]
    april_3 = _asked(_facts(dob=date(1980, 4, 3)))
    assert keys(april_3.says("03/04/1980", "out_of_scope")) == ["identity.retry.date_of_birth"]
    assert april_3.state.attempts == 1


def test_a_spanish_debtor_is_read_day_first_only() -> None:
    april_3 = _asked(_facts(dob=date(1980, 4, 3), preferred_language="es"))
    assert keys(april_3.says("03/04/1980", "out_of_scope")) == ["identity.next.postal_code"]
    march_4 = _asked(_facts(dob=date(1980, 3, 4), preferred_language="es"))
    assert keys(march_4.says("03/04/1980", "out_of_scope")) == ["identity.retry.date_of_birth"]


def _says_in(t: Transcript, text: str, language: str) -> Outcome:
    """A message the NLU found written in `language` (the engine puts it on the turn)."""
    out = router.step(t.state, Turn(text, "out_of_scope", t.now, language=language), t.facts)
    t.state = out.state
    return out


def test_a_message_written_in_spanish_is_read_day_first() -> None:
    t = Transcript(_facts(dob=date(1980, 4, 3)))  # preferred language English
    t.says("hola", "greet")
    assert keys(_says_in(t, "nací el 03/04/1980", "es")) == ["identity.next.postal_code"]
    t = Transcript(_facts(dob=date(1980, 3, 4)))
    t.says("hola", "greet")
    assert keys(_says_in(t, "nací el 03/04/1980", "es")) == ["identity.retry.date_of_birth"]


def test_a_bare_date_follows_the_files_language_not_a_greeting() -> None:
    t = Transcript(_facts(dob=date(1985, 3, 5), preferred_language="es"))
    t.says("hello", "greet")
    t.state.language = "en"  # the greeting's language, as the engine keeps it
    assert keys(t.says("05/03/1985", "out_of_scope")) == ["identity.next.postal_code"]


def test_birth_dates_reads_one_way_when_both_are_dates() -> None:
    assert birth_dates("03/04/1980") == {date(1980, 3, 4)}
    assert birth_dates("03/04/1980", "en") == {date(1980, 3, 4)}
    assert birth_dates("03/04/1980", "es") == {date(1980, 4, 3)}
    assert birth_dates("16/03/1971", "en") == {date(1971, 3, 16)}  # only one reading is a date
    assert birth_dates("03/16/1971", "es") == {date(1971, 3, 16)}
    assert birth_dates("05/05/1990") == {date(1990, 5, 5)}


# --- the debtor's pending question ------------------------------------------------------------


def _expired_with_balance_question() -> Transcript:
    t = Transcript(_facts())
    t.says("hi", "greet")
    t.says("03/16/1971", "out_of_scope")
    assert keys(t.says(ZIP, "out_of_scope")) == ["identity.verified"]
    t.later(timedelta(minutes=31))
    assert keys(t.says("how much do i owe", "ask_balance")) == [
        "identity.expired",
        "identity.ask.date_of_birth",
    ]
    return t


def test_a_wrong_zip_at_the_date_prompt_keeps_the_pending_question() -> None:
    t = _expired_with_balance_question()
    assert keys(t.says("01/01/1970", "out_of_scope")) == ["identity.retry.date_of_birth"]
    t.says("90008", "counter_offer", amount="90008.00")  # the NLU read a ZIP as an amount
    assert t.state.pending == "ask_balance"
    t.says("03/16/1971", "out_of_scope")
    answer = t.says(ZIP, "out_of_scope")
    assert keys(answer) == ["balance.answer"] and effects(answer) == ["Audit"]


def test_a_bare_number_at_the_zip_prompt_keeps_the_pending_question() -> None:
    t = _expired_with_balance_question()
    t.says("03/16/1971", "out_of_scope")
    t.says("$250", "counter_offer", amount="250.00")
    assert t.state.pending == "ask_balance"


def test_a_clear_new_request_while_verifying_still_replaces_the_pending_one() -> None:
    t = _expired_with_balance_question()
    t.says("actually what are my payment options", "ask_payment_methods")
    assert t.state.pending == "ask_payment_methods"


def test_two_digit_years_and_the_files_language_read_a_date_of_birth() -> None:
    assert birth_dates("14/3/85", "es", date(2026, 11, 28)) == {date(1985, 3, 14)}
    assert birth_dates("nací el 14 de marzo del 85", "es", date(2026, 11, 28)) == {
        date(1985, 3, 14)
    }
    assert birth_dates("3/14/05", "en", date(2026, 11, 28)) == {date(2005, 3, 14)}


def test_a_date_written_like_the_questions_example_verifies() -> None:
    # A Spanish file, but the bot asked in English ("for example 03/14/1985"): the debtor
    # may follow the example shown, or write the day first as the file's language does.
    for written in ("11/06/1960", "06/11/1960"):
        t = Transcript(_facts(dob=date(1960, 11, 6), preferred_language="es"))
        t.says("hello", "greet")
        t.state.language = "en"  # the question went out in English
        assert keys(t.says(written, "out_of_scope")) == ["identity.next.postal_code"], written


def test_the_example_reading_is_still_one_answer() -> None:
    t = Transcript(_facts(dob=date(1960, 11, 6), preferred_language="es"))
    t.says("hello", "greet")
    t.state.language = "en"
    assert keys(t.says("11/07/1960", "out_of_scope")) == ["identity.retry.date_of_birth"]
    assert t.state.attempts == 1

"""The gate reads what a message says about the debt, whatever the sender's flag declares."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend.services.compliance.debt_mentions import debt_mention, threat_mention
from backend.services.compliance.gate import decide
from backend.services.reminders import reminder_text
from bot.messages import Purpose
from tests.channels.test_gate import NOON_NY, RULES, facts, out

THREATENING = ("RevBank: you owe a past-due debt of $500.00. Pay now or we will take legal "
               "action: https://pay.example/p/x. Reply STOP to stop.")
DISPUTED = frozenset({"dispute"})


@pytest.mark.parametrize("text, found", [
    ("you owe a past-due debt", "owe"),
    ("Pay $500.00 today", "$500.00"),
    ("Pay 500 USD today", "500 USD"),
    ("Pay 1,200.50 € today", "1,200.50 €"),
    ("Your account is past due", "past due"),
    ("Your account is overdue", "overdue"),
    ("Your balance is high", "balance"),
    ("This is a collection notice", "collection"),
    ("Tiene una deuda con nosotros", "deuda"),
    ("Usted adeuda el total", "adeuda"),
    ("Pague lo que debe", "lo que debe"),
    ("Su saldo vencido", "saldo"),
    ("Aviso de cobranza", "cobranza"),
])
def test_amounts_and_debt_words_are_found_in_english_and_spanish(text: str, found: str) -> None:
    mention = debt_mention(text)
    assert mention is not None and mention.found == found


@pytest.mark.parametrize("text", [
    reminder_text("en", "https://pay.example/p/owe-debt"),
    reminder_text("es", "https://pay.example/p/saldo"),
    "Please reply with your date of birth (for example 03/14/1985).",
    "Thanks. Now please reply with the ZIP code of your home address.",
    "Para continuar, debe confirmar su fecha de nacimiento.",
    "Hello from the Parley assistant: your next scheduled payment is in two days.",
])
def test_identity_questions_and_the_generic_reminder_mention_no_debt(text: str) -> None:
    assert debt_mention(text) is None


def test_the_accounts_own_names_count_when_known() -> None:
    assert debt_mention("A note from RevBank about RC-9") is None
    assert debt_mention("A note from RevBank", ["RevBank", None]).kind == "account"  # type: ignore[union-attr]
    assert debt_mention("about rc-9, thanks", [None, "RC-9"]).found == "rc-9"  # type: ignore[union-attr]
    assert debt_mention("A note for you", ["RevBank", "RC-9"]) is None


def test_threats_are_found() -> None:
    assert threat_mention(THREATENING).found == "legal action"  # type: ignore[union-attr]
    assert threat_mention("Evite una demanda").found == "demanda"  # type: ignore[union-attr]
    assert threat_mention(reminder_text("en", None)) is None


def test_a_reminder_about_the_debt_never_reaches_an_unverified_person() -> None:
    owed = THREATENING.replace(" or we will take legal action", "")
    reminder = replace(out(Purpose.REMINDER), text=owed)
    decision = decide(reminder, facts(), RULES, NOON_NY)
    assert decision.reason == "identity_unverified"
    assert decision.details["debt_mention"] == "debt_word"  # the kind, never the words
    generic = replace(out(Purpose.REMINDER), text=reminder_text("en", "https://pay.example/p"))
    assert decide(generic, facts(), RULES, NOON_NY).allowed


def test_an_unticked_agent_message_about_the_debt_is_held_like_a_ticked_one() -> None:
    text = "You still owe $500.00 to RevBank on account RC-9. Please pay today."
    agent = replace(out(Purpose.AGENT), text=text)
    assert decide(agent, facts(), RULES, NOON_NY).reason == "identity_unverified"
    disputed = facts(stop_states=DISPUTED)
    assert decide(agent, disputed, RULES, NOON_NY).reason == "dispute_pause"
    verified = replace(agent, recipient_verified=True)
    assert decide(verified, disputed, RULES, NOON_NY).reason == "dispute_pause"
    assert decide(verified, facts(), RULES, NOON_NY).allowed


def test_what_the_bot_legitimately_says_still_goes() -> None:
    identity = replace(out(), text="Please reply with your date of birth (for example 03/14/1985).")
    assert decide(identity, facts(), RULES, NOON_NY).allowed
    balance = replace(out(), text="Your balance with RevBank is $500.00.",
                      discusses_debt=True, recipient_verified=True)
    assert decide(balance, facts(), RULES, NOON_NY).allowed
    # compliance.md A.5 item 25 allows the one acknowledgement of the dispute itself.
    ack = replace(out(), text="I've recorded your dispute. We'll pause collection on this "
                  "account while we verify it.", recipient_verified=True)
    assert decide(ack, facts(stop_states=DISPUTED), RULES, NOON_NY).allowed
    neutral = replace(out(Purpose.AGENT), text="A colleague will call you tomorrow.")
    assert decide(neutral, facts(stop_states=DISPUTED), RULES, NOON_NY).allowed


def test_the_creditor_and_reference_count_when_the_facts_carry_them() -> None:
    named = facts(creditor_name="RevBank", account_reference="RC-9")
    agent = replace(out(Purpose.AGENT), text="RevBank asked us to write about RC-9.")
    assert decide(agent, named, RULES, NOON_NY).reason == "identity_unverified"
    assert decide(agent, facts(), RULES, NOON_NY).allowed

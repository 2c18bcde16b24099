"""A reference with too few digits is said whole ("your account PI-1"), never "ending PI-1"."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.facts import Facts
from tests.bot.helpers import Transcript, keys, make_facts, texts


def _verified(reference: str, **overrides: object) -> Transcript:
    t = Transcript(make_facts(reference=reference, **overrides))
    t.verify()
    return t


def _facts(t: Transcript) -> Facts:
    assert t.facts is not None
    return t.facts


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "Your balance with Acme Bank on your account PI-1 is $1,200.00, 95 days past due."),
    ("es", "Su saldo con Acme Bank en su cuenta PI-1 es de"),
])
def test_a_short_reference_without_enough_digits_is_said_whole(
    locale: str, expected: str,
) -> None:
    t = _verified("PI-1")
    out = t.says("how much do I owe", "ask_balance")
    [text] = texts(out, _facts(t), locale=locale)
    assert text.startswith(expected), text
    assert "ending" not in text and "terminada" not in text


@pytest.mark.parametrize(("days", "key"), [
    (95, "balance.answer.whole_reference"),
    (1, "balance.answer_one_day.whole_reference"),
    (0, "balance.answer_current.whole_reference"),
])
def test_every_balance_sentence_has_its_whole_reference_form(days: int, key: str) -> None:
    t = _verified("ACME-EUR", days_past_due=days)
    out = t.says("balance?", "ask_balance")
    assert keys(out) == [key]
    for locale in ("en", "es"):
        [text] = texts(out, _facts(t), locale=locale)
        assert "ACME-EUR" in text and "ending" not in text and "terminada" not in text, text


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "on behalf of Acme Bank about your account PI-1."),
    ("es", "en nombre de Acme Bank sobre su cuenta PI-1."),
])
def test_who_is_writing_names_a_short_reference_whole(locale: str, expected: str) -> None:
    t = _verified("PI-1")
    out = t.says("who is this", "ask_who")
    assert keys(out) == ["who.verified.whole_reference"]
    [text] = texts(out, _facts(t), locale=locale)
    assert expected in text, text


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "on the account ending 3456 is"), ("es", "en la cuenta terminada en 3456 es"),
])
def test_a_reference_with_enough_digits_still_reads_by_its_ending(
    locale: str, expected: str,
) -> None:
    t = _verified("ACME-000123456")
    out = t.says("how much do I owe", "ask_balance")
    assert keys(out) == ["balance.answer"]
    [text] = texts(out, _facts(t), locale=locale)
    assert expected in text and "ACME" not in text.split("Acme Bank")[1], text


def test_the_policy_decides_how_many_digits_are_enough() -> None:
    facts = make_facts(reference="INV-42")
    assert (facts.reference_whole, facts.reference_tail) == (True, "INV-42")
    two = replace(facts, policy=replace(facts.policy, reference_digits=2))
    assert (two.reference_whole, two.reference_tail) == (False, "42")


def test_a_long_reference_without_digits_is_not_said_whole() -> None:
    facts = make_facts(reference="ACME-EUR-LEGACY")
    assert (facts.reference_whole, facts.reference_tail) == (False, "GACY")


def test_before_verification_the_reference_is_never_said() -> None:
    t = Transcript(make_facts(reference="PI-1"))
    t.says("hi", "greet")
    out = t.says("how much do I owe", "ask_balance")
    assert not any("PI-1" in text for text in texts(out, _facts(t)))
    assert not any(said.reply.key.endswith("whole_reference") for said in out.said)

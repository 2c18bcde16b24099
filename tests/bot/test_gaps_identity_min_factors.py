"""Verification needs the policy's number of factors: one on file (a ZIP alone) is no proof."""

from __future__ import annotations

import re
from datetime import date

import pytest

from backend.services.policy import Policy, PolicyError, dialog_policy, parse_policy
from backend.services.policy.model import VerificationPolicy
from bot.dialogs import identity
from bot.effects import Handoff
from bot.facts import Identity
from tests.bot.helpers import DEFAULT_POLICY, Transcript, effects, keys, make_facts, texts

DEBT_WORDS = re.compile(r"\$|990|Zeta|debt|deuda|balance|saldo|past due|atraso|0405", re.I)
BOTH = Policy(verification=VerificationPolicy(factors=["date_of_birth", "postal_code"]))


def _zeta(policy: Policy, on_file: Identity, reference: str = "ZETA-7710405") -> Transcript:
    facts = make_facts(policy, creditor="Zeta Card", reference=reference, identity=on_file)
    return Transcript(facts)


def _assert_silent_about_the_debt(t: Transcript) -> None:
    for out in t.outcomes:
        assert not any(s.debt for s in out.said)
        for text in texts(out, t.facts) + texts(out, t.facts, "es"):
            assert not DEBT_WORDS.search(text), text


@pytest.mark.parametrize("on_file, answer", [
    (Identity(None, "30303", None), "30303"),
    (Identity(date(1985, 3, 14), None, None), "03/14/1985"),
])
def test_one_factor_on_file_hands_off_and_discloses_nothing(on_file: Identity,
                                                             answer: str) -> None:
    t = _zeta(BOTH, on_file)
    first = t.says("how much do i owe", "ask_balance")
    assert keys(first) == ["identity.cannot_verify"] and effects(first) == ["Handoff"]
    assert [e.reason for e in first.effects if isinstance(e, Handoff)] == ["cannot_verify"]
    then = t.says(answer, "out_of_scope")
    assert "balance.answer" not in keys(then) and not t.state.is_verified(t.now)
    _assert_silent_about_the_debt(t)


def test_shipped_policy_asks_the_reference_ending_when_the_birth_date_is_missing() -> None:
    t = _zeta(DEFAULT_POLICY, Identity(None, "30303", "ZETA-7710405"))
    assert keys(t.says("how much do i owe", "ask_balance")) == ["identity.ask.postal_code"]
    assert keys(t.says("30303", "out_of_scope")) == ["identity.next.reference_last4"]
    _assert_silent_about_the_debt(t)
    assert keys(t.says("0405", "out_of_scope")) == ["balance.answer"]


def test_shipped_policy_asks_birth_date_and_zip_when_both_are_on_file() -> None:
    t = _zeta(DEFAULT_POLICY, Identity(date(1985, 3, 14), "30303", "ZETA-7710405"))
    assert t.facts is not None
    assert identity.factors(t.facts) == ["date_of_birth", "postal_code"]
    t.says("how much do i owe", "ask_balance")
    assert keys(t.says("03/14/1985", "out_of_scope")) == ["identity.next.postal_code"]
    assert keys(t.says("30303", "out_of_scope")) == ["balance.answer"]


def test_shipped_policy_hands_off_a_zip_with_a_reference_too_short_to_ask() -> None:
    t = _zeta(DEFAULT_POLICY, Identity(None, "30303", "ZETA-7"), reference="ZETA-7")
    assert keys(t.says("how much do i owe", "ask_balance")) == ["identity.cannot_verify"]
    _assert_silent_about_the_debt(t)


@pytest.mark.parametrize("verification, field", [
    ({"factors": ["date_of_birth", "postal_code"], "min_factors": 1},
     "verification.min_factors"),
    ({"factors": ["postal_code"]}, "verification.factors"),
])
def test_a_one_factor_policy_is_refused_naming_the_field(verification: dict[str, object],
                                                         field: str) -> None:
    # A ZIP alone is known to the whole household (compliance.md A.2 item 9).
    with pytest.raises(PolicyError, match=re.escape(field)) as refused:
        parse_policy({"verification": verification})
    assert [p.split(":")[0] for p in refused.value.problems] == [field]


def test_min_factors_defaults_to_every_listed_factor_and_cannot_exceed_them() -> None:
    assert VerificationPolicy().required == 2
    assert dialog_policy(BOTH).min_verification_factors == 2
    assert dialog_policy(DEFAULT_POLICY).min_verification_factors == 2
    with pytest.raises(PolicyError, match="min_factors cannot exceed the 2 factors listed"):
        parse_policy({"verification": {"factors": ["date_of_birth", "postal_code"],
                                       "min_factors": 3}})

"""Two wrong identity answers lock the conversation, and the lock says nothing of the debt and
offers only a number to call back (compliance.md A.2 item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backend.services.compliance.debt_mentions import debt_mention
from backend.services.policy import PolicyError, parse_policy
from backend.services.policy.model import VerificationPolicy
from bot.dialogs.base import Outcome
from bot.responses import RenderContext, Renderer
from tests.bot.helpers import DEFAULT_POLICY, Transcript, effects, keys, make_facts

CONTACT = "1-800-555-0100"
ACCOUNT_TERMS = ("Acme Bank", "ACME-000123456")  # make_facts's creditor and reference
DEFAULT_FILE = Path(__file__).parents[2] / "backend/policies/default.yml"
WRONG = ("01/01/1970", "02/02/1971")
TEAM_CALLS = {
    "en": "A member of our team will contact you",
    "es": "se pondrá en contacto con usted",
}


def _locked_after_two_wrong_answers() -> Outcome:
    t = Transcript(make_facts())
    t.says("hi", "greet")
    first = t.says(WRONG[0], "out_of_scope")
    assert keys(first) == ["identity.retry.date_of_birth"]
    assert first.said[0].reply.slots["left"] == 1
    second = t.says(WRONG[1], "out_of_scope")
    assert keys(second) == ["identity.locked"] and effects(second) == ["Audit", "Handoff"]
    return second


def _text(out: Outcome, renderer: Renderer, locale: str, channel: str) -> str:
    return renderer.render(out.said[0], RenderContext(locale=locale, channel=channel)).text


def test_the_shipped_and_the_model_defaults_allow_two_attempts() -> None:
    shipped = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert shipped["verification"]["max_attempts"] == 2
    assert DEFAULT_POLICY.verification.max_attempts == 2
    assert VerificationPolicy().max_attempts == 2


def test_a_policy_allowing_a_third_answer_is_refused_naming_the_field() -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy({"verification": {"max_attempts": 3}})
    assert any(
        p.startswith("verification.max_attempts:") and "2" in p for p in refused.value.problems
    ), refused.value.problems


def test_the_second_wrong_answer_locks_and_the_first_does_not() -> None:
    _locked_after_two_wrong_answers()


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram", "web"])
@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_lock_offers_the_call_back_number_and_nothing_of_the_debt(
    locale: str, channel: str
) -> None:
    text = _text(_locked_after_two_wrong_answers(), Renderer(support=CONTACT), locale, channel)

    assert CONTACT in text, text
    assert debt_mention(text, ACCOUNT_TERMS) is None, text
    assert "1,200" not in text and "1.200" not in text


def test_every_message_after_the_lock_offers_the_number_too() -> None:
    t = Transcript(make_facts())
    t.says("hi", "greet")
    for wrong in WRONG:
        t.says(wrong, "out_of_scope")
    again = t.says("03/14/1985", "out_of_scope")  # the right answer opens nothing

    assert keys(again) == ["identity.locked"]
    assert CONTACT in _text(again, Renderer(support=CONTACT), "en", "sms")


@pytest.mark.parametrize("locale", ["en", "es"])
def test_without_a_contact_configured_the_lock_promises_a_call_and_names_no_number(
    locale: str,
) -> None:
    text = _text(_locked_after_two_wrong_answers(), Renderer(), locale, "sms")

    assert TEAM_CALLS[locale] in text and "{" not in text and CONTACT not in text
    assert debt_mention(text, ACCOUNT_TERMS) is None, text

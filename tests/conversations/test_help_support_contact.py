"""HELP names the team's contact when SUPPORT_CONTACT is set (CTIA, compliance.md item 49),
and still says nothing of a debt: it is answered before anyone is verified (item 9)."""

from __future__ import annotations

import pytest

from backend.services.compliance.debt_mentions import debt_mention
from backend.settings import Settings
from tests.conversations.conftest import Chat

CONTACT = "1-800-555-0100, example.com/help"
ACCOUNT_TERMS = ("Acme Bank", "ACME-123456")  # the chat account's creditor and reference


@pytest.fixture(params=[CONTACT, None], ids=["configured", "unconfigured"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return settings.model_copy(update={"support_contact": request.param})


async def test_help_before_verification_names_the_contact_and_no_debt(
    chat: Chat, settings: Settings
) -> None:
    result = await chat.says("HELP")
    assert [r.key for r in result.replies] == ["help.reply"]
    text = result.replies[0].text
    assert "Parley" in text and "Reply STOP" in text and "Msg & data rates" in text
    assert (CONTACT in text) == (settings.support_contact is not None), text
    assert "{" not in text and ".." not in text
    assert debt_mention(text, ACCOUNT_TERMS) is None
    assert result.replies[0].decision.allowed


def contact_setting(value: str) -> str | None:
    """SUPPORT_CONTACT as Settings reads it (a secret given: no key file is written)."""
    built = Settings(_env_file=None, secret_key="s" * 32, support_contact=value)  # type: ignore[call-arg]
    return built.support_contact


def test_the_setting_is_one_line_and_blank_is_unset() -> None:
    assert contact_setting("  ") is None
    assert contact_setting(f" {CONTACT} ") == CONTACT
    with pytest.raises(ValueError, match="SUPPORT_CONTACT"):
        contact_setting("call\nus")

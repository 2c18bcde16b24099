"""The HELP reply on every channel and language, with and without a support contact."""

from __future__ import annotations

import pytest

from backend.services.compliance.debt_mentions import debt_mention
from bot.dialogs.base import Said
from bot.messages import Purpose, Reply
from bot.responses import RenderContext, Renderer
from bot.responses.catalog import Catalog

CHANNELS = ("sms", "whatsapp", "telegram", "web")
CONTACT = "1-800-555-0100, example.com/help"
HELP = Said(Reply("help.reply", {}), purpose=Purpose.REPLY)


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_a_configured_contact_is_named_on_every_channel(channel: str, locale: str) -> None:
    text = Renderer(support=CONTACT).render(HELP, RenderContext(locale, channel=channel)).text
    assert CONTACT in text and "Parley" in text
    assert ("STOP" in text) == (channel != "web")  # how to opt out, where STOP works
    assert debt_mention(text, ("Acme Bank", "ACME-123456")) is None  # said before verification


@pytest.mark.parametrize("support", [None, ""])
@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_without_a_contact_the_reply_is_unchanged(
    channel: str, locale: str, support: str | None
) -> None:
    said = Renderer(support=support).sentence(
        "help.reply", {}, RenderContext(locale, channel=channel)
    )
    key = "help.reply.sms" if channel == "sms" else "help.reply"
    assert said == Catalog().text(key, locale)
    assert "{" not in said and debt_mention(said) is None


def test_a_contact_changes_only_the_sentences_that_have_a_support_variant() -> None:
    ctx = RenderContext()
    for key in ("optin.confirm", "optout.confirm", "greet.verified"):
        assert Renderer(support=CONTACT).sentence(key, {}, ctx) == Renderer().sentence(key, {}, ctx)

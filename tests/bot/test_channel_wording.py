"""Each channel hears its own wording: no "number" where there is none (Telegram, the portal),
and the carrier's "Msg & data rates" only on SMS (compliance.md item 49)."""

from __future__ import annotations

import pytest

from bot.dialogs.base import Said
from bot.messages import Purpose, Reply
from bot.responses import RenderContext
from tests.bot.helpers import RENDERER, Transcript, make_facts, texts

CHANNELS = ("sms", "whatsapp", "telegram", "web")
PHONES = frozenset({"sms", "whatsapp"})
NUMBER = {"en": "number", "es": "número"}
RATES = {"en": "Msg & data rates", "es": "tarifas de mensajes"}


def sentence(key: str, channel: str, locale: str) -> str:
    """The key as said on `channel`, without the opt-out line the renderer adds."""
    return RENDERER.sentence(key, {}, RenderContext(locale=locale, channel=channel))


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("key", ["wrong_person.apology", "stop.deceased"])
def test_only_a_phone_channel_hears_of_its_number(key: str, channel: str, locale: str) -> None:
    said = sentence(key, channel, locale)
    assert (NUMBER[locale] in said) == (channel in PHONES), said


@pytest.mark.parametrize("locale", ["en", "es"])
def test_telegram_hears_of_its_chat(locale: str) -> None:
    for key in ("wrong_person.apology", "stop.deceased"):
        assert "chat" in sentence(key, "telegram", locale)


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_carrier_rates_are_said_on_sms_only(channel: str, locale: str) -> None:
    said = sentence("help.reply", channel, locale)
    assert (RATES[locale] in said) == (channel == "sms"), said
    assert "Parley" in said  # who we are, on every channel


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_help_reply_still_says_how_to_stop_where_stop_works(channel: str) -> None:
    said = Said(Reply("help.reply", {}), purpose=Purpose.REPLY)
    rendered = RENDERER.render(said, RenderContext(channel=channel)).text
    assert ("STOP" in rendered) == (channel != "web")


def test_a_roommate_on_telegram_is_told_of_the_chat_not_a_number() -> None:
    t = Transcript(make_facts())
    out = t.says("wrong person, this is my roommate's old account", "wrong_person")
    told = texts(out, make_facts(), "es", channel="telegram")[0]
    assert "Hemos eliminado este número" not in told and "chat" in told

"""STOP, END, CANCEL … are every language's: the confirmation keeps the conversation's
language (the latest message's, else the debtor's preferred); PARAR, BAJA … are Spanish."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from backend.db.models import Debtor
from bot.dialogs.opt_out import keyword, keyword_language
from bot.messages import ConversationKey
from tests.conversations.conftest import PHONE, Chat

SPANISH_CONFIRMATION = "Se ha dado de baja"
ENGLISH_CONFIRMATION = "You've been unsubscribed"


async def _prefers_spanish(chat: Chat) -> None:
    async with chat.container.sessions.begin() as session:
        await session.execute(update(Debtor).values(preferred_language="es"))


@pytest.mark.parametrize("word", ["STOP", "END", "CANCEL", "QUIT", "UNSUBSCRIBE", "stop"])
@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_a_spanish_speakers_stop_is_confirmed_in_spanish(
    chat: Chat, word: str, channel: str,
) -> None:
    await _prefers_spanish(chat)
    on_channel = Chat(chat.container, ConversationKey(channel, PHONE), chat.outbox)
    out = await on_channel.says(word)
    assert [r.key for r in out.replies] == ["optout.confirm"]
    assert out.replies[0].text.startswith(SPANISH_CONFIRMATION)
    assert chat.outbox.messages[-1].language == "es"


async def test_stop_keeps_the_language_of_the_latest_message(chat: Chat) -> None:
    await _prefers_spanish(chat)
    await chat.says("hello")  # written in English: the conversation is in English now
    out = await chat.says("STOP")
    assert out.replies[0].text.startswith(ENGLISH_CONFIRMATION)


async def test_a_spanish_keyword_switches_an_english_conversation_to_spanish(
    chat: Chat,
) -> None:
    out = await chat.says("BAJA")
    assert out.replies[0].text.startswith(SPANISH_CONFIRMATION)


async def test_stop_from_an_english_speaker_is_confirmed_in_english(chat: Chat) -> None:
    out = await chat.says("STOP")
    assert out.replies[0].text.startswith(ENGLISH_CONFIRMATION)


@pytest.mark.parametrize(("text", "language"), [
    ("STOP", None), ("cancel", None), ("stop please", None), ("PARAR", "es"),
    ("no mas", "es"), ("no more messages", "en"),
])
def test_only_words_of_a_language_name_one(text: str, language: str | None) -> None:
    word = keyword(text)
    assert word is not None and keyword_language(word, text) == language

"""Spanish carrier keywords: AYUDA says how to stop in Spanish, ALTA resumes on its channel;
Telegram's "messages again" greetings say how to stop once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, ContactPoint
from backend.services.imports.writer import upsert_accounts
from bot.dialogs.base import Said
from bot.messages import Reply
from bot.responses import RenderContext, Renderer
from tests.conversations.conftest import Chat, account_row

SPANISH_STOP_LINE = "Responda STOP o BAJA para dejar de recibir mensajes en este número."
ENGLISH_STOP_LINE = "Reply STOP to stop messages to this number."


@pytest.fixture
async def account_id(container: Container) -> int:
    """The conftest's debtor, who reads Spanish."""
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(preferred_language="es")],
                              container.clock.now())
    async with container.sessions() as session:
        found = await session.scalar(select(Account.id))
    assert found is not None
    return int(found)


async def _points(chat: Chat) -> dict[str, bool]:
    """Each channel's contact point: opted out or not."""
    async with chat.container.sessions() as session:
        points = (await session.scalars(select(ContactPoint))).all()
    return {p.channel: p.opted_out_at is not None for p in points}


async def _add_whatsapp(chat: Chat) -> None:
    async with chat.container.sessions.begin() as session:
        sms = await session.scalar(select(ContactPoint).where(ContactPoint.channel == "sms"))
        assert sms is not None
        session.add(ContactPoint(debtor_id=sms.debtor_id, channel="whatsapp",
                                 address=sms.address, created_at=chat.container.clock.now()))


@pytest.mark.parametrize("word", ["AYUDA", "HELP", "ayuda por favor"])
async def test_the_spanish_help_reply_names_the_spanish_stop_word(chat: Chat, word: str) -> None:
    out = await chat.says(word)
    assert [r.key for r in out.replies] == ["help.reply"]
    text = out.replies[0].text
    assert text.startswith("Soy Parley")
    assert text.endswith(SPANISH_STOP_LINE)
    assert text.count("STOP") == 1


async def test_ayuda_in_an_english_conversation_is_answered_in_spanish(chat: Chat) -> None:
    assert (await chat.says("hello")).replies  # the conversation is in English
    english = await chat.says("HELP")
    assert english.replies[0].text.endswith(ENGLISH_STOP_LINE)
    spanish = await chat.says("AYUDA")
    assert spanish.replies[0].text.startswith("Soy Parley")
    assert spanish.replies[0].text.endswith(SPANISH_STOP_LINE)


@pytest.mark.parametrize("word", ["ALTA", "alta por favor", "Alta."])
async def test_alta_resumes_like_start(chat: Chat, word: str) -> None:
    assert [r.key for r in (await chat.says("BAJA")).replies] == ["optout.confirm"]
    assert (await chat.says("hola")).replies == []
    out = await chat.says(word)
    assert [r.key for r in out.replies] == ["optin.confirm"]
    assert out.replies[0].text.startswith("Está suscrito")
    assert out.replies[0].text.endswith(SPANISH_STOP_LINE)  # BAJA named to one who used it
    assert await _points(chat) == {"sms": False}
    async with chat.container.sessions() as session:
        event = await session.scalar(select(AuditEvent)
                                     .where(AuditEvent.action == "contact.opted_in"))
    assert event is not None and event.data["keyword"] == "ALTA"
    again = await chat.says("cuánto debo")
    assert [r.key for r in again.replies] == ["identity.ask.date_of_birth"]


async def test_alta_resumes_only_the_channel_it_is_sent_on(chat: Chat) -> None:
    await _add_whatsapp(chat)
    assert (await chat.says("BAJA TODO")).replies
    assert await _points(chat) == {"sms": True, "whatsapp": True}
    assert [r.key for r in (await chat.says("ALTA")).replies] == ["optin.confirm"]
    assert await _points(chat) == {"sms": False, "whatsapp": True}


async def test_alto_is_still_a_stop_and_iniciar_no_opt_in(chat: Chat) -> None:
    assert [r.key for r in (await chat.says("ALTO")).replies] == ["optout.confirm"]
    assert (await chat.says("INICIAR")).replies == []
    assert await _points(chat) == {"sms": True}


@pytest.mark.parametrize("key", ["telegram.resumed", "telegram.resumed_team"])
@pytest.mark.parametrize("locale", ["en", "es"])
def test_telegrams_resumed_greetings_say_how_to_stop_once(key: str, locale: str) -> None:
    text = Renderer().render(Said(Reply(key)), RenderContext(locale=locale,
                                                             channel="telegram")).text
    assert text.count("STOP") == 1
    assert "(" not in text  # no aside repeating the opt-out line

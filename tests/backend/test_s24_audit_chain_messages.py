"""The audit log evidences each message's text: `verify --messages` finds one edited or gone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, update

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import AuditEvent, Message
from backend.services import audit
from backend.services.inbox import store_inbound
from bot.messages import ConversationKey, InboundMessage
from tests.channels import conftest as channels
from tests.channels.helpers import PHONE, seed_debtor
from tests.conversations.fakes import RuleInterpreter

# The channels' app (install_channels, fake providers): its fixtures, under their own names.
twilio_api = channels.twilio_api
telegram_api = channels.telegram_api
graph_api = channels.graph_api
channel_settings = channels.channel_settings
channel_app = channels.channel_app
channel_client = channels.channel_client
wired = channels.wired

KEY = ConversationKey("sms", PHONE)


@pytest.fixture
async def bot(wired: Container) -> Container:
    """The channels' app (real outbox, SMS through the fake Twilio) with the engine on it."""
    wired.interpreter = RuleInterpreter()
    install_conversations(None, wired)
    await seed_debtor(wired, now=wired.clock.now())
    return wired


async def _says(container: Container, text: str) -> int:
    """The debtor writes `text`, the bot answers it (and sends); the inbound message's id."""
    now = container.clock.now()
    async with container.sessions.begin() as session:
        stored = await store_inbound(
            session, InboundMessage(KEY, text, f"SM{now.timestamp()}{text}", now), now=now
        )
    await container.services["engine"].handle(stored.message_id)
    return stored.message_id


async def _turn_texts(container: Container, inbound_id: int) -> dict[str, Any]:
    async with container.sessions() as session:
        data = await session.scalar(
            select(AuditEvent.data).where(
                AuditEvent.action == "turn", AuditEvent.subject_id == str(inbound_id)
            )
        )
    assert data is not None
    texts: dict[str, Any] = data["texts"]
    return texts


async def _messages(container: Container) -> dict[int, Message]:
    async with container.sessions() as session:
        return {m.id: m for m in await session.scalars(select(Message))}


async def _verify(container: Container) -> audit.MessagesResult:
    async with container.sessions() as session:
        return await audit.verify_messages(session)


async def test_a_turn_records_the_digest_of_every_reply_it_stored(bot: Container) -> None:
    inbound_id = await _says(bot, "hi")

    texts = await _turn_texts(bot, inbound_id)
    stored = await _messages(bot)
    replies = [m for m in stored.values() if m.direction == "outbound"]
    assert replies, "the bot answered"
    # The replies only: a digest of the debtor's own words (a date of birth) could be undone.
    assert set(texts) == {str(m.id) for m in replies}
    assert all(texts[str(m.id)] == audit.text_digest(m.text) for m in replies)
    async with bot.sessions() as session:
        turn = await session.scalar(select(AuditEvent).where(AuditEvent.action == "turn"))
    assert turn is not None and "hi" not in str(turn.data.values())
    result = await _verify(bot)
    assert result.ok and result.checked == len(texts)


async def test_an_edited_reply_and_a_deleted_message_are_named(bot: Container) -> None:
    inbound_id = await _says(bot, "hi")
    later_id = await _says(bot, "03/14/1985")
    reply_id = int(next(iter(await _turn_texts(bot, inbound_id))))
    second_id = int(next(iter(await _turn_texts(bot, later_id))))
    async with bot.sessions.begin() as session:
        await session.execute(
            update(Message).where(Message.id == reply_id).values(text="Pay now or we will sue")
        )
        await session.execute(delete(Message).where(Message.id == second_id))

    result = await _verify(bot)

    assert not result.ok
    assert [(b.message_id, b.reason.split(":")[0].split(" ")[0]) for b in result.breaks] == [
        (reply_id, "text"),
        (second_id, "gone"),
    ]


async def test_choices_the_channel_numbered_into_a_sent_text_are_not_a_change(
    bot: Container,
) -> None:
    for text in ("hi", "04/02/1985"):  # the reply to the birth date asks the ZIP...
        await _says(bot, text)
    verified = await _says(bot, "10001")  # ...this one's ("How can I help?") has four choices
    texts = await _turn_texts(bot, verified)
    stored = await _messages(bot)
    numbered = [
        stored[int(i)]
        for i, digest in texts.items()
        if audit.text_digest(stored[int(i)].text) != digest
    ]
    assert numbered and all("\n1. " in m.text for m in numbered)  # SMS: the menu as text

    assert (await _verify(bot)).ok

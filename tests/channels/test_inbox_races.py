"""A new address's first messages, delivered at once, open one conversation, not two."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Conversation, Message
from backend.services.inbox import StoredInbound, store_inbound
from bot.messages import ConversationKey, InboundMessage

ADDRESS = "+12125550177"


async def _deliver(container: Container, sid: str, text: str) -> StoredInbound:
    inbound = InboundMessage(ConversationKey("sms", ADDRESS), text, sid, container.clock.now())
    async with container.sessions.begin() as session:
        return await store_inbound(session, inbound, now=container.clock.now())


async def _conversations(container: Container) -> list[tuple[int, int]]:
    async with container.sessions() as session:
        rows = await session.execute(
            select(Conversation.id, func.count(Message.id))
            .outerjoin(Message, Message.conversation_id == Conversation.id)
            .where(Conversation.address == ADDRESS).group_by(Conversation.id))
        return [(conversation, count) for conversation, count in rows.all()]


async def test_a_first_message_delivered_twice_at_once_opens_one_conversation(
    container: Container,
) -> None:
    first, again = await asyncio.gather(_deliver(container, "SM1", "how much do i owe"),
                                        _deliver(container, "SM1", "how much do i owe"))
    assert sorted([first.duplicate, again.duplicate]) == [False, True]
    assert first.conversation_id == again.conversation_id
    assert await _conversations(container) == [(first.conversation_id, 1)]
    later = await _deliver(container, "SM2", "03/14/1985")
    assert later.conversation_id == first.conversation_id


async def test_two_first_messages_at_once_share_one_conversation(container: Container) -> None:
    one, two = await asyncio.gather(_deliver(container, "SM1", "hi"),
                                    _deliver(container, "SM2", "how much do i owe"))
    assert one.conversation_id == two.conversation_id
    assert await _conversations(container) == [(one.conversation_id, 2)]

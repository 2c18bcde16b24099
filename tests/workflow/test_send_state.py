"""A sent contact keeps its message's delivery state and conversation (the strategy page)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Conversation, Message
from backend.workflow.runner import InProcessRunner
from bot.channels.base import StatusUpdate
from bot.clock import SettableClock
from tests.workflow import seed


async def test_a_send_keeps_its_message_state_and_follows_status_callbacks(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    now = clock.now()
    acct = await seed.activated_account(wf_container, now, now.date() + timedelta(days=3))
    await runner.cycle()
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
        message = await session.get(Message, contact.message_id)
        conversation = await session.get(Conversation, contact.conversation_id)
    assert message is not None and conversation is not None
    assert contact.status == "sent"
    assert contact.delivery_status == message.delivery_status == "queued"  # Twilio's answer
    assert (message.conversation_id, conversation.account_id) == (conversation.id, acct.id)
    assert conversation.portfolio_id == acct.portfolio_id

    outbox = wf_container.services["outbox"]
    sid = message.provider_message_id or ""
    await outbox.record_statuses([StatusUpdate(sid, "delivered")])
    await outbox.record_statuses([StatusUpdate(sid, "sent")])  # late: never moves back
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
        status = await session.scalar(select(Message.delivery_status)
                                      .where(Message.id == contact.message_id))
    assert contact.delivery_status == status == "delivered"

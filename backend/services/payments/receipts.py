"""Telling the debtor, in their conversation, that their payment arrived."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, Conversation
from backend.db.models.enums import Ownership
from bot.dialogs.base import DialogState, Said
from bot.engine import state_key
from bot.messages import ConversationKey, OutboundMessage, Purpose, Reply
from bot.ports import Outbox
from bot.responses import RenderContext, Renderer
from bot.state import StateStore


async def confirm_receipt(
    session: AsyncSession, account: Account, amount: Decimal, now: datetime, *,
    outbox: Outbox, states: StateStore, renderer: Renderer,
) -> int | None:
    """Submit "we received {amount}" to the account's latest bot conversation; the id to send."""
    conversation = await session.scalar(
        select(Conversation).where(Conversation.account_id == account.id,
                                   Conversation.ownership == Ownership.BOT)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1))
    if conversation is None:
        return None
    state = DialogState.from_dict(await states.get(state_key(conversation.id)))
    locale = state.language or conversation.language or "en"
    said = Said(Reply("payment.received", {"amount": amount}), True, Purpose.PAYMENT_RECEIPT)
    rendered = renderer.render(said, RenderContext(
        locale=locale if locale in ("en", "es") else "en", currency=account.currency,
        channel=conversation.channel, disclosure="short"))
    decision = await outbox.submit(session, OutboundMessage(
        key=ConversationKey(conversation.channel, conversation.address), text=rendered.text,
        purpose=Purpose.PAYMENT_RECEIPT, conversation_id=conversation.id, account_id=account.id,
        discusses_debt=True, recipient_verified=state.is_verified(now)))
    return decision.message_id if decision.allowed else None

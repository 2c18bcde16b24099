"""Telling the debtor, in their conversation, that their payment arrived."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, Conversation
from backend.db.models.enums import Channel, Ownership
from backend.services.portal import PortalLinks
from bot.dialogs.base import DialogState, Said
from bot.engine import state_key
from bot.messages import ConversationKey, OutboundMessage, Purpose, Reply
from bot.ports import Outbox
from bot.responses import RenderContext, Renderer
from bot.state import StateStore


async def confirm_receipt(
    session: AsyncSession, account: Account, amount: Decimal, now: datetime, *,
    outbox: Outbox, states: StateStore, renderer: Renderer,
    portal_links: PortalLinks | None = None,
) -> int | None:
    """Submit the receipt to the account's latest bot conversation; the id to send.

    "We received {amount}" while the conversation's identity is verified; otherwise a
    receipt that says nothing of a debt or an amount (compliance.md A.2 item 9), since
    whoever holds the address now is not proven to be the debtor.
    """
    conversation = await session.scalar(
        select(Conversation).where(Conversation.account_id == account.id,
                                   Conversation.ownership == Ownership.BOT)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1))
    if conversation is None:
        return None
    state = DialogState.from_dict(await states.get(state_key(conversation.id)))
    locale = state.language or conversation.language or "en"
    verified = state.is_verified(now)
    said = (Said(Reply("payment.received", {"amount": amount}), True, Purpose.PAYMENT_RECEIPT)
            if verified else _neutral(account, conversation, portal_links))
    rendered = renderer.render(said, RenderContext(
        locale=locale if locale in ("en", "es") else "en", currency=account.currency,
        channel=conversation.channel, disclosure="short" if verified else None))
    decision = await outbox.submit(session, OutboundMessage(
        key=ConversationKey(conversation.channel, conversation.address), text=rendered.text,
        purpose=Purpose.PAYMENT_RECEIPT, conversation_id=conversation.id, account_id=account.id,
        discusses_debt=verified, recipient_verified=verified))
    return decision.message_id if decision.allowed else None


def _neutral(account: Account, conversation: Conversation,
             portal_links: PortalLinks | None) -> Said:
    """The receipt for an unverified recipient, pointing to the portal for the details.

    The portal link names only the account's internal id and shows nothing until its holder
    verifies, as the first reminder's does; a pay link would carry the amount. In the portal
    itself the debtor is already where the details are.
    """
    if portal_links is None or conversation.channel == Channel.WEB:
        return Said(Reply("payment.received_unverified"), False, Purpose.PAYMENT_RECEIPT)
    return Said(Reply("payment.received_unverified_link", {"url": portal_links.url_for(account)}),
                False, Purpose.PAYMENT_RECEIPT)

"""Telling the debtor, in their conversation, that their payment arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, Conversation
from backend.db.models.enums import Channel, Ownership
from backend.services.portal import PortalLinks
from bot.dialogs.base import DialogState, Said
from bot.engine import STATE_TTL_SECONDS, state_key
from bot.messages import ConversationKey, OutboundMessage, Purpose, Reply
from bot.ports import Outbox
from bot.responses import LOCALES, RenderContext, Renderer
from bot.state import StateStore


@dataclass(frozen=True)
class Receipt:
    """A receipt stored to go now, and the language it gave the full disclosure in, if any
    (`record_disclosure` notes it in the conversation's state once the payment commits)."""

    message_id: int
    conversation_id: int
    disclosed_in: str | None = None


async def confirm_receipt(
    session: AsyncSession, account: Account, amount: Decimal, now: datetime, *,
    outbox: Outbox, states: StateStore, renderer: Renderer,
    portal_links: PortalLinks | None = None,
) -> Receipt | None:
    """Submit the receipt to the account's latest bot conversation; the receipt to send.

    "We received {amount}" while the conversation's identity is verified, with the full
    debt collector's disclosure the first time in that language (the short line after), as
    the bot's replies carry; otherwise a receipt that says nothing of a debt or an amount
    (compliance.md A.2 item 9), since whoever holds the address now is not proven to be the
    debtor.
    """
    conversation = await session.scalar(
        select(Conversation).where(Conversation.account_id == account.id,
                                   Conversation.ownership == Ownership.BOT)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1))
    if conversation is None:
        return None
    state = DialogState.from_dict(await states.get(state_key(conversation.id)))
    locale = _locale(state, conversation)
    verified = state.is_verified(now)
    said = (Said(Reply("payment.received", {"amount": amount}), True, Purpose.PAYMENT_RECEIPT)
            if verified else _neutral(account, conversation, portal_links))
    disclosure = state.disclose(locale) if verified else None
    rendered = renderer.render(said, RenderContext(
        locale=locale, currency=account.currency, channel=conversation.channel,
        disclosure=disclosure))
    decision = await outbox.submit(session, OutboundMessage(
        key=ConversationKey(conversation.channel, conversation.address), text=rendered.text,
        purpose=Purpose.PAYMENT_RECEIPT, conversation_id=conversation.id, account_id=account.id,
        discusses_debt=verified, recipient_verified=verified, language=locale))
    if not decision.allowed or decision.message_id is None:
        return None
    return Receipt(decision.message_id, conversation.id,
                   locale if disclosure == "full" else None)


async def record_disclosure(states: StateStore, receipt: Receipt) -> None:
    """Note that `receipt` gave the full disclosure in its language, so the bot's next
    message in it carries the short line. Under the conversation's lock, taken after the
    payment's transaction as a turn takes it before its own: a turn meanwhile keeps its
    state, and one before this gives the full disclosure once more (the safe side)."""
    if receipt.disclosed_in is None:
        return
    key = state_key(receipt.conversation_id)
    async with states.lock(key):
        state = DialogState.from_dict(await states.get(key))
        state.disclose(receipt.disclosed_in)
        await states.set(key, state.to_dict(), STATE_TTL_SECONDS)


def _locale(state: DialogState, conversation: Conversation) -> str:
    locale = state.language or conversation.language or "en"
    return locale if locale in LOCALES else "en"


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

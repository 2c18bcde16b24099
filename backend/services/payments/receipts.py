"""Telling the debtor, in their conversation, that their payment arrived."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, Conversation, Portfolio
from backend.db.models.enums import Channel, Ownership
from backend.services.policy.loader import PolicyError, parse_policy
from backend.services.portal import PortalLinks
from bot.dialogs.base import DialogState, Said
from bot.engine import STATE_TTL_SECONDS, state_key
from bot.messages import ConversationKey, OutboundMessage, Purpose, Reply
from bot.ports import Outbox
from bot.responses import LOCALES, CatalogError, RenderContext, Rendered, Renderer
from bot.state import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """A receipt stored to go now, and the language it gave the full disclosure in, if any
    (`record_disclosure` notes it in the conversation's state once the payment commits)."""

    message_id: int
    conversation_id: int
    disclosed_in: str | None = None


async def confirm_receipt(
    session: AsyncSession,
    account: Account,
    amount: Decimal,
    now: datetime,
    *,
    outbox: Outbox,
    states: StateStore,
    renderer: Renderer,
    portal_links: PortalLinks | None = None,
) -> Receipt | None:
    """Submit the receipt to the account's latest bot conversation; the receipt to send.

    "We received {amount}" while the conversation's identity is verified, with the full
    debt collector's disclosure the first time in that language (the short line after), as
    the bot's replies carry; otherwise a receipt that says nothing of a debt or an amount
    (compliance.md A.2 item 9), since whoever holds the address now is not proven to be the
    debtor. In the portfolio's wording, as the bot's replies are.
    """
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.account_id == account.id, Conversation.ownership == Ownership.BOT)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    if conversation is None:
        return None
    state = DialogState.from_dict(await states.get(state_key(conversation.id)))
    locale = _locale(state, conversation)
    verified = state.is_verified(now)
    said = (
        Said(Reply("payment.received", {"amount": amount}), True, Purpose.PAYMENT_RECEIPT)
        if verified
        else _neutral(account, conversation, portal_links)
    )
    disclosure = state.disclose(locale) if verified else None
    rendered = _render(
        renderer,
        said,
        RenderContext(
            locale=locale,
            currency=account.currency,
            channel=conversation.channel,
            wording=await _wording(session, account),
            disclosure=disclosure,
        ),
        account,
    )
    decision = await outbox.submit(
        session,
        OutboundMessage(
            key=ConversationKey(conversation.channel, conversation.address),
            text=rendered.text,
            purpose=Purpose.PAYMENT_RECEIPT,
            conversation_id=conversation.id,
            account_id=account.id,
            discusses_debt=verified,
            recipient_verified=verified,
            language=locale,
        ),
    )
    if not decision.allowed or decision.message_id is None:
        return None
    return Receipt(decision.message_id, conversation.id, locale if disclosure == "full" else None)


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


async def _wording(session: AsyncSession, account: Account) -> str | None:
    """The wording of the account's portfolio policy; None without one, or when the stored
    policy no longer validates (the turns then fall back to the default policy too)."""
    stored = await session.scalar(
        select(Portfolio.policy).where(Portfolio.id == account.portfolio_id)
    )
    if not stored:
        return None
    try:
        return parse_policy(stored, f"portfolio {account.portfolio_id}").wording
    except PolicyError as exc:
        log.warning(
            "account %s: receipt in the shipped wording, the portfolio's policy is invalid at %s",
            account.id,
            ", ".join(exc.fields),
        )
        return None


def _render(renderer: Renderer, said: Said, context: RenderContext, account: Account) -> Rendered:
    """The receipt in the portfolio's wording, or in the shipped one when that wording cannot
    be rendered (a file broken since the policy was saved): the payment must not roll back
    for it, and the debtor must hear it arrived."""
    try:
        return renderer.render(said, context)
    except (CatalogError, KeyError) as exc:
        if context.wording is None:
            raise
        log.warning(
            "account %s: receipt in the shipped wording, the portfolio's failed: %s",
            account.id,
            exc,
        )
        return renderer.render(said, replace(context, wording=None))


def _locale(state: DialogState, conversation: Conversation) -> str:
    locale = state.language or conversation.language or "en"
    return locale if locale in LOCALES else "en"


def _neutral(
    account: Account, conversation: Conversation, portal_links: PortalLinks | None
) -> Said:
    """The receipt for an unverified recipient, pointing to the portal for the details.

    The portal link names only the account's internal id and shows nothing until its holder
    verifies, as the first reminder's does; a pay link would carry the amount. In the portal
    itself the debtor is already where the details are.
    """
    if portal_links is None or conversation.channel == Channel.WEB:
        return Said(Reply("payment.received_unverified"), False, Purpose.PAYMENT_RECEIPT)
    return Said(
        Reply("payment.received_unverified_link", {"url": portal_links.url_for(account)}),
        False,
        Purpose.PAYMENT_RECEIPT,
    )

"""Storing an inbound message first: dedupe, link it to a debtor, find its conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation, Message
from backend.db.models.enums import AccountStatus, Channel, DeliveryStatus, Direction, Ownership
from bot.messages import InboundMessage

PHONE_CHANNELS = (Channel.SMS.value, Channel.WHATSAPP.value)


@dataclass(frozen=True)
class StoredInbound:
    """Where an inbound message landed; `duplicate` when the provider sent it before."""

    message_id: int
    conversation_id: int
    debtor_id: int | None
    account_id: int | None
    duplicate: bool


async def store_inbound(
    session: AsyncSession, inbound: InboundMessage, *, now: datetime
) -> StoredInbound:
    """Persist `inbound` once (unique per channel + provider id) in the caller's transaction."""
    existing = await _existing(session, inbound)
    if existing is not None:
        return existing
    conversation = await _conversation_for(session, inbound, now)
    message = Message(
        conversation_id=conversation.id, direction=Direction.INBOUND, channel=inbound.key.channel,
        provider_message_id=inbound.provider_message_id, sender="debtor", text=inbound.text,
        delivery_status=DeliveryStatus.RECEIVED, created_at=now,
        attachments=[{"url": a.url, "content_type": a.content_type} for a in inbound.attachments]
        or None,
    )
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        # A concurrent delivery of the same provider message won the race.
        duplicate = await _existing(session, inbound)
        if duplicate is None:
            raise
        return duplicate
    conversation.last_message_at = now
    return StoredInbound(
        message.id, conversation.id, conversation.debtor_id, conversation.account_id, False
    )


async def _existing(session: AsyncSession, inbound: InboundMessage) -> StoredInbound | None:
    row = (
        await session.execute(
            select(Message.id, Conversation.id, Conversation.debtor_id, Conversation.account_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.channel == inbound.key.channel,
                Message.provider_message_id == inbound.provider_message_id,
            )
        )
    ).first()
    if row is None:
        return None
    return StoredInbound(row[0], row[1], row[2], row[3], True)


async def _conversation_for(
    session: AsyncSession, inbound: InboundMessage, now: datetime
) -> Conversation:
    conversation = await session.scalar(
        select(Conversation)
        .where(
            Conversation.channel == inbound.key.channel,
            Conversation.address == inbound.key.address,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if conversation is not None:
        if conversation.debtor_id is None:
            await _link(session, conversation)
        return conversation
    conversation = Conversation(
        channel=inbound.key.channel, address=inbound.key.address, ownership=Ownership.BOT,
        started_at=now, last_message_at=now,
    )
    await _link(session, conversation)
    session.add(conversation)
    await session.flush()
    return conversation


async def _link(session: AsyncSession, conversation: Conversation) -> None:
    """Attach the debtor and their most pressing account when the address is known."""
    debtor_id, account_id = await resolve_address(session, conversation.channel,
                                                  conversation.address)
    conversation.debtor_id = debtor_id
    conversation.account_id = account_id


async def resolve_address(
    session: AsyncSession, channel: str, address: str
) -> tuple[int | None, int | None]:
    """(debtor id, account id) for a channel address, or (None, None) when unknown."""
    if channel == Channel.WEB.value and address.startswith("account:"):
        account = await session.get(Account, int(address.split(":", 1)[1]))
        return (account.debtor_id, account.id) if account else (None, None)
    channels = PHONE_CHANNELS if channel in PHONE_CHANNELS else (channel,)
    debtor_id = await session.scalar(
        select(ContactPoint.debtor_id)
        .where(ContactPoint.channel.in_(channels), ContactPoint.address == address)
        .order_by(ContactPoint.id)
        .limit(1)
    )
    if debtor_id is None:
        return None, None
    account_id = await session.scalar(
        select(Account.id)
        .where(Account.debtor_id == debtor_id, Account.status == AccountStatus.ACTIVE)
        .order_by(Account.current_balance.desc(), Account.id)
        .limit(1)
    )
    return debtor_id, account_id

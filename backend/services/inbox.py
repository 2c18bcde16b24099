"""Storing an inbound message first: dedupe, link it to a debtor, find its conversation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation, Message
from backend.db.models.enums import AccountStatus, Channel, DeliveryStatus, Direction, Ownership
from backend.services import message_feed
from backend.services.compliance.card_data import redact_card_data
from backend.services.row_locks import ADDRESS_LOCK
from bot.messages import InboundMessage

PHONE_CHANNELS = (Channel.SMS.value, Channel.WHATSAPP.value)
log = logging.getLogger(__name__)


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
    """Persist `inbound` once (unique per channel + provider id) in the caller's transaction.

    The insert itself is the dedupe (ON CONFLICT DO NOTHING): a first delivery, the common
    case, costs no lookup; a repeated one finds the conversation its first delivery made.
    Card numbers, security codes and SSNs the debtor typed are never stored (PCI DSS).
    """
    redacted = redact_card_data(inbound.text)
    conversation = await _conversation_for(session, inbound, now)
    message_id = await session.scalar(_insert_once(session.get_bind().dialect.name), {
        "conversation_id": conversation.id, "direction": Direction.INBOUND,
        "channel": inbound.key.channel, "provider_message_id": inbound.provider_message_id,
        "sender": "debtor", "text": redacted.text, "choice_value": _choice_value(inbound),
        "delivery_status": DeliveryStatus.RECEIVED,
        "created_at": now,
        "attachments": [{"url": a.url, "content_type": a.content_type}
                        for a in inbound.attachments] or None,
    })
    if message_id is None:
        # Delivered before, or a concurrent delivery of it won the race (whose conversation
        # `_conversation_for` found, so none was opened for nothing).
        duplicate = await _existing(session, inbound)
        if duplicate is None:
            raise LookupError(f"message {inbound.provider_message_id} conflicted but is absent")
        return duplicate
    if redacted.kinds:
        log.info("message %s: card data removed (%s)", message_id, ", ".join(redacted.kinds))
    conversation.last_message_at = now
    message_feed.announce(session, message_feed.message_event(
        message_id, conversation.id, Direction.INBOUND, DeliveryStatus.RECEIVED))
    return StoredInbound(
        message_id, conversation.id, conversation.debtor_id, conversation.account_id, False
    )


def _choice_value(inbound: InboundMessage) -> str | None:
    """The pressed button's data, kept to the column's width (a provider's payload is ours)."""
    value = inbound.choice_value
    return value[:64] if value else None


@cache
def _insert_once(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: a duplicate costs no savepoint."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    columns = ("conversation_id", "direction", "channel", "provider_message_id", "sender",
               "text", "choice_value", "delivery_status", "created_at", "attachments")
    return (insert(Message).values({c: bindparam(c) for c in columns})
            .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
            .returning(Message.id))


_LATEST_CONVERSATION = (
    select(Conversation)
    .where(Conversation.channel == bindparam("channel"),
           Conversation.address == bindparam("address"))
    .order_by(Conversation.id.desc()).limit(1)
)
_FIRST_CONVERSATION = _LATEST_CONVERSATION.order_by(None).order_by(Conversation.id)


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
    """The address's conversation, opened once even when its first messages come at once."""
    key = {"channel": inbound.key.channel, "address": inbound.key.address}
    conversation = await session.scalar(_LATEST_CONVERSATION, key)
    postgres = session.get_bind().dialect.name == "postgresql"
    if conversation is None and postgres:
        # A new address's first messages may arrive at once (two texts, or one delivered
        # twice): one transaction at a time may open its conversation; the next one finds it.
        await session.execute(ADDRESS_LOCK, key)
        conversation = await session.scalar(_LATEST_CONVERSATION, key)
    if conversation is not None:
        if conversation.account_id is None:  # the address may have reached an account since
            await _link(session, conversation)
        return conversation
    conversation = Conversation(
        channel=inbound.key.channel, address=inbound.key.address, ownership=Ownership.BOT,
        started_at=now, last_message_at=now,
    )
    await _link(session, conversation)
    session.add(conversation)
    await session.flush()
    return conversation if postgres else await _first_opened(session, conversation, key)


async def _first_opened(session: AsyncSession, ours: Conversation, key: dict[str, str]
                        ) -> Conversation:
    """SQLite's answer to the race above: our insert waited for the write lock, so a
    concurrent writer's conversation is visible now; the first one opened wins."""
    first = await session.scalar(_FIRST_CONVERSATION, key)
    if first is None or first.id == ours.id:
        return ours
    await session.delete(ours)
    await session.flush()
    return first


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
        # "account:N", or a portal browser's "account:N:session:<digest>".
        account = await session.get(Account, int(address.split(":")[1]))
        return (account.debtor_id, account.id) if account else (None, None)
    channels = PHONE_CHANNELS if channel in PHONE_CHANNELS else (channel,)
    # A debtor with an account comes first: an opt-out kept for an address nobody held yet
    # sits on an account-less placeholder (compliance/consent.py), not on who holds it now.
    holds_accounts = exists().where(Account.debtor_id == ContactPoint.debtor_id)
    debtor_id = await session.scalar(
        select(ContactPoint.debtor_id)
        .where(ContactPoint.channel.in_(channels), ContactPoint.address == address)
        .order_by(case((holds_accounts, 0), else_=1), ContactPoint.id)
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

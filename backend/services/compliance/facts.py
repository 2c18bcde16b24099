"""Everything the gate needs to know about a recipient, read in one place from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation, Debtor, Message
from backend.db.models.enums import Direction
from backend.db.types import UtcDateTime
from backend.services.compliance.rules import ComplianceRules
from backend.services.geo import phone_timezones
from bot.messages import OutboundMessage, Purpose

# Attempts count as communications too (Reg F "communication or attempt"); held ones do not.
COUNTED = ("pending", "queued", "sent", "delivered", "read", "failed", "undelivered")
PHONE_CHANNELS = ("sms", "whatsapp")


@dataclass(frozen=True)
class SentRecord:
    """One outbound message already let through."""

    at: datetime
    purpose: str
    conversation_id: int


@dataclass(frozen=True)
class ContactState:
    """The address's consent state on this channel (merged over every debtor that has it)."""

    opted_out_at: datetime | None
    consent: bool
    wrong_party: bool


@dataclass(frozen=True)
class GateFacts:
    """A snapshot of the recipient, the account and recent traffic."""

    stop_states: frozenset[str] = frozenset()
    zones: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    contact: ContactState | None = None
    conversation_id: int | None = None
    latest_inbound_id: int | None = None
    latest_inbound_at: datetime | None = None
    recent: tuple[SentRecord, ...] = ()
    confirmations_at: tuple[datetime, ...] = ()
    stop_acks: int = 0
    acknowledgements: tuple[SentRecord, ...] = ()  # every stop acknowledgement, of any age


async def load_facts(
    session: AsyncSession,
    outbound: OutboundMessage,
    conversation_id: int | None,
    now: datetime,
    rules: ComplianceRules,
    exclude_id: int | None = None,
) -> GateFacts:
    """Read the facts for `outbound` (excluding the message row `exclude_id` itself)."""
    account = await session.get(Account, outbound.account_id) if outbound.account_id else None
    debtor = await session.get(Debtor, account.debtor_id) if account else None
    contact, inbound, outbound_rows = await _read(session, outbound, account, conversation_id,
                                                  now, rules, exclude_id)
    return GateFacts(
        stop_states=frozenset(account.stop_states) if account else frozenset(),
        zones=_zones(outbound, debtor, rules),
        regions=(debtor.region.upper(),) if debtor and debtor.region else (),
        contact=contact,
        conversation_id=conversation_id,
        latest_inbound_id=inbound[0] if inbound else None,
        latest_inbound_at=inbound[1] if inbound else None,
        recent=tuple(r for r in outbound_rows if r.at >= now - rules.cap_window),
        confirmations_at=tuple(r.at for r in outbound_rows
                               if r.purpose == Purpose.OPT_OUT_CONFIRMATION),
        stop_acks=sum(1 for r in outbound_rows if r.purpose == Purpose.STOP_ACKNOWLEDGEMENT),
        acknowledgements=tuple(r for r in outbound_rows
                               if r.purpose == Purpose.STOP_ACKNOWLEDGEMENT),
    )


def _zones(outbound: OutboundMessage, debtor: Debtor | None, rules: ComplianceRules
           ) -> tuple[str, ...]:
    zones = [debtor.timezone] if debtor and debtor.timezone else []
    if outbound.key.channel in PHONE_CHANNELS:
        from_phone = phone_timezones(outbound.key.address)
        # A prefix spanning a whole country is no location signal (compliance.md A.1 item 3).
        if 0 < len(from_phone) <= rules.max_phone_zones:
            zones.extend(from_phone)
    return tuple(dict.fromkeys(zones))


async def _read(
    session: AsyncSession, outbound: OutboundMessage, account: Account | None,
    conversation_id: int | None, now: datetime, rules: ComplianceRules, exclude_id: int | None,
) -> tuple[ContactState | None, tuple[int, datetime] | None, list[SentRecord]]:
    """The address's merged contact state, its latest inbound and the counted outbound rows.

    One statement: the one-row recipient part, outer-joined to every outbound row (or to none).
    """
    rows = (await session.execute(
        _facts_query(account is not None, conversation_id is not None),
        {"channel": outbound.key.channel, "address": outbound.key.address,
         "account_id": account.id if account else None, "conversation_id": conversation_id,
         "exclude_id": exclude_id or -1, "since": now - rules.cap_window})).all()
    count, opted_out_at, consent, wrong_party, inbound_id, inbound_at = rows[0][:6]
    contact = None if not count else ContactState(
        opted_out_at=opted_out_at, consent=bool(consent), wrong_party=bool(wrong_party))
    inbound = (inbound_id, inbound_at) if inbound_id is not None else None
    sent = [SentRecord(at, intent or "", conv) for *_, at, intent, conv in rows if at is not None]
    return contact, inbound, sent


# Statements are built once (with bound parameters) so a gate decision does not pay for
# constructing and cache-keying them again on every message.
_CHANNEL: BindParameter[str] = bindparam("channel")
_ADDRESS: BindParameter[str] = bindparam("address")
_LATEST_INBOUND = (
    select(Message.id, Message.created_at)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(Conversation.channel == _CHANNEL, Conversation.address == _ADDRESS,
           Message.direction == Direction.INBOUND)
    .order_by(Message.id.desc()).limit(1)
).subquery()
_CONTACT_AND_INBOUND = select(
    func.count(ContactPoint.id), func.max(ContactPoint.opted_out_at),
    func.min(case((ContactPoint.consent, 1), else_=0)),
    func.max(case((ContactPoint.wrong_party, 1), else_=0)),
    select(_LATEST_INBOUND.c.id).scalar_subquery(),
    select(_LATEST_INBOUND.c.created_at).scalar_subquery(),
).where(ContactPoint.channel == _CHANNEL, ContactPoint.address == _ADDRESS)
_LONG_LIVED = (Purpose.OPT_OUT_CONFIRMATION.value, Purpose.STOP_ACKNOWLEDGEMENT.value)


@cache
def _outbound_query(
    by_account: bool, by_conversation: bool
) -> Select[datetime, str | None, int]:
    """Outbound rows to this address, or on this account and channel, or in this conversation."""
    scope = [and_(Conversation.channel == _CHANNEL, Conversation.address == _ADDRESS)]
    if by_account:
        scope.append(and_(Conversation.account_id == bindparam("account_id"),
                          Message.channel == _CHANNEL))
    if by_conversation:
        scope.append(Message.conversation_id == bindparam("conversation_id"))
    return (
        select(Message.created_at, Message.intent, Message.conversation_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == Direction.OUTBOUND, Message.delivery_status.in_(COUNTED),
               Message.id != bindparam("exclude_id"), or_(*scope),
               or_(Message.created_at >= bindparam("since", type_=UtcDateTime),
                   Message.intent.in_(_LONG_LIVED)))
    )


@cache
def _facts_query(by_account: bool, by_conversation: bool) -> Select[Any]:
    recipient = _CONTACT_AND_INBOUND.subquery("recipient")
    sent = _outbound_query(by_account, by_conversation).subquery("sent")
    return select(recipient, sent).select_from(recipient.outerjoin(sent, true()))

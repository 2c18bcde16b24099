"""Everything the gate needs to know about a recipient, read in one place from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation, Debtor, Message
from backend.db.models.enums import Direction
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
    inbound = await _latest_inbound(session, outbound)
    outbound_rows = await _outbound_rows(session, outbound, account, conversation_id, now,
                                         rules, exclude_id)
    return GateFacts(
        stop_states=frozenset(account.stop_states) if account else frozenset(),
        zones=_zones(outbound, debtor, rules),
        regions=(debtor.region.upper(),) if debtor and debtor.region else (),
        contact=await _contact(session, outbound),
        conversation_id=conversation_id,
        latest_inbound_id=inbound[0] if inbound else None,
        latest_inbound_at=inbound[1] if inbound else None,
        recent=tuple(r for r in outbound_rows if r.at >= now - rules.cap_window),
        confirmations_at=tuple(r.at for r in outbound_rows
                               if r.purpose == Purpose.OPT_OUT_CONFIRMATION),
        stop_acks=sum(1 for r in outbound_rows if r.purpose == Purpose.STOP_ACKNOWLEDGEMENT),
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


async def _contact(session: AsyncSession, outbound: OutboundMessage) -> ContactState | None:
    rows = (await session.scalars(select(ContactPoint).where(
        ContactPoint.channel == outbound.key.channel,
        ContactPoint.address == outbound.key.address,
    ))).all()
    if not rows:
        return None
    opted = [r.opted_out_at for r in rows if r.opted_out_at is not None]
    return ContactState(
        opted_out_at=max(opted) if opted else None,
        consent=all(r.consent for r in rows),
        wrong_party=any(r.wrong_party for r in rows),
    )


async def _latest_inbound(session: AsyncSession, outbound: OutboundMessage
                          ) -> tuple[int, datetime] | None:
    row = (await session.execute(
        select(Message.id, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.channel == outbound.key.channel,
               Conversation.address == outbound.key.address,
               Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc()).limit(1)
    )).first()
    return (row[0], row[1]) if row else None


async def _outbound_rows(
    session: AsyncSession, outbound: OutboundMessage, account: Account | None,
    conversation_id: int | None, now: datetime, rules: ComplianceRules, exclude_id: int | None,
) -> list[SentRecord]:
    scope = [and_(Conversation.channel == outbound.key.channel,
                  Conversation.address == outbound.key.address)]
    if account is not None:
        scope.append(and_(Conversation.account_id == account.id,
                          Message.channel == outbound.key.channel))
    if conversation_id is not None:
        scope.append(Message.conversation_id == conversation_id)
    long_lived = (Purpose.OPT_OUT_CONFIRMATION.value, Purpose.STOP_ACKNOWLEDGEMENT.value)
    rows = await session.execute(
        select(Message.created_at, Message.intent, Message.conversation_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == Direction.OUTBOUND, Message.delivery_status.in_(COUNTED),
               Message.id != (exclude_id or -1), or_(*scope),
               or_(Message.created_at >= now - rules.cap_window, Message.intent.in_(long_lived)))
    )
    return [SentRecord(at, intent or "", conv) for at, intent, conv in rows]

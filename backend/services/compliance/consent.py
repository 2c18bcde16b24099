"""Recording an opt-out on a contact point (from a keyword, a provider error or a block), and
the debtor's own START that lifts it and gives consent on its channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Conversation, Debtor
from backend.services import audit
from backend.services.compliance.facts import RESUMED_ELSEWHERE
from backend.services.compliance.service import mask
from backend.services.geo import DEFAULT_TIMEZONE
from bot.messages import ConversationKey

# Who holds an opted-out address no debtor has yet. Its contact point keeps the opt-out
# where the gate and the turn already look (every contact point of the channel and address,
# whichever debtor's), so an account imported later with that number is suppressed too,
# until the address itself says START.
UNKNOWN_HOLDER = "(unknown holder of an opted-out address)"
# "Reply STOP to stop messages to this number" (compliance.md A.3 item 12) must be true: a
# WhatsApp message goes to the same number, so an SMS opt-out stops it too; and "ya no me
# escriban" on WhatsApp revokes consent for the number, not for one app (items 13, 14, 43;
# C item 46, revoke-all). The gate also reads the other channel's opt-out at send time, so a
# contact point created afterwards is held too (facts.OTHER_PHONE_CHANNEL). START lifts only
# the channel it is sent on: the other channel stays held until its own START.
SAME_NUMBER = {"sms": ("whatsapp",), "whatsapp": ("sms",)}
# The address's opt-out and opt-in events must stay attributable after START removes an
# unknown holder (compliance.md item 29): its contact point and debtor rows are deleted and
# their ids may be reused (SQLite), so the events name the address's latest conversation
# (conversations are kept, and hold the channel and address) and the known debtors, never
# the unknown holder's rows. The removal itself leaves this event as the point's tombstone.
UNKNOWN_HOLDER_REMOVED = "contact.unknown_holder_removed"


async def record_opt_out(
    session: AsyncSession, key: ConversationKey, reason: str, now: datetime
) -> int:
    """Opt the address out on its channel for every debtor holding it; returns how many rows.

    An address no contact point holds yet is still suppressed: a contact point is created for
    the debtor of its latest conversation, or for an unknown holder when no conversation has
    one (compliance.md C item 51: by address; A.3 items 13-15, C item 44: honoured at once).
    """
    rows = await _points_at(session, key)
    if not rows:
        rows = await _create_for_conversation(session, key, now) or [
            await _create_for_unknown_holder(session, key, now)
        ]
    await _opt_out_rows(session, rows, key, reason, now)
    for channel in SAME_NUMBER.get(key.channel, ()):
        await _opt_out_same_number(
            session, ConversationKey(channel, key.address), reason, now, source=key.channel
        )
    return len(rows)


async def _opt_out_rows(
    session: AsyncSession,
    rows: Sequence[ContactPoint],
    key: ConversationKey,
    reason: str,
    now: datetime,
    **extra: str,
) -> None:
    for row in rows:
        if row.opted_out_at is None:
            row.opted_out_at = now
            row.opt_out_reason = reason[:200]
        elif _resumed_elsewhere(row):
            # Stopped again: the opt-out holds the number's other channel again.
            row.opt_out_reason = reason[:200]
    await _record_address_event(
        session, "contact.opted_out", key, rows, now, {"reason": reason, **extra}
    )


async def _opt_out_same_number(
    session: AsyncSession, key: ConversationKey, reason: str, now: datetime, *, source: str
) -> None:
    """Opt out the contact points of the same number on `key`'s channel, audited as such."""
    rows = await _points_at(session, key)
    if rows:
        await _opt_out_rows(session, rows, key, reason, now, same_number_as=source)


async def _points_at(session: AsyncSession, key: ConversationKey) -> Sequence[ContactPoint]:
    return (
        await session.scalars(
            select(ContactPoint).where(
                ContactPoint.channel == key.channel, ContactPoint.address == key.address
            )
        )
    ).all()


def _resumed_elsewhere(row: ContactPoint) -> bool:
    return (row.opt_out_reason or "").startswith(RESUMED_ELSEWHERE)


def _latest_extending_opt_out(rows: Sequence[ContactPoint]) -> datetime | None:
    """When the lifted opt-outs that still held the number's other channel began, if any."""
    return max(
        (
            row.opted_out_at
            for row in rows
            if row.opted_out_at is not None and not _resumed_elsewhere(row)
        ),
        default=None,
    )


async def _keep_holding(
    session: AsyncSession, key: ConversationKey, since: datetime, now: datetime, *, source: str
) -> None:
    """The other channel's points the lifted opt-out held only at send time (created after
    it) keep it, as the points that existed then do: START lifts only its own channel."""
    rows = (
        await session.scalars(
            select(ContactPoint).where(
                ContactPoint.channel == key.channel,
                ContactPoint.address == key.address,
                ContactPoint.opted_out_at.is_(None),
            )
        )
    ).all()
    for row in rows:
        row.opted_out_at, row.opt_out_reason = since, f"same number as {source}"
    if rows:
        await _record_address_event(
            session,
            "contact.opted_out",
            key,
            rows,
            now,
            {"reason": "kept after START", "same_number_as": source},
        )


async def _stop_extending(session: AsyncSession, key: ConversationKey) -> None:
    """The START's channel is no longer held by the other channel's opt-outs (each still
    holds its own channel until that channel's START)."""
    rows = (
        await session.scalars(
            select(ContactPoint).where(
                ContactPoint.channel == key.channel,
                ContactPoint.address == key.address,
                ContactPoint.opted_out_at.is_not(None),
            )
        )
    ).all()
    for row in rows:
        if not _resumed_elsewhere(row):
            row.opt_out_reason = f"{RESUMED_ELSEWHERE}{row.opt_out_reason or ''}"[:200]


async def _create_for_conversation(
    session: AsyncSession, key: ConversationKey, now: datetime
) -> list[ContactPoint]:
    debtor_id = await session.scalar(
        select(Conversation.debtor_id)
        .where(
            Conversation.channel == key.channel,
            Conversation.address == key.address,
            Conversation.debtor_id.is_not(None),
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if debtor_id is None:
        return []
    contact = ContactPoint(
        debtor_id=debtor_id, channel=key.channel, address=key.address, consent=False, created_at=now
    )
    session.add(contact)
    await session.flush()
    return [contact]


async def _create_for_unknown_holder(
    session: AsyncSession, key: ConversationKey, now: datetime
) -> ContactPoint:
    holder = Debtor(full_name=UNKNOWN_HOLDER, timezone=DEFAULT_TIMEZONE, created_at=now)
    contact = ContactPoint(
        debtor=holder, channel=key.channel, address=key.address, consent=False, created_at=now
    )
    session.add_all([holder, contact])
    await session.flush()
    return contact


def _unknown_holder() -> ColumnElement[bool]:
    """The debtor is an unknown holder: created for an opted-out address, with no account."""
    return (Debtor.full_name == UNKNOWN_HOLDER) & ~exists().where(Account.debtor_id == Debtor.id)


async def _known_debtors(session: AsyncSession, rows: Sequence[ContactPoint]) -> list[int]:
    """The debtors of `rows` other than unknown holders, whose rows START never removes."""
    debtor_ids = sorted({row.debtor_id for row in rows})
    if not debtor_ids:
        return []
    unknown = set(
        await session.scalars(select(Debtor.id).where(Debtor.id.in_(debtor_ids), _unknown_holder()))
    )
    return [debtor_id for debtor_id in debtor_ids if debtor_id not in unknown]


async def _latest_conversation(session: AsyncSession, key: ConversationKey) -> int | None:
    conversation_id: int | None = await session.scalar(
        select(Conversation.id)
        .where(Conversation.channel == key.channel, Conversation.address == key.address)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return conversation_id


def _subject(
    kept: Sequence[ContactPoint], rows: Sequence[ContactPoint], conversation_id: int | None
) -> tuple[str, int | None]:
    if kept:
        return "contact_point", kept[0].id
    if conversation_id is not None:
        return "conversation", conversation_id
    return "contact_point", rows[0].id if rows else None


async def _record_address_event(
    session: AsyncSession,
    action: str,
    key: ConversationKey,
    rows: Sequence[ContactPoint],
    now: datetime,
    data: Mapping[str, Any],
) -> None:
    """Audit `action` on the address: about a known debtor's contact point, else about the
    address's conversation, with both named in the data (see UNKNOWN_HOLDER_REMOVED)."""
    debtor_ids = await _known_debtors(session, rows)
    conversation_id = await _latest_conversation(session, key)
    subject_type, subject_id = _subject(
        [row for row in rows if row.debtor_id in debtor_ids], rows, conversation_id
    )
    await audit.record(
        session,
        occurred_at=now,
        actor="channel",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data={
            "channel": key.channel,
            "address": mask(key.address),
            "conversation_id": conversation_id,
            "debtor_ids": debtor_ids,
            **data,
        },
    )


async def _forget_unknown_holders(
    session: AsyncSession, key: ConversationKey, lifted: Mapping[int, datetime], now: datetime
) -> None:
    """The address opted back in: its unknown holder has nothing left to keep, and the
    address's conversations may link to the debtor who really holds it.

    Deleted, not kept: a kept point would make the holder a second person at the address
    once a real account is imported with it. Each removed point leaves a tombstone event.
    """
    holders = (
        await session.scalars(
            select(Debtor.id)
            .join(ContactPoint, ContactPoint.debtor_id == Debtor.id)
            .where(
                ContactPoint.channel == key.channel,
                ContactPoint.address == key.address,
                _unknown_holder(),
            )
        )
    ).all()
    conversation_id = await _latest_conversation(session, key) if holders else None
    for holder_id in holders:
        points = await session.scalars(
            select(ContactPoint).where(ContactPoint.debtor_id == holder_id)
        )
        for point in points.all():
            await _record_removal(session, point, lifted.get(point.id), conversation_id, now)
        await session.execute(
            update(Conversation)
            .where(Conversation.debtor_id == holder_id)
            .values(debtor_id=None, account_id=None)
        )
        await session.execute(delete(ContactPoint).where(ContactPoint.debtor_id == holder_id))
        await session.execute(delete(Debtor).where(Debtor.id == holder_id))


async def _record_removal(
    session: AsyncSession,
    point: ContactPoint,
    opted_out_at: datetime | None,
    conversation_id: int | None,
    now: datetime,
) -> None:
    """The tombstone of an unknown holder's contact point: what it recorded, and that its
    ids no longer name it (they may be reused)."""
    await audit.record(
        session,
        occurred_at=now,
        actor="channel",
        action=UNKNOWN_HOLDER_REMOVED,
        subject_type="conversation" if conversation_id is not None else "contact_point",
        subject_id=conversation_id if conversation_id is not None else point.id,
        data={
            "channel": point.channel,
            "address": mask(point.address),
            "conversation_id": conversation_id,
            "contact_point_id": point.id,
            "debtor_id": point.debtor_id,
            "created_at": point.created_at.isoformat(),
            "opted_out_at": opted_out_at.isoformat() if opted_out_at else None,
            "reason": "opted back in",
        },
    )


async def _record_consent(session: AsyncSession, key: ConversationKey) -> None:
    """Every contact point of the address on its channel has the holder's consent now, those
    an opt-out created without one too (compliance.md C item 42: consumer-provided)."""
    await session.execute(
        update(ContactPoint)
        .where(
            ContactPoint.channel == key.channel,
            ContactPoint.address == key.address,
            ContactPoint.consent.is_(False),
        )
        .values(consent=True)
    )


async def record_opt_in(
    session: AsyncSession, key: ConversationKey, keyword: str, now: datetime
) -> int:
    """Lift the address's opt-out because its holder asked to resume (START, UNSTOP), and
    record the consent on its channel.

    compliance.md C item 50 (d): only the consumer's clear request re-enables messages, and it
    is logged as new consent; stop-states (cease, dispute, attorney …) are not touched. The
    consent is the number's on this channel only (items 13-14: per address and medium): the
    same number's other channel keeps its own.
    """
    rows = (
        await session.scalars(
            select(ContactPoint).where(
                ContactPoint.channel == key.channel,
                ContactPoint.address == key.address,
                ContactPoint.opted_out_at.is_not(None),
            )
        )
    ).all()
    held_since = _latest_extending_opt_out(rows)
    lifted = {row.id: row.opted_out_at for row in rows if row.opted_out_at is not None}
    for row in rows:
        row.opted_out_at = None
        row.opt_out_reason = None
    await _record_consent(session, key)
    for channel in SAME_NUMBER.get(key.channel, ()):
        other = ConversationKey(channel, key.address)
        if held_since is not None:
            await _keep_holding(session, other, held_since, now, source=key.channel)
        await _stop_extending(session, other)
    # About every point of the address: the consent is recorded on each (a debtor whose
    # account was imported after the STOP holds one that was never opted out).
    holding = await _points_at(session, key)
    await _record_address_event(
        session, "contact.opted_in", key, holding, now, {"keyword": keyword}
    )
    await _forget_unknown_holders(session, key, lifted, now)
    return len(rows)

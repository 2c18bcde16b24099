"""The hash-chained audit log: append an event, and verify that nothing was altered."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, false, insert, or_, select, text
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backend.db.models import (
    Account,
    AuditEvent,
    ContactPoint,
    Conversation,
    IntentCorrection,
    Message,
    PlannedContact,
)

GENESIS_HASH = "0" * 64
# An arbitrary constant key for pg_advisory_xact_lock: one chain, one writer at a time.
_PG_LOCK_KEY = 0x5041524C4559
_PENDING = "parley_audit_pending"


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    """The SHA-256 that seals `event` onto the chain after `prev_hash`."""
    body = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "data": event.data,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Queue one event on the caller's transaction; it is chained and written at commit."""
    event = AuditEvent(
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        data=json.loads(json.dumps(data or {}, default=str)),
        prev_hash=GENESIS_HASH,
        hash=f"pending-{uuid.uuid4().hex}",
    )
    session.sync_session.info.setdefault(_PENDING, []).append(event)
    return event


def _seal_pending(session: Session) -> None:
    """Chain and insert the transaction's queued events, holding the chain lock briefly.

    Sealing at commit keeps the lock for one insert and the commit itself, instead of for
    the whole turn or request, so concurrent transactions only queue for that moment.
    """
    events: list[AuditEvent] = session.info.pop(_PENDING, [])
    if not events:
        return
    if session.get_bind().dialect.name == "postgresql":
        _seal_postgresql(session, events)
        return
    # Inserting first also takes SQLite's single write lock before the predecessor is read.
    session.add_all(events)
    session.flush()
    previous = session.scalar(
        select(AuditEvent.hash)
        .where(AuditEvent.id < events[0].id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    _chain(previous or GENESIS_HASH, events)
    session.flush()


def _seal_postgresql(session: Session, events: list[AuditEvent]) -> None:
    # Every chain writer holds this lock from before it reads the head until it commits, so the
    # head read here is the last committed event and the ids drawn after it are larger.
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    previous = session.scalar(_CHAIN_HEAD)
    _chain(previous or GENESIS_HASH, events)
    # A plain executemany: the events are final here, so no unit of work needs to track them.
    session.connection().execute(_INSERT_EVENTS, [_row(e) for e in events])


def _row(event: AuditEvent) -> dict[str, Any]:
    return {c: getattr(event, c) for c in _COLUMNS}


_COLUMNS = ("occurred_at", "actor", "action", "subject_type", "subject_id", "data", "prev_hash",
            "hash")
_INSERT_EVENTS = insert(AuditEvent)
_CHAIN_HEAD = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


def _chain(prev: str, events: list[AuditEvent]) -> None:
    for event in events:
        event.prev_hash, event.hash = prev, event_hash(prev, event)
        prev = event.hash


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


orm_event.listen(Session, "before_commit", _seal_pending)
orm_event.listen(Session, "after_rollback", _drop_pending)


@dataclass(frozen=True)
class ChainBreak:
    """Where and why the chain does not verify."""

    event_id: int
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the whole chain."""

    checked: int
    breaks: tuple[ChainBreak, ...]

    @property
    def ok(self) -> bool:
        """True when every event verifies."""
        return not self.breaks


async def verify(session: AsyncSession) -> VerifyResult:
    """Recompute every hash in order; report each event whose link or content changed."""
    prev = GENESIS_HASH
    breaks: list[ChainBreak] = []
    checked = 0
    async for event in _events_in_order(session):
        checked += 1
        if event.prev_hash != prev:
            breaks.append(
                ChainBreak(event.id, "previous hash does not match (event removed or reordered)")
            )
        if event.hash != event_hash(event.prev_hash, event):
            breaks.append(ChainBreak(event.id, "content changed after it was recorded"))
        prev = event.hash
    return VerifyResult(checked=checked, breaks=tuple(breaks))


async def _events_in_order(session: AsyncSession) -> AsyncIterator[AuditEvent]:
    result = await session.stream_scalars(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    )
    async for event in result:
        yield event


# Subject ids by subject type: a query selecting them as text (as `record` stores them), or a list.
Subjects = Mapping[str, Select[Any] | Sequence[str]]


def about(subjects: Subjects) -> ColumnElement[bool]:
    """A filter for the events whose subject is one of `subjects`."""
    return or_(
        false(),
        *(
            (AuditEvent.subject_type == kind) & AuditEvent.subject_id.in_(ids)
            for kind, ids in subjects.items()
        ),
    )


def account_subjects(account: Account) -> dict[str, Select[Any] | Sequence[str]]:
    """Every subject an event about `account` names: the account, its debtor and the debtor's
    contact points, its conversations (and the debtor's tied to no account), their messages
    and intent corrections, and the account's planned contacts."""
    conversations = select(Conversation.id).where(
        (Conversation.account_id == account.id)
        | (Conversation.account_id.is_(None) & (Conversation.debtor_id == account.debtor_id))
    )
    messages = select(Message.id).where(Message.conversation_id.in_(conversations))
    return {
        "account": [str(account.id)],
        "debtor": [str(account.debtor_id)],
        "contact_point": subject_ids(ContactPoint.id, ContactPoint.debtor_id == account.debtor_id),
        "conversation": subject_ids(Conversation.id, Conversation.id.in_(conversations)),
        "message": subject_ids(Message.id, Message.id.in_(messages)),
        "intent_correction": subject_ids(
            IntentCorrection.id, IntentCorrection.message_id.in_(messages)
        ),
        "planned_contact": subject_ids(PlannedContact.id, PlannedContact.account_id == account.id),
    }


def subject_ids(column: Any, where: ColumnElement[bool]) -> Select[Any]:
    """The ids in `column` of the rows matching `where`, as text (as subjects are stored)."""
    return select(cast(column, String)).where(where)


async def events_about(
    session: AsyncSession, subjects: Subjects, *, after_id: int = 0, limit: int | None = None
) -> list[AuditEvent]:
    """The events about `subjects` after `after_id`, oldest first (at most `limit`)."""
    query = (
        select(AuditEvent).where(about(subjects), AuditEvent.id > after_id).order_by(AuditEvent.id)
    )
    return list(await session.scalars(query if limit is None else query.limit(limit)))

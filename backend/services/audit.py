"""The hash-chained audit log: append an event, and verify that nothing was altered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import AuditEvent

GENESIS_HASH = "0" * 64
# An arbitrary constant key for pg_advisory_xact_lock: one chain, one writer at a time.
_PG_LOCK_KEY = 0x5041524C4559


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
    """Append one event inside the caller's transaction (committed with it)."""
    event = AuditEvent(
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        data=json.loads(json.dumps(data or {}, default=str)),
        prev_hash=GENESIS_HASH,
        hash=f"pending-{id(object())}",
    )
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    # Inserting first takes SQLite's write lock, so the predecessor read next cannot change
    # under us until this transaction commits.
    session.add(event)
    await session.flush()
    previous = await session.scalar(
        select(AuditEvent.hash)
        .where(AuditEvent.id < event.id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    event.prev_hash = previous or GENESIS_HASH
    event.hash = event_hash(event.prev_hash, event)
    await session.execute(
        update(AuditEvent)
        .where(AuditEvent.id == event.id)
        .values(prev_hash=event.prev_hash, hash=event.hash)
        .execution_options(synchronize_session=False)
    )
    return event


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

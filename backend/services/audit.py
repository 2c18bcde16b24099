"""The hash-chained audit log: append an event, and verify that nothing was altered."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, false, insert, or_, select, text
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
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
from bot.channels.rendering import numbered
from bot.messages import Choice

log = logging.getLogger(__name__)

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


_COLUMNS = (
    "occurred_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "data",
    "prev_hash",
    "hash",
)
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


def text_digest(text: str) -> str:
    """The SHA-256 (hex) that evidences a message's text in the chain, whitespace collapsed.

    A channel that splits a long message into parts only moves whitespace; collapsing it
    keeps the digest of what was decided equal to the digest of what was sent.
    """
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """An event's id and hash, kept outside the database to compare the chain with later."""

    event_id: int
    hash: str

    @classmethod
    def parse(cls, value: str) -> Checkpoint:
        """`<event id>:<hash>`, as `parley audit verify` prints the head; ValueError if not."""
        event_id, _, digest = value.strip().partition(":")
        if not (event_id.isdecimal() and _HEX64.fullmatch(digest)):
            raise ValueError(f"{value!r} is not <event id>:<64 hex digits>")
        return cls(int(event_id), digest.lower())


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


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
    head: Checkpoint | None = None  # the last event walked (None: the chain is empty)

    @property
    def ok(self) -> bool:
        """True when every event verifies."""
        return not self.breaks


async def verify(session: AsyncSession, expect: Sequence[Checkpoint] = ()) -> VerifyResult:
    """Recompute every hash in order; report each event whose link or content changed, and
    each checkpoint in `expect` the chain no longer holds (removed, rewritten or cut off)."""
    prev = GENESIS_HASH
    breaks: list[ChainBreak] = []
    checked = 0
    last_id: int | None = None
    wanted = {c.event_id for c in expect}
    found: dict[int, str] = {}
    async for event in _events_in_order(session):
        checked += 1
        if event.prev_hash != prev:
            breaks.append(
                ChainBreak(event.id, "previous hash does not match (event removed or reordered)")
            )
        if event.hash != event_hash(event.prev_hash, event):
            breaks.append(ChainBreak(event.id, "content changed after it was recorded"))
        if event.id in wanted:
            found[event.id] = event.hash
        prev, last_id = event.hash, event.id
    head = None if last_id is None else Checkpoint(last_id, prev)
    breaks.extend(_checkpoint_breaks(expect, found, head))
    return VerifyResult(checked=checked, breaks=tuple(breaks), head=head)


def _checkpoint_breaks(
    expect: Sequence[Checkpoint], found: Mapping[int, str], head: Checkpoint | None
) -> Iterator[ChainBreak]:
    for checkpoint in expect:
        stored = found.get(checkpoint.event_id)
        if stored == checkpoint.hash:
            continue
        if stored is not None:
            reason = "hash differs from the checkpoint (the chain was rewritten up to here)"
        elif head is None or checkpoint.event_id > head.event_id:
            last = "no event" if head is None else f"event {head.event_id}"
            reason = f"the chain ends at {last}, before this checkpoint (its tail was cut)"
        else:
            reason = "missing: the checkpoint's event was removed"
        yield ChainBreak(checkpoint.event_id, reason)


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


async def chain_head(session: AsyncSession) -> Checkpoint | None:
    """The last event's id and hash as stored (not verified)."""
    row = (
        await session.execute(
            select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        )
    ).first()
    return None if row is None else Checkpoint(row.id, row.hash)


HEAD_LOG_EVERY = timedelta(days=1)


async def log_head(sessions: async_sessionmaker[AsyncSession], _now: datetime) -> None:
    """Log the chain head once (a periodic job): the log, kept elsewhere, holds checkpoints."""
    async with sessions() as session:
        head = await chain_head(session)
    if head is not None:
        log.info("audit chain head: event %s %s", head.event_id, head.hash)


# The events that carry message digests: the bot's turns ({"texts": {id: digest}}) and the
# agents' replies ("message_id" and "text_sha256").
MESSAGE_EVIDENCE = ("turn", "agent.replied")
_PAGE = 1000
# A channel numbers at most this many choices into a text; more would make the search slow.
_MAX_NUMBERED = 10


@dataclass(frozen=True)
class MessageBreak:
    """A message whose stored text no longer matches the digest an audit event recorded."""

    message_id: int
    event_id: int
    reason: str


@dataclass(frozen=True)
class MessagesResult:
    """The outcome of checking every recorded message digest against the message rows."""

    checked: int
    breaks: tuple[MessageBreak, ...]

    @property
    def ok(self) -> bool:
        """True when every recorded message is there with the text it had."""
        return not self.breaks


async def verify_messages(session: AsyncSession) -> MessagesResult:
    """Recompute each recorded message's digest from its row; report changed or gone ones."""
    checked, after = 0, 0
    breaks: list[MessageBreak] = []
    while True:
        events = (
            await session.execute(
                select(AuditEvent.id, AuditEvent.data)
                .where(AuditEvent.action.in_(MESSAGE_EVIDENCE), AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(_PAGE)
            )
        ).all()
        if not events:
            return MessagesResult(checked, tuple(breaks))
        after = events[-1].id
        recorded = dict(_recorded_digests(events))
        checked += len(recorded)
        breaks.extend(await _message_breaks(session, recorded))


def _recorded_digests(events: Iterable[Any]) -> Iterator[tuple[int, tuple[int, str]]]:
    """(message id, (event id, digest)) for every message digest the events hold."""
    for event_id, data in events:
        if not isinstance(data, dict):  # an edit the chain reports; nothing to check here
            continue
        texts = dict(data["texts"]) if isinstance(data.get("texts"), dict) else {}
        if data.get("text_sha256") and data.get("message_id") is not None:
            texts[str(data["message_id"])] = data["text_sha256"]
        for message_id, digest in texts.items():
            if str(message_id).isdecimal():
                yield int(message_id), (event_id, digest)


async def _message_breaks(
    session: AsyncSession, recorded: Mapping[int, tuple[int, str]]
) -> list[MessageBreak]:
    rows = {
        row.id: row
        for row in await session.execute(
            select(Message.id, Message.text, Message.entities).where(Message.id.in_(recorded))
        )
    }
    breaks = []
    for message_id, (event_id, digest) in sorted(recorded.items()):
        row = rows.get(message_id)
        if row is None:
            breaks.append(MessageBreak(message_id, event_id, "gone: the message was deleted"))
        elif not _matches(row.text, _choices_in(row.entities), digest):
            breaks.append(
                MessageBreak(message_id, event_id, "text changed since the event recorded it")
            )
    return breaks


def _matches(text: str, choices: Sequence[Choice], digest: str) -> bool:
    """Whether `text`, or it less the numbered choices its channel added at send, is the text
    recorded (a channel without buttons numbers the choices the text does not list)."""
    if text_digest(text) == digest:
        return True
    menu = numbered(tuple(choices[:_MAX_NUMBERED])).splitlines()
    lines = [line for line in menu if line in text]
    subsets = itertools.chain.from_iterable(
        itertools.combinations(lines, size) for size in range(1, len(lines) + 1)
    )
    return any(text_digest(_without(text, added)) == digest for added in subsets)


def _without(text: str, lines: Iterable[str]) -> str:
    for line in lines:
        at = text.rindex(line)
        text = text[:at] + text[at + len(line) :]
    return text


def _choices_in(entities: list[dict[str, Any]] | None) -> list[Choice]:
    """The choices an outbound message's stored envelope names (see backend.services.outbox)."""
    sent: dict[str, Any] = next(
        (item["outbound"] for item in entities or [] if "outbound" in item), {}
    )
    return [Choice(str(label), str(value)) for label, value in sent.get("choices") or []]

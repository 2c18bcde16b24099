"""What console users record: notes, stop-states, intent corrections, trainers' reviews."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import (
    Account,
    Conversation,
    ConversationNote,
    Debtor,
    Dispute,
    Handoff,
    IntentCorrection,
    Message,
    TrainingExample,
)
from backend.db.models.enums import Direction, DisputeStatus, StopState
from backend.services import audit, ledger
from nlu.accepted import (
    ACCEPTED_SOURCE,
    AcceptedExample,
    ExampleRefused,
    Span,
    check_example,
    clean_text,
    is_accepted,
    masked_again,
    text_key,
)
from nlu.dataset import Example
from nlu.masking import mask_pii, placeholders
from nlu.types import INTENTS
from nlu.validation import clashes

MAX_NOTE_LENGTH = 4000
MAX_STOP_DETAILS = 2000  # account.stop_details is a VARCHAR(2000)
# One key for every review (a keyspace apart from the address locks' 7306): near-duplicates
# ("bro wat", "BRO  wat!") share no exact key, and reviews come at a trainer's pace.
REVIEW_LOCK = text("SELECT pg_advisory_xact_lock(7307, 0)")


class ActionRefused(ValueError):
    """The action cannot be done as asked; `code` names the notice the console shows."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def add_note(
    session: AsyncSession, conversation_id: int, agent_id: int, text: str, now: datetime
) -> ConversationNote:
    """An internal note (never sent to the debtor)."""
    text = text.strip()
    if not text:
        raise ActionRefused("note_empty", "the note is empty")
    if await session.get(Conversation, conversation_id) is None:
        raise ActionRefused("not_found", f"no conversation {conversation_id}")
    note = ConversationNote(conversation_id=conversation_id, agent_id=agent_id, kind="note",
                            text=text[:MAX_NOTE_LENGTH], created_at=now)
    session.add(note)
    await session.flush()
    await audit.record(session, occurred_at=now, actor=f"agent:{agent_id}", action="note.added",
                       subject_type="conversation", subject_id=conversation_id,
                       data={"note_id": note.id})
    return note


@dataclass(frozen=True)
class StopStateChange:
    """A stop-state set or cleared, the disputes that clearing `dispute` resolved, and the
    plans and promises that setting a state that ends collection cancelled."""

    account: Account
    resolved_disputes: tuple[int, ...] = ()
    ended: ledger.Ended = ledger.Ended()


async def set_stop_state(
    session: AsyncSession, account_id: int, state: str, *, on: bool, details: str,
    actor: str, now: datetime,
) -> StopStateChange:
    """Set or clear one stop-state flag on an account (supervisors; the reason is required).

    Each change adds a dated line to the account's stop details; clearing `dispute` resolves
    the account's open disputes, and setting attorney, bankruptcy, deceased or cease cancels
    its active plans and pending promises (`ledger.end_arrangements`, as the bot's path does),
    in the same transaction. Clearing a state revives none of them."""
    flag = _stop_state(state)
    reason = details.strip()[:MAX_NOTE_LENGTH]
    if not reason:
        raise ActionRefused("reason_required", "say why the stop-state changes")
    account = await session.get(Account, account_id)
    if account is None:
        raise ActionRefused("not_found", f"no account {account_id}")
    disputes = await _open_disputes(session, account_id) if flag == StopState.DISPUTE else []
    if not on and not (getattr(account, flag) or disputes):
        raise ActionRefused("not_set", f"{flag} is not set on account {account_id}")
    setattr(account, flag, on)
    verb = "set" if on else "cleared"
    account.stop_details = _with_line(account.stop_details,
                                      f"{now.date().isoformat()} {flag} {verb}: {reason}")
    account.updated_at = now
    resolved = () if on else await _resolve(session, disputes, reason, actor, now)
    data: dict[str, object] = {"state": flag, "reason": reason}
    if resolved:
        data["disputes_resolved"] = list(resolved)
    await audit.record(
        session, occurred_at=now, actor=actor,
        action=f"account.stop_state_{verb}",
        subject_type="account", subject_id=account_id, data=data,
    )
    ended = ledger.Ended()
    if on:
        ended = await ledger.end_arrangements(session, account, flag,
                                              ledger.Origin(now=now, actor=actor))
    return StopStateChange(account, resolved, ended)


async def _open_disputes(session: AsyncSession, account_id: int) -> list[Dispute]:
    # An open dispute row holds collection even without the flag (docs/WORKFLOW.md).
    return list(await session.scalars(select(Dispute).where(
        Dispute.account_id == account_id, Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.id)))


async def _resolve(session: AsyncSession, disputes: list[Dispute], reason: str, actor: str,
                   now: datetime) -> tuple[int, ...]:
    """Close the disputes a supervisor cleared, each with an audit event holding the reason."""
    for dispute in disputes:
        dispute.status, dispute.resolved_at = DisputeStatus.RESOLVED, now
        await audit.record(session, occurred_at=now, actor=actor, action="dispute.resolved",
                           subject_type="account", subject_id=dispute.account_id,
                           data={"dispute_id": dispute.id, "reason": reason})
    return tuple(d.id for d in disputes)


def _with_line(details: str | None, line: str) -> str:
    """`details` with `line` appended. What was there is never cut: when the column is nearly
    full the new line is shortened (its audit event keeps the whole reason)."""
    kept = details or ""
    room = MAX_STOP_DETAILS - len(kept) - (1 if kept else 0)
    if room <= 0:
        return kept
    if len(line) > room:
        line = line[:room - 1] + "…"
    return f"{kept}\n{line}" if kept else line


def _stop_state(state: str) -> str:
    try:
        return StopState(state).value
    except ValueError:
        raise ActionRefused("unknown_stop_state", f"unknown stop-state {state!r}") from None


async def correct_intent(
    session: AsyncSession, message_id: int, intent: str, *, agent_id: int, now: datetime
) -> IntentCorrection:
    """Record the right intent for a debtor message; it lands in the trainers' inbox."""
    if intent not in INTENTS:
        raise ActionRefused("unknown_intent", f"unknown intent {intent!r}")
    message = await session.get(Message, message_id)
    if message is None or message.direction != Direction.INBOUND:
        raise ActionRefused("not_debtor_message", "only a debtor's message can be corrected")
    if message.intent is None:  # an identity answer (a date of birth, a ZIP code), never read
        raise ActionRefused("not_read", "the bot did not read this message for an intent")
    correction = await session.scalar(
        select(IntentCorrection).where(IntentCorrection.message_id == message_id)
    )
    if correction is None:
        correction = IntentCorrection(
            message_id=message_id, original_intent=message.intent,
            original_confidence=message.confidence, corrected_intent=intent,
            agent_id=agent_id, status="new", created_at=now,
        )
        session.add(correction)
    else:
        correction.corrected_intent, correction.agent_id = intent, agent_id
        correction.status, correction.created_at = "new", now
    await session.flush()
    await audit.record(
        session, occurred_at=now, actor=f"agent:{agent_id}", action="message.intent_corrected",
        subject_type="conversation", subject_id=message.conversation_id,
        data={"message_id": message_id, "from": message.intent, "to": intent},
    )
    return correction


async def mark_reviewed(
    session: AsyncSession, correction_id: int, *, actor: str, now: datetime
) -> None:
    """A trainer took the correction into the training data (or dismissed it)."""
    correction = await session.get(IntentCorrection, correction_id)
    if correction is None:
        raise ActionRefused("not_found", f"no correction {correction_id}")
    correction.status = "reviewed"
    await audit.record(session, occurred_at=now, actor=actor, action="intent_correction.reviewed",
                       subject_type="intent_correction", subject_id=correction_id)


# --- the trainers' inbox ------------------------------------------------------------------------

@dataclass(frozen=True)
class InboxEntry:
    """A debtor message worth a trainer's look, and why."""

    message: Message
    reasons: tuple[str, ...]
    correction: IntentCorrection | None
    debtor_name: str | None


def _handed_off_ids() -> Select[int]:
    """The last inbound message before each handoff."""
    return (select(func.max(Message.id))
            .join(Handoff, Handoff.conversation_id == Message.conversation_id)
            .where(Message.direction == Direction.INBOUND,
                   Message.created_at <= Handoff.created_at)
            .group_by(Handoff.id))


async def trainer_inbox(
    session: AsyncSession, threshold: float, limit: int = 100, message_id: int | None = None
) -> list[InboxEntry]:
    """Unreviewed debtor messages read with low confidence, corrected by an agent, or followed
    by a handoff; newest first."""
    handed = _handed_off_ids()
    query = (
        select(Message, IntentCorrection, Debtor.full_name, Message.id.in_(handed))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Debtor, Debtor.id == Conversation.debtor_id)
        .outerjoin(IntentCorrection, IntentCorrection.message_id == Message.id)
        # Messages never read for an intent (identity answers: dates of birth, ZIP codes)
        # hold personal data and teach the model nothing.
        .where(Message.direction == Direction.INBOUND, Message.text != "",
               Message.intent.is_not(None),
               Message.id.not_in(select(TrainingExample.message_id)),
               or_(IntentCorrection.id.is_(None), IntentCorrection.status == "new"),
               or_(Message.confidence < threshold, IntentCorrection.id.is_not(None),
                   Message.id.in_(handed)))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    )
    if message_id is not None:
        query = query.where(Message.id == message_id)
    rows = (await session.execute(query)).all()
    return [InboxEntry(m, _reasons(m, c, bool(h), threshold), c, name) for m, c, name, h in rows]


def _reasons(message: Message, correction: IntentCorrection | None, handed: bool,
             threshold: float) -> tuple[str, ...]:
    low = message.confidence is not None and message.confidence < threshold
    flags = (("low_confidence", low), ("corrected", correction is not None),
             ("handoff", handed))
    return tuple(name for name, on in flags if on)


async def _inbox_entry(session: AsyncSession, message_id: int, threshold: float) -> InboxEntry:
    entries = await trainer_inbox(session, threshold, limit=1, message_id=message_id)
    if not entries:
        raise ActionRefused("not_in_inbox", f"message {message_id} is not waiting for review")
    return entries[0]


async def accept_example(
    session: AsyncSession, message_id: int, *, intent: str, text: str,
    entities: list[tuple[str, str]], reviewer_id: int, threshold: float, now: datetime,
    shipped: Sequence[Example] = (),
) -> TrainingExample:
    """Save a message as a training example: PII masked, `entities` as (entity, words).

    Refused when `parley nlu validate` would refuse the example beside the other accepted
    ones and the `shipped` training data (the same text or a near-duplicate under another
    intent)."""
    await _hold_reviews(session, message_id)
    entry = await _inbox_entry(session, message_id, threshold)
    names = [entry.debtor_name] if entry.debtor_name else []
    masked = mask_pii(clean_text(text or entry.message.text), names,
                      today=entry.message.created_at.date())
    example = AcceptedExample(clean_text(masked.text), intent, ())
    try:
        example = check_example(AcceptedExample(
            example.text, intent, tuple(_locate(example.text, e, w) for e, w in entities if w)))
    except ExampleRefused as refused:
        raise ActionRefused("bad_example", str(refused)) from None
    await _refuse_other_label(session, example, shipped)
    row = _review_row(entry, "accepted", reviewer_id, now)
    row.text, row.intent, row.masked = example.text, example.intent, placeholders(example.text)
    row.entities = [{"entity": s.entity, "start": s.start, "end": s.end, "value": s.value}
                    for s in example.spans]
    return await _save_review(session, entry, row, now)


async def _hold_reviews(session: AsyncSession, message_id: int) -> None:
    """Until commit, no other review gets past here: checking the other labels and saving
    this one are one step, so two trainers at once cannot both save clashing labels.

    Taken before anything is read (SQLite cannot turn a read into a write once another
    writer has committed)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(REVIEW_LOCK)
    else:  # SQLite has one writer at a time: writing first takes it
        await session.execute(
            update(TrainingExample).where(TrainingExample.message_id == message_id)
            .values(message_id=TrainingExample.message_id)
            .execution_options(synchronize_session=False))


class LabelConflict(ActionRefused):
    """The text, or a near-duplicate `other`, is already under another intent: accepted from
    `message_id`, or in the shipped training data (`other.file`, `other.line`)."""

    def __init__(self, text: str, other: Example, message_id: int | None) -> None:
        where = f"message {message_id}" if message_id is not None else (
            f"{other.file}:{other.line}")
        super().__init__("label_conflict", f"{text!r} clashes with {other.text!r}, already "
                                           f"{other.intent} ({where})")
        self.intent, self.message_id, self.other = other.intent, message_id, other


async def _refuse_other_label(session: AsyncSession, example: AcceptedExample,
                              shipped: Sequence[Example]) -> None:
    """Refuse a label `parley nlu validate` would refuse: replacing the first would silently
    undo another review, and keeping both makes the data contradict itself."""
    rows = list(await session.scalars(
        select(TrainingExample).where(TrainingExample.status == "accepted")
        .order_by(TrainingExample.id)))
    accepted = [_as_example(masked_again(_accepted(r))) for r in rows]
    others = [*accepted, *_still_shipped(shipped, [*accepted, _as_example(example)])]
    # The n-gram weighing takes a few hundred milliseconds: off the event loop.
    hits = await asyncio.to_thread(clashes, _as_example(example), others)
    if hits:
        first = hits[0]
        message_id = rows[first].message_id if first < len(rows) else None
        raise LabelConflict(example.text, others[first], message_id)


def _as_example(example: AcceptedExample) -> Example:
    return Example(example.text, example.intent, (), ACCEPTED_SOURCE, 0)


def _still_shipped(shipped: Sequence[Example], accepted: list[Example]) -> list[Example]:
    """The shipped examples training keeps beside these: an exported accepted file's line is
    replaced by the database's label for the same text (`nlu.accepted.merge`)."""
    replaced = {text_key(e.text) for e in accepted}
    return [e for e in shipped if not (is_accepted(e) and text_key(e.text) in replaced)]


def _locate(text: str, entity: str, words: str) -> Span:
    words = " ".join(words.split())
    start = text.find(words)
    if start < 0:
        start = text.lower().find(words.lower())
    if start < 0:
        raise ExampleRefused(f"{words!r} is not in the (masked) text")
    return Span(entity, start, start + len(words))


async def dismiss_example(
    session: AsyncSession, message_id: int, *, reviewer_id: int, threshold: float,
    now: datetime,
) -> TrainingExample:
    """Take a message off the inbox without keeping it (or its text)."""
    await _hold_reviews(session, message_id)
    entry = await _inbox_entry(session, message_id, threshold)
    return await _save_review(session, entry,
                              _review_row(entry, "dismissed", reviewer_id, now), now)


def _review_row(entry: InboxEntry, status: str, reviewer_id: int,
                now: datetime) -> TrainingExample:
    return TrainingExample(
        message_id=entry.message.id, status=status, text="", reasons=",".join(entry.reasons),
        original_intent=entry.message.intent, original_confidence=entry.message.confidence,
        reviewer_id=reviewer_id, reviewed_at=now,
    )


async def _save_review(session: AsyncSession, entry: InboxEntry, row: TrainingExample,
                       now: datetime) -> TrainingExample:
    session.add(row)
    if entry.correction is not None:
        entry.correction.status = "reviewed"
    await session.flush()
    await audit.record(session, occurred_at=now, actor=f"agent:{row.reviewer_id}",
                       action=f"training_example.{row.status}", subject_type="message",
                       subject_id=entry.message.id,
                       data={"intent": row.intent, "from": row.original_intent,
                             "masked": row.masked or []})
    return row


async def accepted_examples(session: AsyncSession) -> list[AcceptedExample]:
    """Every accepted example, oldest first, ready for export or training (masked again, so
    rows saved before a kind of personal data was masked do not leak it)."""
    rows = await session.scalars(select(TrainingExample)
                                 .where(TrainingExample.status == "accepted")
                                 .order_by(TrainingExample.id))
    return [masked_again(_accepted(r)) for r in rows]


def _accepted(row: TrainingExample) -> AcceptedExample:
    return AcceptedExample(row.text, row.intent or "", tuple(
        Span(e["entity"], e["start"], e["end"], e.get("value")) for e in row.entities or []))


async def count_accepted(session: AsyncSession) -> int:
    """How many accepted examples the next training adds."""
    total = await session.scalar(select(func.count()).select_from(TrainingExample)
                                 .where(TrainingExample.status == "accepted"))
    return int(total or 0)


@dataclass(frozen=True)
class Review:
    """A review as the inbox lists it: the text masked by today's rules."""

    message_id: int
    status: str
    intent: str | None
    text: str


async def recent_reviews(session: AsyncSession, limit: int = 20) -> list[Review]:
    """The latest reviews, newest first (to check or reopen them)."""
    rows = await session.scalars(select(TrainingExample)
                                 .order_by(TrainingExample.reviewed_at.desc(),
                                           TrainingExample.id.desc()).limit(limit))
    return [Review(r.message_id, r.status, r.intent, mask_pii(r.text).text) for r in rows]


async def reopen_example(
    session: AsyncSession, message_id: int, *, actor: str, now: datetime
) -> None:
    """Undo a review: the example leaves the training data and the message may return to the
    inbox."""
    row = await session.scalar(select(TrainingExample)
                               .where(TrainingExample.message_id == message_id))
    if row is None:
        raise ActionRefused("not_found", f"message {message_id} has no review")
    await session.delete(row)
    await audit.record(session, occurred_at=now, actor=actor, action="training_example.reopened",
                       subject_type="message", subject_id=message_id,
                       data={"was": row.status, "intent": row.intent})

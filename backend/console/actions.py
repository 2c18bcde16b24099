"""What an agent records from the console: notes, stop-states, intent corrections (all audited)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ConversationNote, IntentCorrection, Message
from backend.db.models.enums import Direction, StopState
from backend.services import audit
from nlu.types import INTENTS

MAX_NOTE_LENGTH = 4000


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
    note = ConversationNote(conversation_id=conversation_id, agent_id=agent_id, kind="note",
                            text=text[:MAX_NOTE_LENGTH], created_at=now)
    session.add(note)
    await session.flush()
    await audit.record(session, occurred_at=now, actor=f"agent:{agent_id}", action="note.added",
                       subject_type="conversation", subject_id=conversation_id,
                       data={"note_id": note.id})
    return note


async def set_stop_state(
    session: AsyncSession, account_id: int, state: str, *, on: bool, details: str,
    actor: str, now: datetime,
) -> Account:
    """Set or clear one stop-state flag on an account (supervisors; the reason is required)."""
    flag = _stop_state(state)
    if not details.strip():
        raise ActionRefused("reason_required", "say why the stop-state changes")
    account = await session.get(Account, account_id)
    if account is None:
        raise ActionRefused("not_found", f"no account {account_id}")
    setattr(account, flag, on)
    account.stop_details = details.strip()[:2000]
    account.updated_at = now
    await audit.record(
        session, occurred_at=now, actor=actor,
        action="account.stop_state_set" if on else "account.stop_state_cleared",
        subject_type="account", subject_id=account_id, data={"state": flag},
    )
    return account


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


async def trainer_inbox(
    session: AsyncSession, status: str = "new", limit: int = 200
) -> list[tuple[IntentCorrection, Message]]:
    """Corrections waiting for a trainer, newest first, with their messages."""
    rows = await session.execute(
        select(IntentCorrection, Message)
        .join(Message, Message.id == IntentCorrection.message_id)
        .where(IntentCorrection.status == status)
        .order_by(IntentCorrection.created_at.desc(), IntentCorrection.id.desc())
        .limit(limit)
    )
    return [(c, m) for c, m in rows.all()]


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

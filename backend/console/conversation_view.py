"""The conversation page's data: transcript across channels, account panel, notes, audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.console.permissions import Scope
from backend.db.models import (
    AgentUser,
    AuditEvent,
    ContactPoint,
    Conversation,
    ConversationNote,
    Handoff,
    IntentCorrection,
    Message,
    PlannedContact,
)
from backend.services import audit
from backend.services.accounts import AccountRecords, load_account
from backend.services.handoff import ACTIVE_STATUSES
from backend.workflow.schedule import PlannedContactView, planned_contacts

AUDIT_LIMIT = 40
# What a message's own events add to the trail: gate decisions and delivery outcomes (each
# turn's bookkeeping would crowd them out).
MESSAGE_ACTIONS = ("compliance.", "message.")
# The detail fields that say why: a gate decision's reason and rule, an opt-out's reason, an
# opt-in's keyword, a bot event's detail.
WHY_FIELDS = ("reason", "rule", "keyword", "detail")


@dataclass(frozen=True)
class Attachment:
    """A file the debtor sent: a provider link, or a provider's file id (`kind` says which)."""

    kind: str  # photo, voice, document ... or "file" for a link
    content_type: str | None
    link: str | None  # only https links: ids need the provider's token to fetch


@dataclass(frozen=True)
class Line:
    """One message of the transcript, with what the NLU read in it."""

    id: int
    at: datetime
    direction: str
    channel: str
    sender: str
    text: str
    intent: str | None
    confidence: float | None
    corrected_intent: str | None
    delivery_status: str
    error_code: str | None
    attachments: tuple[Attachment, ...] = ()

    @property
    def from_debtor(self) -> bool:
        """True for the debtor's own messages (the ones with an NLU reading)."""
        return self.direction == "inbound"


@dataclass(frozen=True)
class AuditLine:
    """One event of the audit trail, with why it happened (from its recorded detail)."""

    occurred_at: datetime
    action: str
    actor: str
    why: str


@dataclass(frozen=True)
class AuditTrail:
    """The latest events about the conversation, and how many there are in all."""

    lines: list[AuditLine] = field(default_factory=list)
    total: int = 0

    @property
    def cut(self) -> bool:
        """True when older events are left out."""
        return self.total > len(self.lines)


@dataclass
class ConversationPage:
    """Everything the conversation page shows."""

    conversation: Conversation
    handoff: Handoff | None
    owner: AgentUser | None
    lines: list[Line]
    records: AccountRecords | None
    related: list[int] = field(default_factory=list)
    notes: list[tuple[ConversationNote, str]] = field(default_factory=list)
    audit: AuditTrail = field(default_factory=AuditTrail)
    planned: list[PlannedContactView] = field(default_factory=list)

    @property
    def last_message_id(self) -> int:
        """The newest message shown (live updates fetch what comes after it)."""
        return max((line.id for line in self.lines), default=0)


async def conversation_page(
    session: AsyncSession, conversation_id: int, now: datetime, scope: Scope
) -> ConversationPage | None:
    """Load the page for one conversation, or None when it does not exist; the debtor's other
    conversations only as far as `scope` reaches."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    related = await related_conversations(session, conversation, scope)
    records = (
        await load_account(session, conversation.account_id) if conversation.account_id else None
    )
    return ConversationPage(
        conversation=conversation,
        handoff=await _handoff(session, conversation.id),
        owner=await session.get(AgentUser, conversation.agent_id) if conversation.agent_id
        else None,
        lines=await transcript(session, related),
        records=records,
        related=related,
        notes=await _notes(session, related),
        audit=await _audit(session, conversation, related),
        planned=await planned_contacts(session, conversation.account_id, now)
        if conversation.account_id else [],
    )


async def related_conversations(
    session: AsyncSession, conversation: Conversation, scope: Scope
) -> list[int]:
    """This conversation and the debtor's others on every channel that `scope` reaches (a
    user limited to some queues does not read another queue's conversation here either)."""
    if conversation.debtor_id is None:
        return [conversation.id]
    ids = await session.scalars(
        select(Conversation.id).where(Conversation.debtor_id == conversation.debtor_id)
    )
    others = await scope.among(session, sorted(set(ids) - {conversation.id}))
    return sorted({*others, conversation.id})


async def transcript(
    session: AsyncSession, conversation_ids: list[int], after: int = 0
) -> list[Line]:
    """Messages of the given conversations in time order (only ids above `after`)."""
    rows = await session.execute(
        select(Message, IntentCorrection.corrected_intent)
        .outerjoin(IntentCorrection, IntentCorrection.message_id == Message.id)
        .where(Message.conversation_id.in_(conversation_ids), Message.id > after)
        .order_by(Message.created_at, Message.id)
    )
    return [_line(message, corrected) for message, corrected in rows.all()]


def _line(message: Message, corrected: str | None) -> Line:
    return Line(
        id=message.id, at=message.created_at, direction=message.direction,
        channel=message.channel, sender=message.sender, text=message.text,
        intent=message.intent, confidence=message.confidence, corrected_intent=corrected,
        delivery_status=message.delivery_status, error_code=message.error_code,
        attachments=tuple(_attachment(a) for a in message.attachments or ()),
    )


def _attachment(stored: dict[str, str | None]) -> Attachment:
    url = stored.get("url") or ""
    if url.startswith("https://"):
        return Attachment("file", stored.get("content_type"), url)
    # telegram:<kind>:<file_id> and whatsapp-media:<kind>:<media id>
    parts = url.split(":")
    return Attachment(parts[1] if len(parts) > 2 else "file", stored.get("content_type"), None)


async def _handoff(session: AsyncSession, conversation_id: int) -> Handoff | None:
    return await session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by((Handoff.status.in_(ACTIVE_STATUSES)).desc(), Handoff.id.desc())
        .limit(1)
    )


async def _notes(
    session: AsyncSession, conversation_ids: list[int]
) -> list[tuple[ConversationNote, str]]:
    rows = await session.execute(
        select(ConversationNote, AgentUser.name)
        .outerjoin(AgentUser, AgentUser.id == ConversationNote.agent_id)
        .where(ConversationNote.conversation_id.in_(conversation_ids))
        .order_by(ConversationNote.created_at.desc(), ConversationNote.id.desc())
    )
    return [(note, name or "system") for note, name in rows.all()]


async def _audit(
    session: AsyncSession, conversation: Conversation, conversation_ids: list[int]
) -> AuditTrail:
    about = _audit_subjects(conversation, conversation_ids)
    total = await session.scalar(select(func.count(AuditEvent.id)).where(about))
    events = await session.scalars(
        select(AuditEvent).where(about).order_by(AuditEvent.id.desc()).limit(AUDIT_LIMIT)
    )
    return AuditTrail([_audit_line(e) for e in events], int(total or 0))


def _audit_subjects(conversation: Conversation, conversation_ids: list[int]) -> ColumnElement[bool]:
    """The conversations and their account, debtor and contact points, with the gate
    decisions and delivery outcomes of their messages and of the account's planned contacts."""
    subjects: dict[str, Select[Any] | list[str]] = {
        "conversation": [str(i) for i in conversation_ids],
        "contact_point": audit.subject_ids(ContactPoint.id, _contact_points(conversation)),
    }
    if conversation.debtor_id is not None:
        subjects["debtor"] = [str(conversation.debtor_id)]
    if conversation.account_id is not None:
        subjects["account"] = [str(conversation.account_id)]
    outcomes = {
        "message": audit.subject_ids(Message.id, Message.conversation_id.in_(conversation_ids))
    }
    if conversation.account_id is not None:
        outcomes["planned_contact"] = audit.subject_ids(
            PlannedContact.id, PlannedContact.account_id == conversation.account_id
        )
    outcome_actions = or_(*(AuditEvent.action.startswith(a) for a in MESSAGE_ACTIONS))
    return audit.about(subjects) | (audit.about(outcomes) & outcome_actions)


def _contact_points(conversation: Conversation) -> ColumnElement[bool]:
    """The debtor's contact points, and the conversation's own address (a STOP from an
    address no debtor holds yet is recorded on a contact point of an unknown holder)."""
    own = (ContactPoint.channel == conversation.channel) & (
        ContactPoint.address == conversation.address
    )
    if conversation.debtor_id is None:
        return own
    return own | (ContactPoint.debtor_id == conversation.debtor_id)


def _audit_line(event: AuditEvent) -> AuditLine:
    data = event.data or {}
    why = " · ".join(str(data[k]) for k in WHY_FIELDS if data.get(k) not in (None, ""))
    return AuditLine(event.occurred_at, event.action, event.actor, why)

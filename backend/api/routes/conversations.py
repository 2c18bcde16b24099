"""One conversation as the API sees it: transcript, ownership and the records it created."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from backend.api.deps import ApiClient, IdPath, SessionDep
from backend.api.schemas.conversations import (
    ConversationPublic,
    EntityPublic,
    MessagePublic,
    SenderKind,
)
from backend.db.models import Conversation, Dispute, Handoff, Message, PaymentPlan, Promise
from backend.db.models.enums import Direction

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


# `Message.sender` of the campaign steps and reminders (backend/services/outbox.py,
# backend/services/reminders.py).
CAMPAIGN_SENDERS = frozenset({"workflow", "reminder", "campaign"})


def _sender_kind(sender: str) -> SenderKind:
    kind = sender.split(":", 1)[0]
    if kind in CAMPAIGN_SENDERS:
        return "campaign"
    return "agent" if kind == "agent" else "bot" if kind == "bot" else "debtor"


def _message(m: Message) -> MessagePublic:
    """The message as the API shows it; an outbound one's stored envelope (the outbox's
    delivery state) and purpose-as-intent stay internal."""
    shown = MessagePublic(
        id=m.id, direction=m.direction, channel=m.channel, sender=m.sender,  # type: ignore[arg-type]
        sender_kind=_sender_kind(m.sender), at=m.created_at, text=m.text,
        delivery_status=m.delivery_status, error_code=m.error_code, processed_at=m.processed_at)
    if m.direction == Direction.OUTBOUND:
        shown.purpose = m.intent
        return shown
    shown.intent, shown.confidence = m.intent, m.confidence
    shown.entities = [EntityPublic.model_validate(e) for e in m.entities or []
                      if isinstance(e, dict) and "entity" in e]
    return shown


async def _rows(session: SessionDep, model: Any, conversation_id: int) -> list[Any]:
    return list(await session.scalars(
        select(model).where(model.conversation_id == conversation_id).order_by(model.id)))


@router.get("/{conversation_id}", response_model=ConversationPublic)
async def read_conversation(conversation_id: IdPath, session: SessionDep,
                            _: ApiClient) -> dict[str, Any]:
    """The transcript — inbound messages with their intents, confidences and entities,
    outbound ones with their purpose and delivery status — and what the bot recorded."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no conversation {conversation_id}")
    messages = await _rows(session, Message, conversation_id)
    handoffs = await _rows(session, Handoff, conversation_id)
    return {
        "id": conversation.id, "channel": conversation.channel,
        "account_id": conversation.account_id, "debtor_id": conversation.debtor_id,
        "ownership": conversation.ownership, "language": conversation.language,
        "messages": [_message(m) for m in messages],
        "handoffs": [{"id": h.id, "reason": h.reason, "queue": h.queue, "status": h.status,
                      "priority": h.priority, "error_id": h.error_id, "created_at": h.created_at}
                     for h in handoffs],
        "records": {
            "promises": [{"id": p.id, "amount": p.amount, "due_date": p.due_date,
                          "status": p.status}
                         for p in await _rows(session, Promise, conversation_id)],
            "plans": [{"id": p.id, "total": p.total, "frequency": p.frequency,
                       "is_settlement": p.is_settlement, "status": p.status}
                      for p in await _rows(session, PaymentPlan, conversation_id)],
            "disputes": [{"id": d.id, "status": d.status, "opened_at": d.opened_at}
                         for d in await _rows(session, Dispute, conversation_id)],
        },
    }

"""One conversation as the API sees it: transcript, ownership and the records it created."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from backend.api.deps import ApiClient, IdPath, SessionDep
from backend.db.models import Conversation, Dispute, Handoff, Message, PaymentPlan, Promise

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


def _message(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "direction": m.direction, "channel": m.channel, "sender": m.sender,
        "at": m.created_at, "text": m.text, "intent": m.intent, "confidence": m.confidence,
        "entities": m.entities, "delivery_status": m.delivery_status,
        "processed_at": m.processed_at,
    }


async def _rows(session: SessionDep, model: Any, conversation_id: int) -> list[Any]:
    return list(await session.scalars(
        select(model).where(model.conversation_id == conversation_id).order_by(model.id)))


@router.get("/{conversation_id}")
async def read_conversation(conversation_id: IdPath, session: SessionDep,
                            _: ApiClient) -> dict[str, Any]:
    """The transcript with intents, confidences and delivery, and what the bot recorded."""
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

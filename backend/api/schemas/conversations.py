"""Schemas of the conversations API: a transcript and what the conversation recorded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

SenderKind = Literal["debtor", "bot", "agent", "campaign"]


class EntityPublic(BaseModel):
    """Something the NLU (or an agent's correction) found in an inbound message."""

    entity: str
    value: Any = Field(description="normalized: amount 50.00, date 2026-11-27, installments 6")
    start: int | None = None
    end: int | None = None


class MessagePublic(BaseModel):
    """One message: inbound ones carry what the NLU read, outbound ones their purpose."""

    id: int
    direction: Literal["inbound", "outbound"]
    channel: str
    sender: str = Field(description="debtor, bot, agent:<id>, workflow or reminder")
    sender_kind: SenderKind
    at: datetime
    text: str
    intent: str | None = Field(default=None, description="inbound only: the intent understood")
    confidence: float | None = Field(default=None, description="inbound only")
    entities: list[EntityPublic] = Field(default_factory=list, description="inbound only")
    purpose: str | None = Field(default=None, description=(
        "outbound only: reply, agent, reminder, opt_out_confirmation, stop_acknowledgement"
        " or payment_receipt"))
    delivery_status: str = Field(description=(
        "outbound: pending, deferred, blocked, sent, delivered, read, failed…"))
    error_code: str | None = Field(
        default=None,
        description=(
            "outbound: why it is blocked, deferred or failed — the compliance gate's reason"
            " (dispute_pause, opted_out, quiet_hours…) or the provider's error code"
        ),
    )
    processed_at: datetime | None = None


class HandoffPublic(BaseModel):
    """A hand-off of the conversation to people."""

    id: int
    reason: str
    queue: str
    status: str
    priority: int
    error_id: str | None
    created_at: datetime


class PromiseRecord(BaseModel):
    """A promise to pay made in the conversation."""

    id: int
    amount: Decimal
    due_date: date
    status: str


class PlanRecord(BaseModel):
    """A payment plan agreed in the conversation."""

    id: int
    total: Decimal
    frequency: str
    is_settlement: bool
    status: str


class DisputeRecord(BaseModel):
    """A dispute opened in the conversation."""

    id: int
    status: str
    opened_at: datetime


class ConversationRecords(BaseModel):
    """What the conversation created."""

    promises: list[PromiseRecord]
    plans: list[PlanRecord]
    disputes: list[DisputeRecord]


class ConversationPublic(BaseModel):
    """One conversation: transcript, ownership, hand-offs and the records it created."""

    id: int
    channel: str
    account_id: int | None
    debtor_id: int | None
    ownership: str
    language: str | None
    messages: list[MessagePublic]
    handoffs: list[HandoffPublic]
    records: ConversationRecords

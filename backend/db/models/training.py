"""Trainers' reviews of debtor messages: accepted training examples (masked) or dismissals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, JsonType
from backend.db.types import IdType, UtcDateTime


class TrainingExample(Base):
    """One reviewed message: `accepted` holds the masked text, intent and entity spans that
    `parley nlu export` writes as Rasa YAML; `dismissed` keeps no text."""

    __tablename__ = "training_example"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # accepted | dismissed
    text: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str | None] = mapped_column(String(40))
    # [{"entity": "amount", "start": 10, "end": 12, "value": "50.00" | null}, ...]
    entities: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    masked: Mapped[list[str] | None] = mapped_column(JsonType)  # kinds replaced, e.g. ["phone"]
    reasons: Mapped[str] = mapped_column(String(64), default="")  # why it was in the inbox
    original_intent: Mapped[str | None] = mapped_column(String(40))
    original_confidence: Mapped[float | None] = mapped_column(Float)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("agent_user.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

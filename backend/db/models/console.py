"""Console tables: internal notes, intent corrections for trainers, queue membership."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base
from backend.db.types import IdType, UtcDateTime


class ConversationNote(Base):
    """An internal note on a conversation (never sent); hand-back notes say what was agreed."""

    __tablename__ = "conversation_note"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent_user.id"))
    kind: Mapped[str] = mapped_column(String(16), default="note")  # note | handback | resolution
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IntentCorrection(Base):
    """An agent's correction of the NLU's reading of one debtor message (the trainers' inbox)."""

    __tablename__ = "intent_correction"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    original_intent: Mapped[str | None] = mapped_column(String(40))
    original_confidence: Mapped[float | None] = mapped_column(Float)
    corrected_intent: Mapped[str] = mapped_column(String(40))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_user.id"))
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)  # new | reviewed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgentQueue(Base):
    """A queue an agent works; an agent with none is notified for every queue."""

    __tablename__ = "agent_queue"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_user.id"), primary_key=True)
    queue: Mapped[str] = mapped_column(String(32), primary_key=True)

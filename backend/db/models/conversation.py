"""Conversations, their messages, and handoffs to human agents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, attributes, mapped_column, relationship

from backend.db.base import Base, JsonType
from backend.db.models.account import Account
from backend.db.models.enums import Ownership
from backend.db.types import IdType, UtcDateTime


class Conversation(Base):
    """A thread with one debtor address on one channel."""

    __tablename__ = "conversation"
    __table_args__ = (
        # Portfolio-scoped dashboards pick the portfolio's conversations of a period.
        Index("ix_conversation_portfolio_id_started_at", "portfolio_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128), index=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtor.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    # The account's portfolio, kept with account_id on every flush (see _follow_account).
    portfolio_id: Mapped[int | None] = mapped_column(ForeignKey("portfolio.id"))
    ownership: Mapped[str] = mapped_column(String(16), default=Ownership.BOT, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent_user.id"))
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )


@event.listens_for(Conversation, "before_insert")
@event.listens_for(Conversation, "before_update")
def _follow_account(_mapper: Mapper[Conversation], connection: Connection,
                    target: Conversation) -> None:
    """Set `portfolio_id` from the account whenever a conversation is linked or relinked.

    In the flush, so every path that links a conversation to an account (inbox, outbox,
    workflow, fixtures) keeps it without a lookup of its own.
    """
    if target.account_id is None:
        target.portfolio_id = None
        return
    if target.portfolio_id is not None and not attributes.get_history(
        target, "account_id"
    ).has_changes():
        return
    target.portfolio_id = connection.scalar(
        select(Account.portfolio_id).where(Account.id == target.account_id))


class Message(Base):
    """One message in or out; the provider id is unique per channel so retries dedupe."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id"),
        # The dashboards' intent mix and agent counts read this index alone on PostgreSQL.
        Index(
            "ix_message_direction_created_at", "direction", "created_at",
            postgresql_include=["conversation_id", "sender", "intent", "confidence"],
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(16), default="debtor")
    text: Mapped[str] = mapped_column(Text, default="")
    # A pressed button's data ("option:1"), the text being its label as the debtor saw it.
    choice_value: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    delivery_status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class MessagePart(Base):
    """An earlier part of a split outbound message, by its provider id: its status callbacks
    find the message with one indexed lookup (the message keeps the last part's id)."""

    __tablename__ = "message_part"

    # Unique per channel, as `message.provider_message_id` is; the id leads, so a lookup by
    # id alone (a status callback) reads the primary key.
    provider_message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True)


class Handoff(Base):
    """A conversation waiting for, or owned by, a human agent."""

    __tablename__ = "handoff"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=Ownership.QUEUED)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent_user.id"))
    note: Mapped[str | None] = mapped_column(Text)
    error_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

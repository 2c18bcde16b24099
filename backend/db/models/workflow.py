"""Collections workflow tables: strategies with versions, planned contacts, risk scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, JsonType
from backend.db.types import IdType, UtcDateTime


class Strategy(Base):
    """A named collections strategy; `active_version` is the one the planner runs (or none)."""

    __tablename__ = "strategy"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StrategyVersion(Base):
    """One immutable version of a strategy: its validated definition and the YAML it came from."""

    __tablename__ = "strategy_version"
    __table_args__ = (UniqueConstraint("strategy_id", "version"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategy.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType)
    source: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="api")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


SEND_COLUMNS = ("id", "account_id", "strategy_version_id", "step", "variant", "delivery_status",
                "conversation_id")


class PlannedContact(Base):
    """One contact the workflow will make (or made, or dropped), and why; keyed, never doubled."""

    __tablename__ = "planned_contact"
    __table_args__ = (
        Index("ix_planned_contact_status_due_at", "status", "due_at"),
        # The strategy page reads a period's sends (by when they were marked sent) from this
        # index alone on PostgreSQL.
        Index("ix_planned_contact_status_updated_at", "status", "updated_at",
              postgresql_include=list(SEND_COLUMNS)),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    strategy_version_id: Mapped[int] = mapped_column(ForeignKey("strategy_version.id"))
    segment: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(32))
    anchor: Mapped[str] = mapped_column(String(32))
    anchor_date: Mapped[date] = mapped_column(Date)
    source_id: Mapped[int | None] = mapped_column(IdType)  # the promise/installment/plan row
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    reason: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)
    # Copied from the message when sent, then kept by its status callbacks: the strategy
    # page reads sends without the message table.
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AccountRisk(Base):
    """A risk score per account (0 best .. 1000 worst) that strategies may segment on."""

    __tablename__ = "account_risk"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

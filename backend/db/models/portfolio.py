"""Creditors and the portfolios of accounts they place, each with its negotiation policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db.base import Base, JsonType
from backend.db.types import IdType, UtcDateTime


class Creditor(Base):
    """The company that is owed the money."""

    __tablename__ = "creditor"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    portfolios: Mapped[list[Portfolio]] = relationship(back_populates="creditor")


class Portfolio(Base):
    """A set of a creditor's accounts handled under one policy."""

    __tablename__ = "portfolio"
    __table_args__ = (UniqueConstraint("creditor_id", "name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    policy: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    policy_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    creditor: Mapped[Creditor] = relationship(back_populates="portfolios")

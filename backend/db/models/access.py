"""Who may use Parley: console users (agents) and API keys for machine clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base
from backend.db.models.enums import Role
from backend.db.types import IdType, UtcDateTime


class AgentUser(Base):
    """A person who logs into the console."""

    __tablename__ = "agent_user"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Session cookies carry the value they were issued under; raising it ends them all.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    """A machine client's key; only its SHA-256 is stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Comma-separated (see backend.services.apikeys.SCOPES); NULL, as keys made before scopes
    # existed have, grants every scope.
    scopes: Mapped[str | None] = mapped_column(String(100))
    # The one creditor whose data the key reaches (backend.api.deps.CreditorScope); NULL, as
    # keys made before creditor binding have, reaches every creditor's (agency-wide).
    creditor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("creditor.id"))

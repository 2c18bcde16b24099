"""Account imports run as background jobs: the uploaded file, its status and its report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, JsonType
from backend.db.types import IdType, UtcDateTime


class ImportJob(Base):
    """One uploaded accounts file waiting for, being run by, or done by a job worker."""

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    # The one creditor the file was queued for (a creditor-bound key's); NULL, as files queued
    # by agency-wide keys have, is seen by agency-wide keys only (backend.api.deps.OWNED).
    creditor_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("creditor.id"))
    skip_invalid: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

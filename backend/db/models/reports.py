"""Stored all-time dashboard figures, recomputed by the reports refresh job."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, JsonType
from backend.db.types import UtcDateTime


class ReportSnapshot(Base):
    """One dashboard's all-time report as of `computed_at`, for one set of page options."""

    __tablename__ = "report_snapshot"

    page: Mapped[str] = mapped_column(String(32), primary_key=True)
    options: Mapped[str] = mapped_column(String(400), primary_key=True)
    today: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    report: Mapped[dict[str, Any]] = mapped_column(JsonType)

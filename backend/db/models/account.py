"""Accounts: what a debtor owes one creditor, with balance, due date and stop-state flags."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db.base import Base
from backend.db.models.debtor import Debtor
from backend.db.models.enums import AccountStatus, StopState
from backend.db.models.portfolio import Portfolio
from backend.db.types import IdType, Money, UtcDateTime


class Account(Base):
    """One debt, identified by the creditor's own reference."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("creditor_id", "external_ref"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor.id"))
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolio.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    external_ref: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    original_balance: Mapped[Decimal] = mapped_column(Money)
    current_balance: Mapped[Decimal] = mapped_column(Money, index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE, index=True)
    dispute: Mapped[bool] = mapped_column(default=False)
    cease: Mapped[bool] = mapped_column(default=False)
    attorney: Mapped[bool] = mapped_column(default=False)
    bankruptcy: Mapped[bool] = mapped_column(default=False)
    deceased: Mapped[bool] = mapped_column(default=False)
    hardship: Mapped[bool] = mapped_column(default=False)
    stop_details: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    debtor: Mapped[Debtor] = relationship()
    portfolio: Mapped[Portfolio] = relationship()

    def days_past_due(self, today: date) -> int:
        """Days since the due date as of `today` (0 when not yet due)."""
        return max(0, (today - self.due_date).days)

    @property
    def stop_states(self) -> list[str]:
        """The stop-state flags that are set."""
        return [s.value for s in StopState if getattr(self, s.value)]

    @property
    def collection_stopped(self) -> bool:
        """True when outreach must stop entirely (cease, attorney, bankruptcy, deceased)."""
        return self.cease or self.attorney or self.bankruptcy or self.deceased

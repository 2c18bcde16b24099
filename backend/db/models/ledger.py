"""The money side of an account: payments, promises to pay, payment plans, disputes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db.base import Base
from backend.db.models.enums import (
    DisputeStatus,
    InstallmentStatus,
    PlanStatus,
    PromiseStatus,
)
from backend.db.types import IdType, Money, UtcDateTime


class Payment(Base):
    """Money received on an account; idempotent by the payer's reference."""

    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("account_id", "reference"),
                      UniqueConstraint("account_id", "alias"))

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    method: Mapped[str] = mapped_column(String(32), default="card")
    channel: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32), default="api")
    reference: Mapped[str] = mapped_column(String(128))
    # The other reference the same payment is known by: a Stripe payment's `metadata.reference`
    # (the billing system's own), or the provider's key when the billing system posted first.
    alias: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Given back by the provider (cumulative); the ledger has reversed exactly this much.
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"),
                                                     server_default="0")


class Promise(Base):
    """A debtor's commitment to pay an amount on a date."""

    __tablename__ = "promise"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default=PromiseStatus.PENDING)
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    channel: Mapped[str | None] = mapped_column(String(16))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class PaymentPlan(Base):
    """An agreed schedule of installments that adds up to the amount agreed."""

    __tablename__ = "payment_plan"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    total: Mapped[Decimal] = mapped_column(Money)
    down_payment: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    frequency: Mapped[str] = mapped_column(String(16))
    is_settlement: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.ACTIVE)
    channel: Mapped[str | None] = mapped_column(String(16))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    installments: Mapped[list[Installment]] = relationship(
        back_populates="plan", order_by="Installment.seq", cascade="all, delete-orphan"
    )


class Installment(Base):
    """One scheduled payment of a plan."""

    __tablename__ = "installment"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plan.id"), index=True)
    seq: Mapped[int]
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(16), default=InstallmentStatus.DUE)

    plan: Mapped[PaymentPlan] = relationship(back_populates="installments")


class Dispute(Base):
    """A debtor's challenge of the debt, in their own words."""

    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DisputeStatus.OPEN)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

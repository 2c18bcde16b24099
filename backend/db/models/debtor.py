"""Debtors and the contact points (phones, chats) through which they can be reached."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db.base import Base
from backend.db.types import IdType, UtcDateTime


class Debtor(Base):
    """A person who owes money on one or more accounts."""

    __tablename__ = "debtor"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    postal_code: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(2), default="US")
    timezone: Mapped[str] = mapped_column(String(64))
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    # When the debtor gave prior written consent to texts and other electronic contact; where
    # a place requires it (rules.yml `written_consent`), outreach on those channels waits for it.
    written_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Local hours the debtor called inconvenient (12 CFR 1006.6(b)(1)): nothing before
    # `contact_not_before` or after `contact_not_after` until they say otherwise.
    contact_not_before: Mapped[time | None] = mapped_column(Time)
    contact_not_after: Mapped[time | None] = mapped_column(Time)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    contacts: Mapped[list[ContactPoint]] = relationship(
        back_populates="debtor", order_by="ContactPoint.id"
    )


class ContactPoint(Base):
    """One address of a debtor on one channel, with consent and opt-out state."""

    __tablename__ = "contact_point"
    __table_args__ = (UniqueConstraint("debtor_id", "channel", "address"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128), index=True)
    consent: Mapped[bool] = mapped_column(default=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opt_out_reason: Mapped[str | None] = mapped_column(String(200))
    wrong_party: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    debtor: Mapped[Debtor] = relationship(back_populates="contacts")

    @property
    def reachable(self) -> bool:
        """True when nothing forbids using this contact point."""
        return self.consent and self.opted_out_at is None and not self.wrong_party

"""Reading accounts: filtered listings and the full picture of one account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.db.models import (
    Account,
    Conversation,
    Creditor,
    Debtor,
    Dispute,
    Handoff,
    Payment,
    PaymentPlan,
    Portfolio,
    Promise,
)

# (bucket, fewest days past due, most days past due)
DPD_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", 0, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("181+", 181, None),
)


def dpd_bucket(days: int) -> str:
    """The days-past-due bucket a count falls in."""
    for name, low, high in DPD_BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return "current"


@dataclass(frozen=True)
class AccountFilter:
    """Listing filters; all optional."""

    status: str | None = None
    dpd_bucket: str | None = None
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    portfolio_id: int | None = None
    creditor_id: int | None = None  # a creditor-bound API key's creditor
    limit: int = 50
    offset: int = 0


@dataclass
class AccountRecords:
    """An account with every record hanging off it."""

    account: Account
    creditor: str
    payments: list[Payment] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    plans: list[PaymentPlan] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    conversations: list[tuple[Conversation, Handoff | None]] = field(default_factory=list)


def _filtered(query: Select[Any], flt: AccountFilter, today: date) -> Select[Any]:
    if flt.status:
        query = query.where(Account.status == flt.status)
    if flt.portfolio_id:
        query = query.where(Account.portfolio_id == flt.portfolio_id)
    if flt.creditor_id is not None:
        query = query.where(Account.creditor_id == flt.creditor_id)
    if flt.min_balance is not None:
        query = query.where(Account.current_balance >= flt.min_balance)
    if flt.max_balance is not None:
        query = query.where(Account.current_balance <= flt.max_balance)
    if flt.dpd_bucket:
        low, high = next((lo, hi) for n, lo, hi in DPD_BUCKETS if n == flt.dpd_bucket)
        query = query.where(Account.due_date <= today - timedelta(days=low))
        if high is not None:
            query = query.where(Account.due_date >= today - timedelta(days=high))
    return query


async def list_accounts(
    session: AsyncSession, flt: AccountFilter, today: date
) -> tuple[list[tuple[Account, str]], int]:
    """A page of accounts (with creditor names) and the total matching the filter."""
    base = select(Account, Creditor.name).join(Creditor, Creditor.id == Account.creditor_id)
    query = _filtered(base, flt, today).options(
        selectinload(Account.debtor), selectinload(Account.portfolio)
    )
    page = await session.execute(query.order_by(Account.id).limit(flt.limit).offset(flt.offset))
    total = await session.scalar(_filtered(select(func.count(Account.id)), flt, today))
    return [(a, c) for a, c in page.all()], int(total or 0)


async def load_account(session: AsyncSession, account_id: int) -> AccountRecords | None:
    """Everything known about one account, or None."""
    row = (
        await session.execute(
            select(Account, Creditor.name)
            .join(Creditor, Creditor.id == Account.creditor_id)
            .where(Account.id == account_id)
            .options(
                selectinload(Account.debtor).selectinload(Debtor.contacts),
                selectinload(Account.portfolio).selectinload(Portfolio.creditor),
            )
        )
    ).first()
    if row is None:
        return None
    records = AccountRecords(account=row[0], creditor=row[1])
    records.payments = list(
        await session.scalars(
            select(Payment).where(Payment.account_id == account_id).order_by(Payment.paid_at)
        )
    )
    records.promises = list(
        await session.scalars(
            select(Promise).where(Promise.account_id == account_id).order_by(Promise.id)
        )
    )
    records.plans = list(
        await session.scalars(
            select(PaymentPlan)
            .where(PaymentPlan.account_id == account_id)
            .options(selectinload(PaymentPlan.installments))
            .order_by(PaymentPlan.id)
        )
    )
    records.disputes = list(
        await session.scalars(
            select(Dispute).where(Dispute.account_id == account_id).order_by(Dispute.id)
        )
    )
    records.conversations = await _conversations(session, account_id)
    return records


async def _conversations(
    session: AsyncSession, account_id: int
) -> list[tuple[Conversation, Handoff | None]]:
    conversations = list(
        await session.scalars(
            select(Conversation)
            .where(Conversation.account_id == account_id)
            .order_by(Conversation.id)
        )
    )
    result = []
    for conversation in conversations:
        handoff = await session.scalar(
            select(Handoff)
            .where(Handoff.conversation_id == conversation.id)
            .order_by(Handoff.id.desc())
            .limit(1)
        )
        result.append((conversation, handoff))
    return result

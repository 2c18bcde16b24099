"""Reading accounts: filtered listings and the full picture of one account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
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
from backend.services.geo import debtor_today

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


def _filtered(
    query: Select[Any], flt: AccountFilter, in_bucket: ColumnElement[bool] | None
) -> Select[Any]:
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
    if in_bucket is not None:
        query = query.where(in_bucket)
    return query


def _due_in_bucket(bucket: str, today: date) -> ColumnElement[bool]:
    """Accounts whose days past due on `today` fall in `bucket` (the column compared, never
    computed per row)."""
    low, high = next((lo, hi) for name, lo, hi in DPD_BUCKETS if name == bucket)
    parts = [Account.due_date <= today - timedelta(days=low)]
    if high is not None:
        parts.append(Account.due_date >= today - timedelta(days=high))
    return and_(*parts)


async def _in_bucket_on_debtor_days(
    session: AsyncSession, bucket: str, now: datetime
) -> ColumnElement[bool]:
    """Accounts in `bucket` counted on each debtor's local day at `now`, as the bot counts."""
    zones = (await session.scalars(select(Debtor.timezone).distinct())).all()
    by_day: dict[date, list[str]] = {}
    for zone in zones:
        by_day.setdefault(debtor_today(now, zone), []).append(zone)
    return or_(
        false(),
        *(
            and_(
                Account.debtor_id.in_(select(Debtor.id).where(Debtor.timezone.in_(group))),
                _due_in_bucket(bucket, day),
            )
            for day, group in by_day.items()
        ),
    )


async def list_accounts(
    session: AsyncSession, flt: AccountFilter, now: datetime
) -> tuple[list[tuple[Account, str]], int]:
    """A page of accounts (with creditor names) and the total matching the filter; days past
    due are counted on each debtor's local day at `now`."""
    in_bucket = (
        await _in_bucket_on_debtor_days(session, flt.dpd_bucket, now) if flt.dpd_bucket else None
    )
    base = select(Account, Creditor.name).join(Creditor, Creditor.id == Account.creditor_id)
    query = _filtered(base, flt, in_bucket).options(
        selectinload(Account.debtor), selectinload(Account.portfolio)
    )
    page = await session.execute(query.order_by(Account.id).limit(flt.limit).offset(flt.offset))
    total = await session.scalar(_filtered(select(func.count(Account.id)), flt, in_bucket))
    return [(a, c) for a, c in page.all()], int(total or 0)


def days_past_due(account: Account, now: datetime) -> int:
    """The account's days past due on its debtor's local day at `now` (the bot's count)."""
    return account.days_past_due(debtor_today(now, account.debtor.timezone))


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

"""Recovery: money placed and collected, by portfolio, creditor, DPD bucket and week; aging."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    String,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, Creditor, Payment, Portfolio
from backend.db.models.enums import AccountStatus
from backend.db.types import CENT, Money
from backend.reports.collected import kept
from backend.reports.filters import ReportFilter, account_scope, in_period, scoped_via
from backend.reports.sql import (
    bucket_name,
    count_if,
    dialect_of,
    dpd_bucket,
    ratio,
    tune_for_reports,
    week_start,
)
from backend.services.accounts import DPD_BUCKETS

ZERO = Decimal("0.00")
DIMENSIONS = ("total", "portfolio", "creditor", "dpd_bucket", "week")
BUCKET_LABELS = {str(i): name for i, (name, _, _) in enumerate(DPD_BUCKETS)}


@dataclass(frozen=True)
class RecoveryRow:
    """Placed and collected for one slice of the accounts placed in the period."""

    key: str
    label: str
    accounts: int
    placed: Decimal
    collected: Decimal
    recovery_rate: Decimal | None


@dataclass(frozen=True)
class AgingRow:
    """The open balance of one days-past-due bucket."""

    bucket: str
    open_accounts: int
    open_balance: Decimal
    share: Decimal | None


@dataclass(frozen=True)
class PaymentMixRow:
    """Payments received through one channel with one method."""

    channel: str
    method: str
    payments: int
    amount: Decimal


@dataclass(frozen=True)
class CashRow:
    """Payments received in one ISO week (week = its Monday)."""

    week: str
    payments: int
    amount: Decimal


@dataclass(frozen=True)
class RecoveryReport:
    """The recovery dashboard: every table of the page."""

    totals: list[RecoveryRow]
    by_portfolio: list[RecoveryRow]
    by_creditor: list[RecoveryRow]
    by_dpd_bucket: list[RecoveryRow]
    by_week: list[RecoveryRow]
    aging: list[AgingRow]
    payments_by_channel: list[PaymentMixRow]
    collected_by_week: list[CashRow]


async def recovery_report(
    session: AsyncSession, flt: ReportFilter, today: date
) -> RecoveryReport:
    """Accounts placed in the period (the cohort), what was paid on them, and cash by week.

    DPD buckets and aging are as of `today`: balances are only known as they are now.
    """
    dialect = dialect_of(session)
    await tune_for_reports(session)
    slices = (await session.execute(_breakdowns(_cohort(flt, today, dialect)))).all()
    labels = await _labels(session)
    by_dim = {dim: [r for r in slices if r.dimension == dim] for dim in DIMENSIONS}
    return RecoveryReport(
        totals=_recovery_rows(by_dim["total"], {}),
        by_portfolio=_sorted_by_label(_recovery_rows(by_dim["portfolio"], labels["portfolio"])),
        by_creditor=_sorted_by_label(_recovery_rows(by_dim["creditor"], labels["creditor"])),
        by_dpd_bucket=_bucket_order(_recovery_rows(by_dim["dpd_bucket"], BUCKET_LABELS)),
        by_week=sorted(_recovery_rows(by_dim["week"], {}), key=lambda r: r.key),
        aging=_aging_rows(by_dim["dpd_bucket"]),
        payments_by_channel=await _payment_mix(session, flt),
        collected_by_week=await _cash_by_week(session, flt, dialect),
    )


def _cohort(flt: ReportFilter, today: date, dialect: str) -> CTE:
    """Accounts placed in the period at the finest grain (portfolio x bucket x week), once.

    Placed and paid are aggregated apart and stacked: joining payments to accounts first
    would count an account's balance once per payment.
    """
    bucket = dpd_bucket(Account.due_date, today).label("bucket")
    week = week_start(Account.created_at, dialect).label("week")
    grain = (Account.creditor_id, Account.portfolio_id, bucket, week)
    cohort = (*in_period(Account.created_at, flt), *account_scope(flt))
    is_open = Account.status == AccountStatus.ACTIVE
    placed = select(
        *grain, func.count().label("accounts"),
        func.sum(Account.original_balance).label("placed"),
        # Typed: a UNION takes its column types from the first SELECT (cents on SQLite).
        type_coerce(null(), Money).label("collected"),
        count_if(is_open).label("open_accounts"),
        func.sum(Account.current_balance).filter(is_open).label("open_balance"),
    ).where(*cohort).group_by(*grain)
    paid_until = [] if flt.end_before is None else [Payment.paid_at < flt.end_before]
    paid = (
        select(*grain, null(), null(), func.sum(kept()), null(), null())
        .select_from(Payment)
        .join(Account, Account.id == Payment.account_id)
        .where(*cohort, *paid_until)
        .group_by(*grain)
    )
    return union_all(placed, paid).cte("cohort")


def _breakdowns(cube: CTE) -> Any:
    """One statement: the cube rolled up along each dimension (the CTE is computed once)."""
    keys = {
        "portfolio": cube.c.portfolio_id, "creditor": cube.c.creditor_id,
        "dpd_bucket": cube.c.bucket, "week": cube.c.week,
    }
    parts = [_rollup(cube, "total", None)]
    parts += [_rollup(cube, dim, column) for dim, column in keys.items()]
    return union_all(*parts)


def _rollup(cube: CTE, dimension: str, key: Any) -> Any:
    key_column = literal("all") if key is None else cast(key, String)
    query = select(
        literal(dimension).label("dimension"), key_column.label("key"),
        func.sum(cube.c.accounts).label("accounts"), func.sum(cube.c.placed).label("placed"),
        func.sum(cube.c.collected).label("collected"),
        func.sum(cube.c.open_accounts).label("open_accounts"),
        func.sum(cube.c.open_balance).label("open_balance"),
    )
    return query if key is None else query.group_by(key)


async def _labels(session: AsyncSession) -> dict[str, dict[str, str]]:
    rows = (await session.execute(
        select(Portfolio.id, Portfolio.name, Creditor.id.label("cid"), Creditor.name.label("cn"))
        .join(Creditor, Creditor.id == Portfolio.creditor_id)
    )).all()
    return {
        "portfolio": {str(r.id): f"{r.cn} / {r.name}" for r in rows},
        "creditor": {str(r.cid): r.cn for r in rows},
    }


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(CENT)


def _recovery_rows(rows: Iterable[Any], labels: dict[str, str]) -> list[RecoveryRow]:
    return [
        RecoveryRow(
            key=r.key, label=labels.get(r.key, r.key), accounts=int(r.accounts or 0),
            placed=_money(r.placed), collected=_money(r.collected),
            recovery_rate=ratio(_money(r.collected), _money(r.placed)),
        )
        for r in rows
        if r.accounts
    ]


def _sorted_by_label(rows: list[RecoveryRow]) -> list[RecoveryRow]:
    return sorted(rows, key=lambda r: (r.label, r.key))


def _bucket_order(rows: list[RecoveryRow]) -> list[RecoveryRow]:
    """Buckets in DPD order, keyed by name (the SQL groups by their index)."""
    ordered = sorted(rows, key=lambda r: int(r.key))
    return [dataclasses.replace(r, key=bucket_name(r.key)) for r in ordered]


def _aging_rows(bucket_rows: list[Any]) -> list[AgingRow]:
    by_bucket = {bucket_name(r.key): r for r in bucket_rows}
    total = sum((_money(r.open_balance) for r in bucket_rows), ZERO)
    aging = []
    for name, _, _ in DPD_BUCKETS:
        row = by_bucket.get(name)
        balance = _money(row.open_balance if row else None)
        count = int(row.open_accounts or 0) if row else 0
        aging.append(AgingRow(name, count, balance, ratio(balance, total)))
    return aging


async def _payment_mix(session: AsyncSession, flt: ReportFilter) -> list[PaymentMixRow]:
    channel = func.coalesce(Payment.channel, "none").label("channel")
    query = (
        select(channel, Payment.method, func.count().label("n"),
               func.sum(kept()).label("amount"))
        .where(*in_period(Payment.paid_at, flt))
        .group_by(channel, Payment.method)
        .order_by(channel, Payment.method)
    )
    rows = (await session.execute(scoped_via(query, Payment.account_id, flt))).all()
    return [PaymentMixRow(r.channel, r.method, r.n, _money(r.amount)) for r in rows]


async def _cash_by_week(session: AsyncSession, flt: ReportFilter, dialect: str) -> list[CashRow]:
    week = week_start(Payment.paid_at, dialect).label("week")
    query = (
        select(week, func.count().label("n"), func.sum(kept()).label("amount"))
        .where(*in_period(Payment.paid_at, flt))
        .group_by(week)
        .order_by(week)
    )
    rows = (await session.execute(scoped_via(query, Payment.account_id, flt))).all()
    return [CashRow(str(r.week), r.n, _money(r.amount)) for r in rows]

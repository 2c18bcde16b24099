"""Stored all-time reports: what the refresh job computed, read back exactly as computed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import ReportSnapshot
from backend.reports.filters import ReportFilter
from backend.reports.money import rate_columns
from backend.reports.sql import Rate
from backend.reports.tables import tables_of

ALL_TIME = ReportFilter()


def encode(report: Any) -> dict[str, Any]:
    """A report as JSON: its tables' rows, money and rates as exact decimal strings (rates
    unrounded, so a page read from a snapshot rounds them once, as a live one does)."""
    exact = _with_rates(report, _exact)
    return _adapter(type(report)).dump_python(exact, mode="json")  # type: ignore[no-any-return]


def decode(report_type: type, data: dict[str, Any]) -> Any:
    """The report `encode` stored, with its Decimal and date fields typed again."""
    return _with_rates(_adapter(report_type).validate_python(data), Rate)


def _exact(rate: Decimal) -> Decimal:
    return rate.exact if isinstance(rate, Rate) else rate


def _with_rates(report: Any, convert: Callable[[Decimal], Decimal]) -> Any:
    """The report with every rate and share passed through `convert`."""
    changes = {name: [_row(row, convert, rate_columns(table.row_type)) for row in table.rows]
               for name, table in tables_of(report).items() if rate_columns(table.row_type)}
    return dataclasses.replace(report, **changes)


def _row(row: Any, convert: Callable[[Decimal], Decimal], columns: tuple[str, ...]) -> Any:
    return dataclasses.replace(row, **{
        column: convert(getattr(row, column))
        for column in columns if getattr(row, column) is not None})


@cache
def _adapter(report_type: type) -> TypeAdapter[Any]:
    return TypeAdapter(report_type)


async def stored(session: AsyncSession, page: str, options: str, today: date,
                 report_type: type) -> Any | None:
    """The page's all-time report for these options computed today, or None."""
    found = await stored_at(session, page, options, today, report_type)
    return None if found is None else found[0]


async def stored_at(session: AsyncSession, page: str, options: str, today: date,
                    report_type: type) -> tuple[Any, datetime] | None:
    """The page's all-time report for these options computed today and when, or None."""
    row = (await session.execute(select(ReportSnapshot.report, ReportSnapshot.computed_at).where(
        ReportSnapshot.page == page, ReportSnapshot.options == options,
        ReportSnapshot.today == today))).first()
    return None if row is None else (decode(report_type, row.report), row.computed_at)


async def store(session: AsyncSession, page: str, options: str, today: date, report: Any,
                now: datetime) -> None:
    """Replace the page's stored all-time report for these options."""
    await session.execute(delete(ReportSnapshot).where(
        ReportSnapshot.page == page, ReportSnapshot.options == options))
    session.add(ReportSnapshot(page=page, options=options, today=today, computed_at=now,
                               report=encode(report)))

"""Stored all-time reports: what the refresh job computed, read back exactly as computed."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import ReportSnapshot
from backend.reports.filters import ReportFilter

ALL_TIME = ReportFilter()


def encode(report: Any) -> dict[str, Any]:
    """A report as JSON: its tables' rows, money and rates as exact decimal strings."""
    return _adapter(type(report)).dump_python(report, mode="json")  # type: ignore[no-any-return]


def decode(report_type: type, data: dict[str, Any]) -> Any:
    """The report `encode` stored, with its Decimal and date fields typed again."""
    return _adapter(report_type).validate_python(data)


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

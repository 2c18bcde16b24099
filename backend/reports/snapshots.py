"""Stored all-time reports: what the refresh job computed, read back exactly as computed."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import ReportSnapshot
from backend.reports.filters import ReportFilter
from backend.reports.tables import tables_of

ALL_TIME = ReportFilter()


def encode(report: Any) -> dict[str, list[dict[str, Any]]]:
    """A report as JSON: its tables' rows, money and rates as exact decimal strings."""
    return {
        name: [{k: str(v) if isinstance(v, Decimal) else v
                for k, v in dataclasses.asdict(row).items()} for row in table.rows]
        for name, table in tables_of(report).items()
    }


def decode(report_type: type, data: dict[str, list[dict[str, Any]]]) -> Any:
    """The report `encode` stored, with its Decimal fields back as Decimal."""
    tables = {}
    for name, row_type in _row_types(report_type).items():
        decimals = {f for f, hint in typing.get_type_hints(row_type).items()
                    if Decimal in (hint, *typing.get_args(hint))}
        tables[name] = [
            row_type(**{k: Decimal(v) if k in decimals and v is not None else v
                        for k, v in row.items()})
            for row in data[name]
        ]
    return report_type(**tables)


def _row_types(report_type: type) -> dict[str, type]:
    hints = typing.get_type_hints(report_type)
    return {f.name: typing.get_args(hints[f.name])[0] for f in dataclasses.fields(report_type)}


async def stored(session: AsyncSession, page: str, options: str, today: date,
                 report_type: type) -> Any | None:
    """The page's all-time report for these options computed today, or None."""
    data = await session.scalar(select(ReportSnapshot.report).where(
        ReportSnapshot.page == page, ReportSnapshot.options == options,
        ReportSnapshot.today == today))
    return None if data is None else decode(report_type, data)


async def store(session: AsyncSession, page: str, options: str, today: date, report: Any,
                now: datetime) -> None:
    """Replace the page's stored all-time report for these options."""
    await session.execute(delete(ReportSnapshot).where(
        ReportSnapshot.page == page, ReportSnapshot.options == options))
    session.add(ReportSnapshot(page=page, options=options, today=today, computed_at=now,
                               report=encode(report)))

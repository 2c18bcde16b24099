"""Small SQL helpers; the only place that knows SQLite and PostgreSQL differ."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Integer,
    String,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from backend.services.accounts import DPD_BUCKETS

RATE = Decimal("0.0001")


class Rate(Decimal):
    """A rate to 4 places, as the API and CSV give it, that keeps its exact value: a page
    rounds the exact one once; rounding the 4 places again could land on the other side."""

    __slots__ = ("exact",)
    exact: Decimal

    def __new__(cls, exact: Decimal | str) -> Rate:
        exact = Decimal(exact)
        rate = super().__new__(cls, exact.quantize(RATE, ROUND_HALF_UP))
        rate.exact = exact
        return rate

    def __reduce__(self) -> tuple[type[Rate], tuple[str]]:
        return type(self), (str(self.exact),)  # a copy keeps the exact value, not the 4 places


def dialect_of(session: AsyncSession) -> str:
    """'sqlite' or 'postgresql'."""
    return session.get_bind().dialect.name


def week_start(column: Any, dialect: str) -> ColumnElement[Any]:
    """The Monday (ISO week start, UTC) of a timestamp: a date, or 'YYYY-MM-DD' on SQLite."""
    if dialect == "sqlite":
        # 'weekday 0' moves forward to Sunday (or stays); six days back is that week's Monday.
        return func.date(column, "weekday 0", "-6 days", type_=String)
    # Kept a DATE: grouping a million rows by text costs a collation-aware sort.
    return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)


def seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """Whole seconds from `start` to `end` (NULL when either is NULL)."""
    if dialect == "sqlite":
        # strftime('%s') is integer epoch seconds; julianday arithmetic would drift by ulps.
        return cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
    return cast(func.floor(extract("epoch", end - start)), Integer)


def dpd_bucket(due_date: Any, today: date) -> ColumnElement[int]:
    """The index in DPD_BUCKETS of `due_date`'s bucket as of `today` (see `bucket_name`).

    An integer, not the name: grouping a million rows by text is several times slower.
    """
    whens = [
        (due_date >= today - timedelta(days=high), literal(i))
        for i, (_name, _low, high) in enumerate(DPD_BUCKETS)
        if high is not None
    ]
    return case(*whens, else_=literal(len(DPD_BUCKETS) - 1))


def bucket_name(index: Any) -> str:
    """The DPD bucket name for an index returned by `dpd_bucket`."""
    return DPD_BUCKETS[int(index)][0]


async def tune_for_reports(session: AsyncSession) -> None:
    """PostgreSQL settings for this transaction's report queries.

    JIT compiling the aggregates costs seconds and saves less; the default 4 MB work_mem
    makes the million-row GROUP BYs spill to disk.
    """
    if dialect_of(session) == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '64MB'"))


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """COUNT(*) FILTER (WHERE condition) — both databases support the FILTER clause."""
    return func.count().filter(condition)


def average(expression: Any) -> ColumnElement[Any]:
    """AVG as a float on both databases (PostgreSQL would return NUMERIC)."""
    return cast(func.avg(expression), Float)


def ratio(numerator: Any, denominator: Any) -> Rate | None:
    """numerator / denominator as a `Rate`; None when there is nothing to divide by."""
    if not denominator:
        return None
    return Rate(Decimal(numerator or 0) / Decimal(denominator))


def plus_days(column: Any, days: int, dialect: str) -> ColumnElement[Any]:
    """`column` (a UTC timestamp) moved `days` whole days later."""
    if dialect == "sqlite":
        # datetime() drops the microseconds; stored values sort after it at the same second,
        # so `x < plus_days(...)` stays an exclusive bound.
        return func.datetime(column, f"+{int(days)} days", type_=String)
    return column + literal_column(f"interval '{int(days)} days'")

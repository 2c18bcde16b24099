"""The one filter every dashboard takes: a date range and a portfolio or creditor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select

from backend.db.models import Account, Conversation

Query = TypeVar("Query", bound=Select)


@dataclass(frozen=True)
class ReportFilter:
    """Dates are inclusive calendar days in UTC; every field is optional.

    Money adds up only within one currency: without `currency`, figures over accounts in
    several currencies are sums of unlike amounts (pages say so and offer the choice).
    """

    start: date | None = None
    end: date | None = None
    portfolio_id: int | None = None
    creditor_id: int | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end must not be before start")
        if self.end and self.end >= date.max:  # the range's end is the next midnight
            raise ValueError(f"end must be before {date.max.isoformat()}")

    @property
    def scoped(self) -> bool:
        """True when the figures are limited to a portfolio, a creditor or a currency."""
        return (self.portfolio_id is not None or self.creditor_id is not None
                or self.currency is not None)

    @property
    def start_at(self) -> datetime | None:
        """The first instant of the range."""
        return _midnight(self.start) if self.start else None

    @property
    def end_before(self) -> datetime | None:
        """The first instant after the range (ranges are half-open inside)."""
        return _midnight(self.end + timedelta(days=1)) if self.end else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def in_period(column: Any, flt: ReportFilter) -> list[ColumnElement[bool]]:
    """Conditions keeping `column` (a UTC timestamp) inside the filter's dates."""
    conditions: list[ColumnElement[bool]] = []
    if flt.start_at is not None:
        conditions.append(column >= flt.start_at)
    if flt.end_before is not None:
        conditions.append(column < flt.end_before)
    return conditions


def account_scope(flt: ReportFilter) -> list[ColumnElement[bool]]:
    """Conditions keeping accounts inside the filter's portfolio, creditor and currency."""
    conditions: list[ColumnElement[bool]] = []
    if flt.portfolio_id is not None:
        conditions.append(Account.portfolio_id == flt.portfolio_id)
    if flt.creditor_id is not None:
        conditions.append(Account.creditor_id == flt.creditor_id)
    if flt.currency is not None:
        conditions.append(Account.currency == flt.currency)
    return conditions


def scoped_via(query: Query, account_id: Any, flt: ReportFilter) -> Query:
    """`query` limited to the filter's accounts through `account_id`; joins only when scoped."""
    if not flt.scoped:
        return query
    return query.join(Account, Account.id == account_id).where(*account_scope(flt))


def scoped_via_conversation(
    query: Query, conversation_id: Any, flt: ReportFilter
) -> Query:
    """`query` limited to the filter's accounts through a conversation; joins only when scoped.

    Conversations with no account (unknown senders) fall outside any portfolio or creditor.
    """
    if not flt.scoped:
        return query
    return scoped_conversations(query.join(Conversation, Conversation.id == conversation_id), flt)


def scoped_conversations(query: Query, flt: ReportFilter) -> Query:
    """`query` (over conversation) limited to the filter's accounts.

    A portfolio is the conversation's own copy of its account's: no join through account
    over the whole period; a creditor still goes through the account.
    """
    if flt.creditor_id is not None or flt.currency is not None:
        return scoped_via(query, Conversation.account_id, flt)
    if flt.portfolio_id is not None:
        return query.where(Conversation.portfolio_id == flt.portfolio_id)
    return query


def period_conversations(flt: ReportFilter) -> Any:
    """Ids of the conversations started in the period inside the filter's scope."""
    query = select(Conversation.id).where(*in_period(Conversation.started_at, flt))
    return scoped_conversations(query, flt)


async def currencies_in_scope(session: Any, flt: ReportFilter) -> list[str]:
    """The currencies of the accounts the filter's portfolio or creditor holds."""
    rows = await session.scalars(select(Account.currency).distinct()
                                 .where(*account_scope(replace(flt, currency=None)))
                                 .order_by(Account.currency))
    return list(rows)

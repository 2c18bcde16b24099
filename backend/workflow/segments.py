"""Segmentation in SQL: one CASE gives every account its (strategy, segment) — first match wins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case, exists, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, AccountRisk, ContactPoint, Debtor, Portfolio
from backend.workflow.store import LoadedVersion
from backend.workflow.strategy import Segment


@dataclass(frozen=True)
class SegmentSlot:
    """One segment of one strategy version, numbered in matching order."""

    index: int
    version: LoadedVersion
    segment: Segment


def slots(versions: Sequence[LoadedVersion]) -> list[SegmentSlot]:
    """Every segment of every version, in priority order."""
    flat = [(v, s) for v in versions for s in v.definition.segments]
    return [SegmentSlot(i, v, s) for i, (v, s) in enumerate(flat)]


async def portfolio_ids(session: AsyncSession, names: set[str]) -> dict[str, int]:
    """Portfolio ids by name (segments name portfolios; ids keep the SQL simple)."""
    if not names:
        return {}
    rows = await session.execute(select(Portfolio.name, Portfolio.id)
                                 .where(Portfolio.name.in_(sorted(names))))
    found: dict[str, int] = {}
    for name, pid in rows.all():
        found.setdefault(name, pid)
    return found


def segment_case(
    all_slots: Sequence[SegmentSlot], today: date, portfolios: dict[str, int]
) -> ColumnElement[int | None]:
    """The matching slot index per account (NULL when no segment matches).

    Expects `Account`, `Debtor` and an outer-joined `AccountRisk` in the FROM clause.
    """
    whens = [(condition(s.segment, today, portfolios), s.index) for s in all_slots]
    return case(*whens, else_=literal(None)) if whens else literal(None)


def condition(seg: Segment, today: date, portfolios: dict[str, int]) -> ColumnElement[bool]:
    """The SQL condition of one segment."""
    parts: list[ColumnElement[bool]] = [true()]
    # days past due = max(0, today - due_date); compare the column, never compute per row.
    if seg.min_days_past_due is not None and seg.min_days_past_due > 0:
        parts.append(Account.due_date <= today - timedelta(days=seg.min_days_past_due))
    if seg.max_days_past_due is not None:
        parts.append(Account.due_date >= today - timedelta(days=max(0, seg.max_days_past_due)))
    if seg.min_balance is not None:
        parts.append(Account.current_balance >= seg.min_balance)
    if seg.max_balance is not None:
        parts.append(Account.current_balance <= seg.max_balance)
    if seg.portfolios:
        parts.append(Account.portfolio_id.in_([portfolios.get(n, -1) for n in seg.portfolios]))
    if seg.min_risk is not None:
        parts.append(AccountRisk.score >= seg.min_risk)
    if seg.max_risk is not None:
        parts.append(AccountRisk.score <= seg.max_risk)
    if seg.languages:
        parts.append(Debtor.preferred_language.in_(seg.languages))
    if seg.channels:
        parts.append(exists().where(
            ContactPoint.debtor_id == Account.debtor_id, ContactPoint.channel.in_(seg.channels),
            ContactPoint.opted_out_at.is_(None), ContactPoint.consent.is_(True)))
    return and_(*parts)


def matches(seg: Segment, dpd: int, balance: object, portfolio: str, risk: int | None,
            language: str, channels: set[str]) -> bool:
    """The same condition in Python, for one account (the visible schedule uses it)."""
    checks = (
        seg.min_days_past_due is None or dpd >= seg.min_days_past_due,
        seg.max_days_past_due is None or dpd <= seg.max_days_past_due,
        seg.min_balance is None or balance >= seg.min_balance,  # type: ignore[operator]
        seg.max_balance is None or balance <= seg.max_balance,  # type: ignore[operator]
        not seg.portfolios or portfolio in seg.portfolios,
        seg.min_risk is None or (risk is not None and risk >= seg.min_risk),
        seg.max_risk is None or (risk is not None and risk <= seg.max_risk),
        not seg.languages or language in seg.languages,
        not seg.channels or bool(channels & set(seg.channels)),
    )
    return all(checks)

"""Strategy: per step and A/B variant — sent, delivered, replied, promised, paid, collected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    and_,
    cast,
    distinct,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import (
    Message,
    Payment,
    PlannedContact,
    Promise,
    Strategy,
    StrategyVersion,
)
from backend.db.models.enums import DeliveryStatus, Direction
from backend.db.types import CENT, Money
from backend.reports.collected import kept
from backend.reports.filters import ReportFilter, scoped_via
from backend.reports.sql import count_if, dialect_of, plus_days, ratio, tune_for_reports

DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 90
DELIVERED = (DeliveryStatus.DELIVERED, DeliveryStatus.READ)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StepRow:
    """Workflow messages of one strategy step and variant sent in the period, and what followed.

    `variant` is None for steps without an A/B test; `collected` is the attributed payments.
    """

    strategy: str
    step: str
    variant: str | None
    sent: int
    delivered: int
    replied: int
    promised: int
    paid: int
    collected: Decimal
    delivery_rate: Decimal | None
    reply_rate: Decimal | None
    promise_rate: Decimal | None
    pay_rate: Decimal | None
    collected_per_send: Decimal | None


@dataclass(frozen=True)
class StrategyReport:
    """The strategy dashboard: every table of the page."""

    totals: list[StepRow]
    steps: list[StepRow]


async def strategy_report(
    session: AsyncSession, flt: ReportFilter, *, window_days: int = DEFAULT_WINDOW_DAYS
) -> StrategyReport:
    """Sends of the period (when the workflow marked them sent) and the responses credited.

    Attribution is last touch within a window: a reply (an inbound message on the
    conversation the send went to), a promise or a payment on the account is credited to the
    account's latest workflow send at or before it, if that send is less than `window_days`
    old. So each response counts once, sends of one account never share it, and the steps add
    up. Responses up to `window_days` after a send count even when they fall after the period.
    """
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise ValueError(f"window_days must be between 1 and {MAX_WINDOW_DAYS}")
    await tune_for_reports(session)
    sends = _sends(flt, window_days, dialect_of(session))
    rows = (await session.execute(_per_step(sends, flt))).all()
    names = {r.id: r.name for r in await session.execute(select(Strategy.id, Strategy.name))}
    steps = _steps(list(rows), names)
    return StrategyReport(totals=[_total(steps)], steps=steps)


def _sends(flt: ReportFilter, window_days: int, dialect: str) -> CTE:
    """Sent contacts from the period's start to `window_days` past its end, with each one's
    credit window [sent_at, min(sent_at + window, the account's next send)).

    Sends just after the period are read only to end the windows of those inside it.
    """
    # A sent row's updated_at is when it was marked sent (right after its message went out)
    # and never changes again; the row keeps its message's state and conversation, so the
    # sends are read without the message table.
    sent_at = PlannedContact.updated_at
    order = [sent_at, PlannedContact.id]
    query = (
        select(
            PlannedContact.id, PlannedContact.account_id, StrategyVersion.strategy_id,
            PlannedContact.step, PlannedContact.variant, sent_at.label("sent_at"),
            PlannedContact.delivery_status, PlannedContact.conversation_id,
            plus_days(sent_at, window_days, dialect).label("until"),
            (literal(True) if flt.end_before is None else sent_at < flt.end_before)
            .label("counted"),
            func.lead(sent_at).over(partition_by=PlannedContact.account_id, order_by=order)
            .label("next_at"),
        )
        .join(StrategyVersion, StrategyVersion.id == PlannedContact.strategy_version_id)
        .where(PlannedContact.status == "sent")
    )
    if flt.start_at is not None:
        query = query.where(sent_at >= flt.start_at)
    if flt.end_before is not None:
        query = query.where(sent_at < flt.end_before + timedelta(days=window_days))
    return scoped_via(query, PlannedContact.account_id, flt).cte("sends")


def _credited(sends: CTE, at: Any) -> Any:
    """Conditions crediting an event at `at` to a send."""
    return and_(at >= sends.c.sent_at, at < sends.c.until,
                or_(sends.c.next_at.is_(None), at < sends.c.next_at))


def _since(column: Any, flt: ReportFilter) -> list[Any]:
    # No event before the period's first send can be credited: lets the date index work.
    return [] if flt.start_at is None else [column >= flt.start_at]


def _per_step(sends: CTE, flt: ReportFilter) -> Any:
    """One statement: sends, replies, promises and payments each counted per step (the
    CTE is computed once). Counting straight to the few steps, instead of per send and
    joined back to every send, spares a join and a sort of all the period's sends."""
    # Grouped by whether a send is in the period rather than filtered on it: a filter on the
    # CTE hides its size from PostgreSQL, which then probes an index once per send.
    grain = (sends.c.counted, sends.c.strategy_id, sends.c.step, sends.c.variant)
    sent = select(
        literal("sent").label("kind"), *grain, func.count().label("n"),
        count_if(sends.c.delivery_status.in_(DELIVERED)).label("delivered"),
        # Cast: PostgreSQL types a UNION's columns pairwise (NULL with NULL makes text), and
        # SQLAlchemy reads them as the first SELECT's (cents on SQLite).
        cast(null(), Money).label("amount"),
    ).group_by(*grain)

    def credited(kind: str, table: Any, key: str, at: Any, amount: Any = None) -> Any:
        return (
            select(literal(kind), *grain, func.count(distinct(sends.c.id)), null(),
                   null() if amount is None else func.sum(amount))
            .select_from(table)
            .join(sends, sends.c[key] == table.c[key])
            .where(*_since(at, flt), _credited(sends, at))
            .group_by(*grain)
        )

    # A reply is an inbound message on the send's own conversation (no conversation table).
    replied = credited("replied", Message.__table__, "conversation_id",
                       Message.created_at).where(Message.direction == Direction.INBOUND)
    promised = credited("promised", Promise.__table__, "account_id", Promise.created_at)
    paid = credited("paid", Payment.__table__, "account_id", Payment.paid_at, kept())
    return union_all(sent, replied, promised, paid)


def _steps(rows: list[Any], names: dict[int, str]) -> list[StepRow]:
    """The per-kind counts of `_per_step` gathered into one row per step and variant."""
    figures: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        if not r.counted:
            continue  # sent after the period: read only to end the windows of earlier sends
        found = figures.setdefault((r.strategy_id, r.step, r.variant), {})
        found[r.kind] = r.n
        if r.kind == "sent":
            found["delivered"] = r.delivered
        if r.kind == "paid":
            found["collected"] = r.amount
    steps = [
        _row(names.get(strategy_id, str(strategy_id)), step, variant, f.get("sent", 0),
             f.get("delivered", 0), f.get("replied", 0), f.get("promised", 0), f.get("paid", 0),
             _money(f.get("collected")))
        for (strategy_id, step, variant), f in figures.items()
    ]
    return sorted(steps, key=lambda s: (s.strategy, s.step, s.variant or ""))


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(CENT)


def _row(strategy: str, step: str, variant: str | None, sent: int, delivered: int,
         replied: int, promised: int, paid: int, collected: Decimal) -> StepRow:
    per_send = None if not sent else (collected / sent).quantize(CENT)
    return StepRow(strategy, step, variant, sent, delivered, replied, promised, paid, collected,
                   ratio(delivered, sent), ratio(replied, sent), ratio(promised, sent),
                   ratio(paid, sent), per_send)


def _total(steps: list[StepRow]) -> StepRow:
    """Every step together (exact: each response is credited to one send only)."""
    def add(field: str) -> int:
        return sum(getattr(s, field) for s in steps)

    return _row("all", "all", None, add("sent"), add("delivered"), add("replied"),
                add("promised"), add("paid"), sum((s.collected for s in steps), ZERO))

"""The planner: which accounts are due which step today, as one INSERT ... SELECT per step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Insert, case, exists, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import Account, AccountRisk, Debtor, PlannedContact
from backend.db.types import UtcDateTime
from backend.services.geo import DEFAULT_TIMEZONE
from backend.workflow.segments import SegmentSlot, portfolio_ids, segment_case, slots
from backend.workflow.sources import source_for
from backend.workflow.stops import hold_reason, reachable_on
from backend.workflow.store import LoadedVersion
from backend.workflow.strategy import Step
from backend.workflow.variants import choose_sql

COLUMNS = (
    "key", "account_id", "strategy_version_id", "segment", "step", "variant", "anchor",
    "anchor_date", "source_id", "due_at", "status", "reason", "attempts", "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class Scope:
    """Limits for a dry run: one portfolio, and keys that never collide with live ones.

    With a key prefix, a contact the live planner already planned (or sent) is not planned
    again: the dry run takes it as done, as the live planner's ON CONFLICT would.
    """

    portfolio_id: int | None = None
    key_prefix: str = ""


@dataclass
class PlanReport:
    """How many contacts each step planned today."""

    day: date
    planned: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All contacts planned."""
        return sum(self.planned.values())


async def plan_day(
    session: AsyncSession, versions: Sequence[LoadedVersion], now: datetime,
    scope: Scope | None = None,
) -> PlanReport:
    """Plan every step whose day (anchor + offset) is today or within the catch-up window.

    Idempotent: a contact's key names the account or source row, the step and the anchor, so
    planning twice (or from two workers) inserts nothing new.
    """
    today, scope = now.date(), scope or Scope()
    report = PlanReport(today)
    if not versions:
        return report
    all_slots = slots(versions)
    names = {n for s in all_slots for n in s.segment.portfolios}
    segmenting = segment_case(all_slots, today, await portfolio_ids(session, names))
    zones = await _zones(session)
    for slot in all_slots:
        for step in _steps(slot, versions):
            query = _select(slot, step, segmenting, today, now, zones, scope)
            stmt = _insert(session, query)
            result = await session.execute(stmt)
            count = max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
            report.planned[step.id] = report.planned.get(step.id, 0) + count
    return report


def _steps(slot: SegmentSlot, versions: Sequence[LoadedVersion]) -> list[Step]:
    """The segment's ladder, and the version's event steps once per segment."""
    return list(slot.segment.steps) + list(slot.version.definition.events)


def _select(slot: SegmentSlot, step: Step, segmenting: ColumnElement[int | None], today: date,
            now: datetime, zones: list[str], scope: Scope):  # type: ignore[no-untyped-def]
    life = slot.version.definition.lifecycle
    source = source_for(step, life)
    last = today - timedelta(days=step.offset_days + source.shift_days)
    first = last - timedelta(days=life.catch_up_days)
    reason = (f"{step.reason or step.id}: {step.anchor} {step.offset_days:+d} d "
              f"(segment {slot.segment.name}, {slot.version.name} v{slot.version.version})")
    stamp = literal(now, UtcDateTime)
    query = (
        select(
            literal(scope.key_prefix) + source.key, Account.id, literal(slot.version.id),
            literal(slot.segment.name), literal(step.id), choose_sql(step), literal(step.anchor),
            source.event_date, source.source_id, _due_at(step, today, zones),
            literal("planned"), literal(reason[:200]), literal(0), stamp, stamp,
        )
        .select_from(Account)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .outerjoin(AccountRisk, AccountRisk.account_id == Account.id)
    )
    query = source.attach(query).where(
        source.event_date >= literal(first, Date), source.event_date <= literal(last, Date),
        segmenting == slot.index,
        hold_reason(step.anchor, now, timedelta(hours=life.reply_pause_hours)).is_(None),
    )
    if step.action == "message":
        query = query.where(reachable_on(step.channels))
    if scope.portfolio_id is not None:
        query = query.where(Account.portfolio_id == scope.portfolio_id)
    if scope.key_prefix:
        live = aliased(PlannedContact)
        query = query.where(~exists().where(live.key == source.key))
    return query


def _due_at(step: Step, today: date, zones: list[str]) -> ColumnElement[datetime]:
    """The step's window start today in the debtor's timezone, as UTC (a CASE per zone)."""
    def at(zone: str) -> datetime:
        local = datetime.combine(today, step.window.start, tzinfo=ZoneInfo(zone))
        return local.astimezone(UTC)

    default = literal(at(DEFAULT_TIMEZONE), UtcDateTime)
    whens = [(Debtor.timezone == z, literal(at(z), UtcDateTime)) for z in zones]
    return case(*whens, else_=default) if whens else default


async def _zones(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(Debtor.timezone).distinct())
    return [z for z in rows.all() if z and _known(z)]


def _known(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        return False
    return True


def _insert(session: AsyncSession, query) -> Insert:  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(PlannedContact).from_select(list(COLUMNS), query)
    return stmt.on_conflict_do_nothing(index_elements=["key"])

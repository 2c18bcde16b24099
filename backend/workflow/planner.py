"""The planner: which accounts are due which step today, as one INSERT ... SELECT per step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Insert, case, exists, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import (
    Account,
    AccountRisk,
    Debtor,
    Installment,
    PaymentPlan,
    PlannedContact,
    Promise,
)
from backend.db.models.enums import InstallmentStatus, PlanStatus, PromiseStatus
from backend.db.types import UtcDateTime
from backend.services.geo import DEFAULT_TIMEZONE, is_known_timezone
from backend.workflow.segments import SegmentSlot, portfolio_ids, segment_case, slots
from backend.workflow.sources import Source, source_for
from backend.workflow.stops import hold_reason, reachable_on, resumed
from backend.workflow.store import LoadedVersion
from backend.workflow.strategy import Segment, Step
from backend.workflow.variants import choose_sql

# Where an account no segment matches is planned: the reminders and follow-ups of what the
# debtor agreed (event steps) still go; no ladder does.
UNSEGMENTED = Segment(name="unsegmented")

COLUMNS = (
    "key", "account_id", "strategy_version_id", "segment", "step", "variant", "anchor",
    "anchor_date", "source_id", "due_at", "status", "reason", "attempts", "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class Scope:
    """Limits for a dry run: one portfolio, one creditor (a bound API key's), and keys that
    never collide with live ones.

    With a key prefix, a contact the live planner already planned (or sent) is not planned
    again: the dry run takes it as done, as the live planner's ON CONFLICT would.
    """

    portfolio_id: int | None = None
    key_prefix: str = ""
    creditor_id: int | None = None


@dataclass(frozen=True)
class LocalDay:
    """The debtors whose local date is `day` now: those in `zones`, and maybe the zoneless."""

    day: date
    zones: tuple[str, ...]
    default: bool  # also debtors with no (or an unknown) zone, planned in DEFAULT_TIMEZONE

    def debtors(self, known: Sequence[str]) -> ColumnElement[bool]:
        """The SQL condition selecting these debtors (`known`: every valid zone on file)."""
        mine = Debtor.timezone.in_(self.zones)
        if not self.default:
            return mine
        return or_(mine, Debtor.timezone.is_(None), Debtor.timezone.not_in(list(known)))


@dataclass
class PlanReport:
    """How many contacts each step planned on this run (`day`: its UTC date)."""

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

    "Today" is each debtor's local date (DEFAULT_TIMEZONE when the zone is unknown), so a step
    "one day before the due date" is planned for the day before in the debtor's calendar.
    Idempotent: a contact's key names the account or source row, the step and the anchor, so
    planning twice (or from two workers) inserts nothing new.
    """
    scope = scope or Scope()
    report = PlanReport(now.date())
    if not versions:
        return report
    all_slots = slots(versions)
    names = {n for s in all_slots for n in s.segment.portfolios}
    portfolios = await portfolio_ids(session, names)
    zones = await known_zones(session)
    targets = [*all_slots, SegmentSlot(-1, versions[0], UNSEGMENTED)]
    for local in local_days(now, zones):
        segmenting = segment_case(all_slots, local.day, portfolios)
        for slot in targets:
            for step in _steps(slot, versions):
                query = _select(slot, step, _members(slot, segmenting), local.day, now,
                                local.zones, scope)
                stmt = _insert(session, query.where(local.debtors(zones)))
                result = await session.execute(stmt)
                count = max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
                report.planned[step.id] = report.planned.get(step.id, 0) + count
    return report


def local_days(now: datetime, zones: Sequence[str]) -> list[LocalDay]:
    """The debtors' zones grouped by their local date at `now` (two or three groups at most)."""
    default_day = _local_date(now, DEFAULT_TIMEZONE)
    by_day: dict[date, list[str]] = {default_day: []}
    for zone in zones:
        by_day.setdefault(_local_date(now, zone), []).append(zone)
    return [LocalDay(day, tuple(group), day == default_day)
            for day, group in sorted(by_day.items())]


def _local_date(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def day_starts(zones: Sequence[str], start: datetime, end: datetime) -> list[datetime]:
    """`start` and each moment in [start, end) when a debtor's local date changes (UTC).

    A caller that plans once per period (the dry run, once a UTC day) plans at each of these
    too, or a debtor's step would wait until the next period after their local day began.
    """
    moments = {start}
    for zone in {*zones, DEFAULT_TIMEZONE}:
        tz = ZoneInfo(zone)
        day = start.astimezone(tz).date()
        while (at := datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)) < end:
            if at > start:
                moments.add(at)
            day += timedelta(days=1)
    return sorted(moments)


def _steps(slot: SegmentSlot, versions: Sequence[LoadedVersion]) -> list[Step]:
    """The segment's ladder, and the version's event steps once per segment."""
    return list(slot.segment.steps) + list(slot.version.definition.events)


def _members(slot: SegmentSlot, segmenting: ColumnElement[int | None]) -> ColumnElement[bool]:
    """The accounts `slot` plans for: its segment's, or (UNSEGMENTED) those of no segment, whose
    arrangements the highest-priority strategy's event steps follow."""
    if slot.segment is UNSEGMENTED:
        return segmenting.is_(None)
    return segmenting == slot.index


def _select(slot: SegmentSlot, step: Step, members: ColumnElement[bool], today: date,
            now: datetime, zones: Sequence[str], scope: Scope):  # type: ignore[no-untyped-def]
    life = slot.version.definition.lifecycle
    source = source_for(step, life)
    last = today - timedelta(days=step.offset_days + source.shift_days)
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
        _since(slot, step, source, today, last), source.event_date <= literal(last, Date),
        members,
        hold_reason(step.anchor, now, timedelta(hours=life.reply_pause_hours)).is_(None),
    )
    if step.action == "message":
        query = query.where(reachable_on(step.channels))
    if scope.portfolio_id is not None:
        query = query.where(Account.portfolio_id == scope.portfolio_id)
    if scope.creditor_id is not None:
        query = query.where(Account.creditor_id == scope.creditor_id)
    if scope.key_prefix:
        live = aliased(PlannedContact)
        query = query.where(~exists().where(live.key == source.key))
    return query


def _since(slot: SegmentSlot, step: Step, source: Source, today: date, last: date
           ) -> ColumnElement[bool]:
    """Which source dates are not too old for `step` today.

    An event step before its event ("tomorrow's arrangement") is never planned once the
    event's day has come: its wording would be false. Otherwise a step is planned up to
    `catch_up_days` late; and when a hold ends (a promise or plan ended and followed up, or
    the ladder under way), a ladder step held longer is planned if it is the latest message
    step due, a handoff whenever it is
    due; the sender then sends only the latest.
    """
    life = slot.version.definition.lifecycle
    catch_up = last - timedelta(days=life.catch_up_days)
    if step.offset_days < 0 and step.anchor != "due_date":
        first = max(catch_up, today - timedelta(days=source.shift_days - 1))
        return source.event_date >= literal(first, Date)
    in_time = source.event_date >= literal(catch_up, Date)
    if step.anchor != "due_date":
        return in_time
    later = [s.offset_days for s in slot.segment.steps
             if s.action == "message" and s.offset_days > step.offset_days]
    back = resumed() & ~_follow_up_to_come(slot, today)
    if step.action == "handoff" or not later:
        return or_(in_time, back)
    # Latest due: its day has come and the next message step's has not.
    latest = source.event_date >= literal(today - timedelta(days=min(later) - 1), Date)
    return or_(in_time, latest & back)


def _follow_up_to_come(slot: SegmentSlot, today: date) -> ColumnElement[bool]:
    """A broken promise or plan whose follow-up day is today or later: it goes first."""
    definition = slot.version.definition
    life = definition.lifecycle

    def last_offset(anchor: str) -> int:
        return max([e.offset_days for e in definition.events if e.anchor == anchor] or [0])

    promise_since = today - timedelta(
        days=life.promise_grace_days + last_offset("promise_broken"))
    plan_since = today - timedelta(
        days=life.installment_grace_days + last_offset("plan_broken"))
    p, plan, missed = aliased(Promise), aliased(PaymentPlan), aliased(Installment)
    broken = (PromiseStatus.BROKEN.value, PromiseStatus.PARTIALLY_KEPT.value)
    return or_(
        exists().where(p.account_id == Account.id, p.status.in_(broken),
                       p.due_date >= literal(promise_since, Date)),
        exists().where(plan.account_id == Account.id, plan.status == PlanStatus.BROKEN,
                       missed.plan_id == plan.id, missed.status == InstallmentStatus.MISSED,
                       missed.due_date >= literal(plan_since, Date)),
    )


def _due_at(step: Step, today: date, zones: Sequence[str]) -> ColumnElement[datetime]:
    """The step's window start today in the debtor's timezone, as UTC (a CASE per zone)."""
    def at(zone: str) -> datetime:
        local = datetime.combine(today, step.window.start, tzinfo=ZoneInfo(zone))
        return local.astimezone(UTC)

    default = literal(at(DEFAULT_TIMEZONE), UtcDateTime)
    whens = [(Debtor.timezone == z, literal(at(z), UtcDateTime)) for z in zones]
    return case(*whens, else_=default) if whens else default


async def known_zones(session: AsyncSession) -> list[str]:
    """Every valid debtor timezone on file (the rest are planned in DEFAULT_TIMEZONE)."""
    rows = await session.scalars(select(Debtor.timezone).distinct())
    return [z for z in rows.all() if z and is_known_timezone(z)]


def _insert(session: AsyncSession, query) -> Insert:  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(PlannedContact).from_select(list(COLUMNS), query)
    return stmt.on_conflict_do_nothing(index_elements=["key"])

"""The visible schedule: per account, the next planned contacts and why (or why none)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, AccountRisk, ContactPoint, Debtor, PlannedContact, Portfolio
from backend.services.geo import debtor_today, debtor_zone
from backend.workflow.segments import matches
from backend.workflow.stops import hold_for
from backend.workflow.store import LoadedVersion, active_versions
from backend.workflow.strategy import Segment, Step

UPCOMING = ("planned", "deferred", "queued")
PROJECTED_STEPS = 3


@dataclass(frozen=True)
class PlannedContactView:
    """One upcoming contact: planned (a row), projected (from the ladder) or held (and why)."""

    step: str | None
    status: str
    due_at: datetime | None
    channel: str | None
    reason: str
    strategy: str | None = None


async def planned_contacts(
    session: AsyncSession, account_id: int, now: datetime
) -> list[PlannedContactView]:
    """Planned rows first, then a hold if one applies, else the ladder's next steps."""
    views = [_view(row) for row in await _upcoming(session, account_id)]
    versions = await active_versions(session)
    if not versions:
        return views
    life = versions[0].definition.lifecycle
    held = await hold_for(session, account_id, "due_date", now,
                          timedelta(hours=life.reply_pause_hours))
    if held:
        return [*views, PlannedContactView(None, "held", None, None, held)]
    return views + await _projected(session, account_id, versions, now)


async def _upcoming(session: AsyncSession, account_id: int) -> list[PlannedContact]:
    rows = await session.scalars(
        select(PlannedContact)
        .where(PlannedContact.account_id == account_id, PlannedContact.status.in_(UPCOMING))
        .order_by(PlannedContact.due_at, PlannedContact.id))
    return list(rows.all())


def _view(row: PlannedContact) -> PlannedContactView:
    reason = f"{row.reason}; {row.outcome}" if row.outcome else row.reason
    return PlannedContactView(row.step, row.status, row.due_at, row.channel, reason)


async def _projected(session: AsyncSession, account_id: int, versions: list[LoadedVersion],
                     now: datetime) -> list[PlannedContactView]:
    found = await _segment_of(session, account_id, versions, now)
    if found is None:
        return [PlannedContactView(None, "unsegmented", None, None,
                                   "no segment of an active strategy matches this account")]
    version, segment, account, zone, reachable = found
    today = debtor_today(now, zone)
    done = set((await session.scalars(select(PlannedContact.step).where(
        PlannedContact.account_id == account_id, PlannedContact.anchor == "due_date",
        PlannedContact.anchor_date == account.due_date))).all())
    upcoming = [s for s in segment.steps if s.id not in done
                and account.due_date + timedelta(days=s.offset_days) >= today]
    return [_projection(version, segment, step, account.due_date, zone, reachable)
            for step in sorted(upcoming, key=lambda s: s.offset_days)[:PROJECTED_STEPS]]


def _projection(version: LoadedVersion, segment: Segment, step: Step, due: date,
                zone: str, reachable: set[str]) -> PlannedContactView:
    day = due + timedelta(days=step.offset_days)
    at = datetime.combine(day, step.window.start, tzinfo=debtor_zone(zone)).astimezone(UTC)
    reason = (f"{step.reason or step.id}: due date {step.offset_days:+d} d "
              f"(segment {segment.name}, if nothing changes before then)")
    channel = None if step.action == "handoff" else _first_reachable(step, reachable)
    return PlannedContactView(step.id, "projected", at, channel, reason,
                              f"{version.name} v{version.version}")


def _first_reachable(step: Step, reachable: set[str]) -> str | None:
    """The channel the sender would pick: the step's first one the debtor can be reached on.

    None when there is none (the sender would block the step, `no_reachable_channel`).
    """
    return next((channel for channel in step.channels if channel in reachable), None)


async def _segment_of(session: AsyncSession, account_id: int, versions: list[LoadedVersion],
                      now: datetime
                      ) -> tuple[LoadedVersion, Segment, Account, str, set[str]] | None:
    """The account's segment, with the channels it matched on and those the sender may use."""
    row = (await session.execute(
        select(Account, Debtor, Portfolio.name, AccountRisk.score)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .join(Portfolio, Portfolio.id == Account.portfolio_id)
        .outerjoin(AccountRisk, AccountRisk.account_id == Account.id)
        .where(Account.id == account_id))).first()
    if row is None:
        return None
    account, debtor, portfolio, risk = row
    points = (await session.execute(select(ContactPoint.channel, ContactPoint.wrong_party).where(
        ContactPoint.debtor_id == debtor.id, ContactPoint.opted_out_at.is_(None),
        ContactPoint.consent.is_(True)))).all()
    channels = {channel for channel, _ in points}  # as the planner matches segments
    # The sender also skips a number that reached the wrong person (`ContactPoint.reachable`).
    reachable = {channel for channel, wrong_party in points if not wrong_party}
    dpd = account.days_past_due(debtor_today(now, debtor.timezone))
    for version in versions:
        for segment in version.definition.segments:
            if matches(segment, dpd, account.current_balance, portfolio, risk,
                       debtor.preferred_language, channels):
                return version, segment, account, debtor.timezone, reachable
    return None

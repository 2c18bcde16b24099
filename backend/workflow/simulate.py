"""The dry run: the live jobs on a simulated clock, inside a transaction that is rolled back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backend.db.engine import build_engine
from backend.db.models import PlannedContact
from backend.services.compliance.facts import load_facts
from backend.services.compliance.gate import GateDecision, decide
from backend.services.compliance.rules import ComplianceRules
from backend.services.handoff import HandoffService
from backend.services.outbox import SqlOutbox
from backend.services.queues import load_queues
from backend.workflow import jobs
from backend.workflow.context import WorkflowContext
from backend.workflow.planner import Scope, day_starts, known_zones
from backend.workflow.sender import CLAIMABLE, send_contact
from backend.workflow.store import LoadedVersion
from bot.clock import SettableClock
from bot.messages import OutboundMessage

SIM_PREFIX = "sim:"


@dataclass(frozen=True)
class SimulatedContact:
    """One contact the strategy would make, with the compliance decision at that moment."""

    day: int
    at: datetime
    account_id: int
    step: str
    variant: str | None
    channel: str | None
    decision: str  # sent / deferred / blocked / cancelled / handed_off / planned
    reason: str | None
    not_before: datetime | None = None


@dataclass
class SimulationReport:
    """Everything a dry run would have done, day by day."""

    strategy: str
    version: int
    start: datetime
    days: int
    contacts: list[SimulatedContact] = field(default_factory=list)

    def by_decision(self) -> dict[str, int]:
        """How many contacts ended in each decision."""
        counts: dict[str, int] = {}
        for contact in self.contacts:
            counts[contact.decision] = counts.get(contact.decision, 0) + 1
        return counts


class SimulationGate:
    """The live gate's decision function, without writing the audit log (a dry run is no send)."""

    def __init__(self, rules: ComplianceRules) -> None:
        self.rules = rules

    async def preview(self, session: AsyncSession, outbound: OutboundMessage,
                      conversation_id: int | None, now: datetime) -> GateDecision:
        """As ComplianceGate.preview."""
        facts = await load_facts(session, outbound, conversation_id, now, self.rules)
        return decide(outbound, facts, self.rules, now)

    async def evaluate(self, session: AsyncSession, outbound: OutboundMessage, *,
                       conversation_id: int | None, message_id: int,
                       now: datetime) -> GateDecision:
        """As ComplianceGate.evaluate, minus the audit record."""
        facts = await load_facts(session, outbound, conversation_id, now, self.rules,
                                 exclude_id=message_id)
        return decide(outbound, facts, self.rules, now)


async def simulate(
    engine: AsyncEngine, version: LoadedVersion, *, rules: ComplianceRules, start: datetime,
    days: int, portfolio_id: int | None = None, portal_links: Any = None, handoffs: Any = None,
    channels: frozenset[str] | None = None, creditor_id: int | None = None,
) -> SimulationReport:
    """Run `version` over `days` from `start`; nothing it writes survives (rolled back).

    With `portfolio_id` or `creditor_id` only that portfolio's or creditor's accounts are run.
    """
    report = SimulationReport(version.name, version.version, start, days)
    # A handoff step must rehearse as the live one runs it; without events, so the console
    # is not told about handoffs the rollback undoes.
    handoffs = handoffs or HandoffService(load_queues(), None)
    own = _savepoint_engine(engine)
    try:
        async with (own or engine).connect() as conn:
            outer = await conn.begin()
            try:
                ctx = _context(conn, version, rules, start,
                               Scope(portfolio_id, SIM_PREFIX, creditor_id), portal_links,
                               handoffs, channels)
                for day in range(days):
                    await _run_day(ctx, day, report)
            finally:
                await outer.rollback()
    finally:
        if own is not None:
            await own.dispose()
    return report


def _savepoint_engine(engine: AsyncEngine) -> AsyncEngine | None:
    """SQLite needs its driver's own transaction handling off, or SAVEPOINT commits for real."""
    if engine.dialect.name != "sqlite":
        return None
    own = build_engine(engine.url.render_as_string(hide_password=False))

    def no_autobegin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    def begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    event.listen(own.sync_engine, "connect", no_autobegin)
    event.listen(own.sync_engine, "begin", begin)
    return own


def _context(conn: AsyncConnection, version: LoadedVersion, rules: ComplianceRules,
             start: datetime, scope: Scope, portal_links: Any,
             handoffs: Any, channels: frozenset[str] | None) -> WorkflowContext:
    # Each job's "commit" only releases a savepoint of the one outer transaction.
    sessions = async_sessionmaker(bind=conn, expire_on_commit=False,
                                  join_transaction_mode="create_savepoint")
    clock = SettableClock(start)
    gate = SimulationGate(rules)
    outbox = SqlOutbox(sessions, clock, gate, adapters={})  # type: ignore[arg-type]

    async def captured(_ids: list[int]) -> None:
        return None  # the message stays stored (so caps count it); nothing leaves

    async def candidate(_session: AsyncSession) -> list[LoadedVersion]:
        return [version]

    return WorkflowContext(sessions=sessions, clock=clock, outbox=outbox, deliver=captured,
                           gate=gate, portal_links=portal_links, handoffs=handoffs,
                           channels=channels,
                           versions=candidate, scope=scope)


async def _run_day(ctx: WorkflowContext, day: int, report: SimulationReport) -> None:
    clock: SettableClock = ctx.clock  # type: ignore[assignment]
    midnight = datetime.combine(report.start.date() + timedelta(days=day), time(0), UTC)
    end = midnight + timedelta(days=1)
    async with ctx.sessions() as session:
        zones = await known_zones(session)
    # The planner plans on each debtor's local date: plan again whenever one begins.
    starts = day_starts(zones, max(midnight, report.start), end)
    for at, until in zip(starts, [*starts[1:], end], strict=True):
        clock.set(max(at, clock.now()))
        await jobs.lifecycles(ctx)
        await jobs.plan(ctx)
        while (due := await _next_due(ctx, until)) is not None:
            clock.set(max(due, clock.now()))
            for contact_id in await jobs.due_contacts(ctx):
                await send_contact(ctx, contact_id)
                report.contacts.append(await _observe(ctx, contact_id, day))


async def _next_due(ctx: WorkflowContext, end: datetime) -> datetime | None:
    async with ctx.sessions() as session:
        return await session.scalar(
            select(func.min(PlannedContact.due_at)).where(
                PlannedContact.status.in_(CLAIMABLE), PlannedContact.due_at < end,
                PlannedContact.key.startswith(SIM_PREFIX)))


async def _observe(ctx: WorkflowContext, contact_id: int, day: int) -> SimulatedContact:
    async with ctx.sessions() as session:
        row = await session.get(PlannedContact, contact_id)
        assert row is not None
    deferred = row.status == "deferred"
    return SimulatedContact(
        day=day, at=ctx.clock.now(), account_id=row.account_id, step=row.step,
        variant=row.variant, channel=row.channel, decision=row.status, reason=row.outcome,
        not_before=row.due_at if deferred else None,
    )

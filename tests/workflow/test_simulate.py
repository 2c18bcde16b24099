"""The dry run uses the live code on a simulated clock: same decisions, nothing left behind."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import ContactPoint, PlannedContact, Promise
from backend.workflow.runner import InProcessRunner
from backend.workflow.simulate import simulate
from bot.clock import SettableClock
from tests.workflow import seed

DAYS = 5


async def _portfolio(wf_container: Container, clock: SettableClock) -> tuple[int, object]:
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        for offset in (3, 1, -1, -4, -6, -14, -28):  # -28: the d+30 handoff step is in range
            await seed.account(session, folio, now, now.date() + timedelta(days=offset))
        promised = await seed.account(session, folio, now, now.date() - timedelta(days=40))
        session.add(Promise(account_id=promised.id, amount=Decimal("50.00"),
                            due_date=now.date() + timedelta(days=2), created_at=now))
        quiet = await seed.account(session, folio, now, now.date() - timedelta(days=1))
        for cp in await session.scalars(select(ContactPoint).where(
                ContactPoint.debtor_id == quiet.debtor_id)):
            cp.opted_out_at = now
        version = await seed.activate(session, now)
    return folio.id, version


async def test_simulate_matches_the_live_path_and_leaves_nothing_behind(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    folio_id, version = await _portfolio(wf_container, clock)
    gate = wf_container.services["gate"]
    report = await simulate(wf_container.engine, version, rules=gate.rules,  # type: ignore[arg-type]
                            start=clock.now(), days=DAYS, portfolio_id=folio_id)
    async with wf_container.sessions() as session:
        assert await session.scalar(select(func.count(PlannedContact.id))) == 0
        assert await seed.outbound_count(session) == 0
    start = clock.now()
    for hour in range(DAYS * 24 - start.hour):
        clock.set(start + timedelta(hours=hour))
        await runner.cycle()
    async with wf_container.sessions() as session:
        live = {(c.account_id, c.step): (c.status, c.channel)
                for c in (await session.scalars(select(PlannedContact))).all()}
    simulated = {(c.account_id, c.step): (c.decision, c.channel) for c in report.contacts}
    assert simulated == live
    assert report.by_decision()["sent"] >= 4
    assert {s for _, s in simulated} >= {"d-3-courtesy", "d+1", "d+7", "promise-reminder", "d+30"}
    assert report.by_decision()["handed_off"] == 1


async def test_simulate_shows_deferrals_with_their_time(
    wf_container: Container, clock: SettableClock,
) -> None:
    late = datetime.combine(clock.now().date(), time(2, 30), UTC)  # 21:30 in New York
    folio_id, version = await _portfolio(wf_container, clock)
    gate = wf_container.services["gate"]
    report = await simulate(wf_container.engine, version, rules=gate.rules,  # type: ignore[arg-type]
                            start=late + timedelta(days=1), days=1, portfolio_id=folio_id)
    assert all(c.decision in ("sent", "deferred", "blocked", "cancelled", "planned")
               for c in report.contacts)
    assert report.days == 1

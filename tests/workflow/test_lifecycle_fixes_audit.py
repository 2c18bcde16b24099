"""The lifecycle job's verdicts are audited: a supervisor sees when and why a plan broke or a
promise was broken or partly kept. A dry run audits nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent
from backend.services import ledger
from backend.workflow.lifecycle import LifecycleReport, run_lifecycles
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from bot.facts import Installment, Offer
from tests.workflow import seed

D = Decimal
LATE = datetime(2026, 12, 30, 15, 0, tzinfo=UTC)
VERDICTS = ("plan.broken", "settlement.broken", "promise.broken", "promise.partially_kept")


async def _book(container: Container, now: datetime) -> tuple[int, dict[str, int]]:
    """Three accounts in one portfolio: a plan missed twice, a promise never paid, and a
    promise paid 30.00 of 100.00."""
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        accounts = [await seed.account(session, folio, now, now.date() - timedelta(days=91))
                    for _ in range(3)]
        origin = ledger.Origin(now)
        first = date(2026, 12, 1)
        plan = await ledger.record_plan(session, accounts[0], Offer(
            "plan", D("300.00"), first, frequency="weekly", schedule=tuple(
                Installment(first + timedelta(weeks=n), D("100.00")) for n in range(3))), origin)
        broken = await ledger.record_promise(session, accounts[1], D("100.00"),
                                             date(2026, 12, 10), origin)
        part = await ledger.record_promise(session, accounts[2], D("100.00"),
                                           date(2026, 12, 10), origin)
    async with container.sessions.begin() as session:
        account = await session.get(Account, accounts[2].id)
        assert account is not None
        await ledger.post_payment(session, account, D("30.00"), "P1", origin)
    return folio.id, {"plan": plan.id, "broken": broken.id, "part": part.id}


async def _verdicts(container: Container) -> list[AuditEvent]:
    async with container.sessions() as session:
        return list((await session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(VERDICTS)).order_by(AuditEvent.id))).all())


async def _judge(container: Container, portfolio_id: int | None = None) -> LifecycleReport:
    async with container.sessions.begin() as session:
        return await run_lifecycles(session, LATE, Lifecycle(), portfolio_id)


async def test_each_verdict_is_audited_with_why(container: Container,
                                                 clock: SettableClock) -> None:
    _, ids = await _book(container, clock.now())
    report = await _judge(container)
    assert (report.plans_broken, report.promises_judged) == (1, 2)
    events = {(e.action, e.data.get("plan_id") or e.data.get("promise_id")): e
              for e in await _verdicts(container)}
    assert set(events) == {("plan.broken", ids["plan"]), ("promise.broken", ids["broken"]),
                           ("promise.partially_kept", ids["part"])}
    plan = events["plan.broken", ids["plan"]]
    assert (plan.actor, plan.occurred_at, plan.subject_type) == ("workflow", LATE, "account")
    assert plan.data["missed_installments"] == 3
    assert "2 or more installments missed" in plan.data["reason"]
    part = events["promise.partially_kept", ids["part"]]
    assert (part.data["paid"], part.data["due"]) == ("30.00", "2026-12-10")
    assert (await _judge(container)).plans_broken == 0
    assert len(await _verdicts(container)) == 3  # judged once, audited once


async def test_a_lapsed_settlement_says_so(container: Container, clock: SettableClock) -> None:
    now = clock.now()
    async with container.sessions.begin() as session:
        account = await seed.account(session, await seed.portfolio(session, now), now,
                                     now.date() - timedelta(days=91), balance="1000.00")
        await ledger.record_plan(session, account, Offer("settlement", D("850.00"),
                                                         date(2026, 12, 15)), ledger.Origin(now))
    await _judge(container)
    [event] = await _verdicts(container)
    assert (event.action, event.data["missed_installments"]) == ("settlement.broken", 1)


async def test_a_dry_run_audits_nothing(container: Container, clock: SettableClock) -> None:
    portfolio_id, _ = await _book(container, clock.now())
    report = await _judge(container, portfolio_id)
    assert (report.plans_broken, report.promises_judged) == (1, 2)
    assert await _verdicts(container) == []

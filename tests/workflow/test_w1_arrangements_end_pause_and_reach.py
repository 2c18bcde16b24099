"""Arrangements that run out end, a collection pause keeps them whole, and every one is reminded."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.console import actions
from backend.container import Container
from backend.db.models import Account, AuditEvent, Dispute, Installment, PaymentPlan, Promise
from backend.workflow.lifecycle import run_lifecycles
from backend.workflow.runner import InProcessRunner
from backend.workflow.schedule import planned_contacts
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from tests.workflow import seed

D = Decimal


async def _plan(
    session: AsyncSession,
    account_id: int,
    dues: list[date],
    amount: str,
    *,
    now: datetime,
    settlement: bool = False,
) -> PaymentPlan:
    plan = PaymentPlan(
        account_id=account_id,
        total=D(amount) * len(dues),
        frequency="monthly",
        is_settlement=settlement,
        created_at=now,
    )
    session.add(plan)
    await session.flush()
    for seq, due in enumerate(dues, start=1):
        session.add(Installment(plan_id=plan.id, seq=seq, amount=D(amount), due_date=due))
    await session.flush()
    return plan


async def _statuses(container: Container, plan_id: int) -> tuple[str, list[tuple[str, date]]]:
    async with container.sessions() as session:
        plan = await session.get(PaymentPlan, plan_id)
        rows = await session.scalars(
            select(Installment).where(Installment.plan_id == plan_id).order_by(Installment.seq)
        )
        assert plan is not None
        return plan.status, [(i.status, i.due_date) for i in rows]


async def _sent(container: Container, account_id: int, start: datetime) -> list[tuple[int, str]]:
    async with container.sessions() as session:
        return [
            ((c.updated_at - start).days, c.step)
            for c in await seed.contacts(session, account_id)
            if c.status == "sent"
        ]


async def _events(container: Container, account_id: int, action: str) -> list[AuditEvent]:
    async with container.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.subject_id == str(account_id))
            .order_by(AuditEvent.id)
        )
        return list(rows.all())


async def test_a_plan_whose_last_installment_is_missed_breaks_and_is_followed_up(
    wf_container: Container,
    runner: InProcessRunner,
    clock: SettableClock,
) -> None:
    start = clock.now()  # Nov 25
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, start)
        acct = await seed.account(
            session, folio, start, start.date() - timedelta(days=60), balance="600.00"
        )
        plan = await _plan(
            session,
            acct.id,
            [start.date() - timedelta(days=20), start.date() + timedelta(days=5)],
            "600.00",
            now=start,
        )
        first = await session.scalar(
            select(Installment).where(Installment.plan_id == plan.id, Installment.seq == 1)
        )
        assert first is not None
        first.status, first.paid_amount = "paid", D("600.00")  # paid late, as in the report
        await seed.activate(session, start)
    for day in range(16):  # the last installment is due on day 5, missed on day 8
        clock.set(start + timedelta(days=day))
        await runner.cycle()
    status, installments = await _statuses(wf_container, plan.id)
    assert status == "broken"
    assert [s for s, _ in installments] == ["paid", "missed"]
    assert (9, "plan-broken") in await _sent(wf_container, acct.id, start)
    [event] = await _events(wf_container, acct.id, "plan.broken")
    assert event.data["reason"] == "an installment was missed and none is left to pay"
    async with wf_container.sessions() as session:
        views = await planned_contacts(session, acct.id, clock.now())
    assert all(v.reason != "plan_active" for v in views)


async def test_a_dispute_pauses_the_plan_and_it_is_judged_from_when_it_is_cleared(
    wf_container: Container,
    runner: InProcessRunner,
    clock: SettableClock,
) -> None:
    start = clock.now()  # Nov 25
    dues = [date(2026, 12, 8), date(2027, 1, 8), date(2027, 2, 8), date(2027, 3, 8)]
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, start)
        acct = await seed.account(
            session, folio, start, start.date() - timedelta(days=60), balance="800.00"
        )
        plan = await _plan(session, acct.id, dues, "200.00", now=start)
        session.add(Dispute(account_id=acct.id, reason="not mine", opened_at=start))
        account = await session.get(Account, acct.id)
        assert account is not None
        account.dispute = True
        await seed.activate(session, start)
    cleared = datetime(2027, 1, 12, 15, 0, tzinfo=start.tzinfo)
    # Every fourth day of the dispute, past two due dates and their grace days, ending on the
    # day it is cleared.
    for days in range((cleared - start).days % 4, (cleared - start).days + 1, 4):
        clock.set(start + timedelta(days=days))
        await runner.cycle()
    assert clock.now() == cleared
    status, installments = await _statuses(wf_container, plan.id)
    assert status == "active"
    # Kept two days ahead of the debtor's today: the installment reminder's notice (2 days).
    assert installments == [
        ("due", cleared.date() + timedelta(days=2)),
        ("due", cleared.date() + timedelta(days=2)),
        ("due", dues[2]),
        ("due", dues[3]),
    ]
    async with wf_container.sessions() as session:
        assert await seed.outbound_count(session) == 0
    moves = await _events(wf_container, acct.id, "arrangement.rescheduled")
    assert moves and moves[0].data["installments"][0]["from"] == "2026-12-08"
    async with wf_container.sessions.begin() as session:
        await actions.set_stop_state(
            session,
            acct.id,
            "dispute",
            on=False,
            details="verification sent",
            actor="supervisor",
            now=cleared,
        )
    # Judged from two days after the clear (its reminder's notice) with the usual 3 grace days:
    # still due on the 16th...
    for days in (1, 2, 3, 4):
        clock.set(cleared + timedelta(days=days))
        await runner.cycle()
    status, installments = await _statuses(wf_container, plan.id)
    assert status == "active" and [s for s, _ in installments] == ["due"] * 4
    # ... missed on the 17th, and two misses break the plan as they would have without a pause.
    clock.set(cleared + timedelta(days=5))
    await runner.cycle()
    status, installments = await _statuses(wf_container, plan.id)
    assert status == "broken"
    assert [s for s, _ in installments] == ["missed", "missed", "due", "due"]


@pytest.mark.parametrize(
    ("state", "paused"), [("dispute", True), ("bankruptcy", True), ("hardship", False)]
)
async def test_a_promise_is_not_judged_while_a_stop_state_pauses_collection(
    container: Container,
    clock: SettableClock,
    state: str,
    paused: bool,
) -> None:
    start = clock.now()  # Nov 25
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, start)
        acct = await seed.account(session, folio, start, start.date() - timedelta(days=30))
        promise = Promise(
            account_id=acct.id,
            amount=D("100.00"),
            due_date=start.date() + timedelta(days=2),
            created_at=start,
        )
        session.add(promise)
        setattr(await session.get(Account, acct.id), state, True)  # a flag, no dispute row
    later = start + timedelta(days=10)
    async with container.sessions.begin() as session:
        await run_lifecycles(session, later, Lifecycle())
    async with container.sessions.begin() as session:
        row = await session.get(Promise, promise.id)
        assert row is not None
        if not paused:  # hardship: a hardship arrangement is agreed under it, judged as usual
            assert row.status == "broken"
            return
        assert (row.status, row.due_date) == ("pending", later.date())
        setattr(await session.get(Account, acct.id), state, False)
    async with container.sessions.begin() as session:  # cleared: judged after the grace day
        await run_lifecycles(session, later + timedelta(days=1), Lifecycle())
    async with container.sessions() as session:
        row = await session.get(Promise, promise.id)
        assert row is not None and row.status == "broken"


async def test_an_unsegmented_account_is_reminded_of_what_it_agreed_but_gets_no_ladder(
    wf_container: Container,
    runner: InProcessRunner,
    clock: SettableClock,
) -> None:
    start = clock.now()  # Nov 25; the default strategy's only segment ends at 120 days
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, start)
        settled = await seed.account(
            session, folio, start, start.date() - timedelta(days=218), balance="1000.00"
        )
        await _plan(
            session,
            settled.id,
            [start.date() + timedelta(days=5)],
            "600.00",
            now=start,
            settlement=True,
        )
        promised = await seed.account(session, folio, start, start.date() - timedelta(days=200))
        session.add(
            Promise(
                account_id=promised.id,
                amount=D("100.00"),
                due_date=start.date() + timedelta(days=3),
                created_at=start,
            )
        )
        await seed.activate(session, start)
    for day in range(4):
        clock.set(start + timedelta(days=day))
        await runner.cycle()
    assert await _sent(wf_container, settled.id, start) == [(3, "installment-reminder")]
    assert await _sent(wf_container, promised.id, start) == [(2, "promise-reminder")]
    async with wf_container.sessions() as session:
        planned = [c for a in (settled.id, promised.id) for c in await seed.contacts(session, a)]
    assert {c.anchor for c in planned} == {"installment", "promise"}
    assert {c.segment for c in planned} == {"unsegmented"}

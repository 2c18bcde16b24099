"""Plan and dispute lifecycles: reminders, a missed installment, a broken plan, a paused dispute."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from backend.container import Container
from backend.db.models import Account, Dispute, Installment, PaymentPlan
from backend.workflow.runner import InProcessRunner
from bot.clock import SettableClock
from tests.workflow import seed


async def test_a_plan_is_reminded_followed_up_and_broken_after_repeated_misses(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    start = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, start)
        acct = await seed.account(session, folio, start, start.date() - timedelta(days=60))
        plan = PaymentPlan(account_id=acct.id, total=Decimal("300.00"), frequency="weekly",
                           created_at=start)
        session.add(plan)
        await session.flush()
        for seq in (1, 2, 3):
            session.add(Installment(plan_id=plan.id, seq=seq, amount=Decimal("100.00"),
                                    due_date=start.date() + timedelta(days=2 + 7 * (seq - 1))))
        await seed.activate(session, start)
    sent: list[tuple[int, str]] = []
    for day in range(15):
        clock.set(start + timedelta(days=day))
        await runner.cycle()
        async with wf_container.sessions() as session:
            sent = [((c.updated_at - start).days, c.step)
                    for c in await seed.contacts(session, acct.id) if c.status == "sent"]
    async with wf_container.sessions() as session:
        broken = await session.get(PaymentPlan, plan.id)
    assert broken is not None and broken.status == "broken"
    assert sent == [(0, "installment-reminder"), (5, "installment-missed"),
                    (7, "installment-reminder"), (13, "plan-broken")]


async def test_a_dispute_pauses_until_resolved(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() - timedelta(days=7))
        dispute = Dispute(account_id=acct.id, reason="not mine", opened_at=now)
        session.add(dispute)
        await seed.activate(session, now)
    assert (await runner.cycle()).planned == 0
    async with wf_container.sessions.begin() as session:
        row = await session.get(Dispute, dispute.id)
        assert row is not None
        row.status, row.resolved_at = "verified", now
        account = await session.get(Account, acct.id)
        assert account is not None
    resumed = await runner.cycle()
    assert resumed.planned == 1 and list(resumed.outcomes.values()) == ["sent"]

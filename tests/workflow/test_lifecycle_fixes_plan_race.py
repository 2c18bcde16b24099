"""A plan is judged either before a payment or after it, never from a snapshot the payment is
changing: the lifecycle job and a posting payment hold the account in turn (PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from backend.container import Container
from backend.db.models import Account, PaymentPlan
from backend.services import ledger
from backend.workflow.lifecycle import LifecycleReport, run_lifecycles
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from bot.facts import Offer
from tests.workflow import seed

D = Decimal
DUE = date(2026, 12, 15)
LATE = datetime(2026, 12, 20, 15, 0, tzinfo=UTC)  # past the installment's grace days
WAIT = 0.5  # long enough for an unblocked statement to finish


# Two transactions at once need PostgreSQL: these tests take only its database_url.
ON_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def postgres(container: Container) -> Container:
    assert container.engine.dialect.name == "postgresql"
    return container


async def _settlement(container: Container, now: datetime) -> tuple[int, int]:
    """1,000.00 owed, settled for 850.00 in one payment due 15 December."""
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        account = await seed.account(session, folio, now, now.date() - timedelta(days=91),
                                     balance="1000.00")
        plan = await ledger.record_plan(session, account, Offer("settlement", D("850.00"), DUE),
                                        ledger.Origin(now))
    return account.id, plan.id


async def _judge(container: Container) -> LifecycleReport:
    async with container.sessions.begin() as session:
        return await run_lifecycles(session, LATE, Lifecycle())


async def _pay(container: Container, account_id: int) -> ledger.Posted:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return await ledger.post_payment(session, account, D("850.00"), "P1",
                                         ledger.Origin(LATE, "test"))


async def _standing(container: Container, account_id: int, plan_id: int
                    ) -> tuple[str, str, Decimal]:
    async with container.sessions() as session:
        plan = await session.get(PaymentPlan, plan_id)
        account = await session.get(Account, account_id)
    assert plan is not None and account is not None
    return plan.status, account.status, account.current_balance


@ON_POSTGRES
async def test_a_payment_being_posted_is_judged_after_it_commits(
    postgres: Container, clock: SettableClock,
) -> None:
    account_id, plan_id = await _settlement(postgres, clock.now())
    async with postgres.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        posted = await ledger.post_payment(session, account, D("850.00"), "P1",
                                           ledger.Origin(LATE, "test"))
        judging = asyncio.create_task(_judge(postgres))
        await asyncio.sleep(WAIT)
        waited = not judging.done()
    report = await judging
    assert posted.applied_to == "plan"
    # Not broken from the installment the payment was paying (nor a plan-broken contact due).
    assert (report.installments_missed, report.plans_broken) == (0, 0)
    assert await _standing(postgres, account_id, plan_id) == ("completed", "settled", D("0.00"))
    assert waited


@ON_POSTGRES
async def test_a_payment_after_the_break_is_an_ordinary_one(
    postgres: Container, clock: SettableClock,
) -> None:
    account_id, plan_id = await _settlement(postgres, clock.now())
    async with postgres.sessions.begin() as session:
        report = await run_lifecycles(session, LATE, Lifecycle())
        paying = asyncio.create_task(_pay(postgres, account_id))
        await asyncio.sleep(WAIT)
        waited = not paying.done()
    posted = await paying
    assert report.plans_broken == 1
    # The settlement lapsed before the money came: it pays the full balance, as any payment.
    assert posted.applied_to is None
    assert await _standing(postgres, account_id, plan_id) == ("broken", "active", D("150.00"))
    assert waited

"""Lifecycle money: a missed settlement lapses, and one payment is counted toward one promise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Payment, PaymentPlan, Promise
from backend.services import ledger
from backend.workflow.lifecycle import LifecycleReport, run_lifecycles
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from bot.facts import Installment, Offer
from tests.workflow import seed

D = Decimal


async def _account(container: Container, now: datetime, balance: str) -> int:
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() - timedelta(days=91),
                                  balance=balance)
    return acct.id


async def _settled(container: Container, now: datetime) -> tuple[int, int]:
    """The reviewer's case: 1,000.00 owed, settled for 850.00 in one payment due 15 December."""
    account_id = await _account(container, now, "1000.00")
    offer = Offer("settlement", D("850.00"), date(2026, 12, 15))
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        plan = await ledger.record_plan(session, account, offer, ledger.Origin(now))
    return account_id, plan.id


async def _judge(container: Container, now: datetime) -> LifecycleReport:
    async with container.sessions.begin() as session:
        return await run_lifecycles(session, now, Lifecycle())


async def _pay(container: Container, account_id: int, amount: str, reference: str,
               now: datetime) -> ledger.Posted:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return await ledger.post_payment(session, account, D(amount), reference,
                                         ledger.Origin(now, "test"))


async def _standing(container: Container, account_id: int) -> tuple[str, Decimal]:
    async with container.sessions() as session:
        account = await session.get(Account, account_id)
    assert account is not None
    return account.status, account.current_balance


async def test_a_missed_settlement_lapses_and_a_late_payment_is_an_ordinary_one(
    container: Container, clock: SettableClock,
) -> None:
    account_id, plan_id = await _settled(container, clock.now())
    late = datetime(2026, 12, 20, 15, 0, tzinfo=UTC)
    report = await _judge(container, late)
    assert (report.installments_missed, report.plans_broken) == (1, 1)
    async with container.sessions() as session:
        plan = await session.get(PaymentPlan, plan_id)
    assert plan is not None and plan.status == "broken"
    posted = await _pay(container, account_id, "850.00", "LATE", late)
    assert (posted.applied_to, posted.overpaid) == (None, D("0.00"))
    assert await _standing(container, account_id) == ("active", D("150.00"))


async def test_a_settlement_paid_within_its_grace_days_still_settles(
    container: Container, clock: SettableClock,
) -> None:
    account_id, _ = await _settled(container, clock.now())
    in_grace = datetime(2026, 12, 17, 15, 0, tzinfo=UTC)
    assert (await _judge(container, in_grace)).plans_broken == 0
    posted = await _pay(container, account_id, "850.00", "ON-TIME", in_grace)
    assert posted.applied_to == "plan"
    assert await _standing(container, account_id) == ("settled", D("0.00"))


async def test_one_miss_does_not_break_an_ordinary_plan(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "300.00")
    first = date(2026, 12, 1)
    offer = Offer("plan", D("300.00"), first, frequency="weekly", schedule=tuple(
        Installment(first + timedelta(weeks=n), D("100.00")) for n in range(3)))
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        plan = await ledger.record_plan(session, account, offer, ledger.Origin(now))
    report = await _judge(container, datetime(2026, 12, 6, 15, 0, tzinfo=UTC))
    assert (report.installments_missed, report.plans_broken) == (1, 0)
    async with container.sessions() as session:
        stored = await session.get(PaymentPlan, plan.id)
    assert stored is not None and stored.status == "active"


async def _promises(container: Container, account_id: int, now: datetime,
                    *amounts: str) -> list[int]:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return [(await ledger.record_promise(session, account, D(amount),
                                             now.date() + timedelta(days=3 + n),
                                             ledger.Origin(now))).id
                for n, amount in enumerate(amounts)]


async def _outcomes(container: Container, ids: list[int]) -> list[tuple[str, Decimal]]:
    async with container.sessions() as session:
        rows = {p.id: p for p in await session.scalars(select(Promise).where(
            Promise.id.in_(ids)))}
    return [(rows[i].status, rows[i].paid_amount) for i in ids]


async def _receive(container: Container, account_id: int, amount: str, at: datetime,
                   through_ledger: bool) -> None:
    if through_ledger:
        await _pay(container, account_id, amount, f"P-{amount}", at)
        return
    async with container.sessions.begin() as session:
        session.add(Payment(account_id=account_id, amount=D(amount), currency="USD",
                            paid_at=at, reference=f"P-{amount}", created_at=at))


KEPT_50, BROKEN = ("kept", D("50.00")), ("broken", D("0.00"))


@pytest.mark.parametrize(("amounts", "paid", "judged"), [
    (("50.00", "50.00", "990.00"), "50.00", [KEPT_50, BROKEN, BROKEN]),
    (("100.00", "50.00", "200.00"), "120.00",
     [("kept", D("100.00")), ("partially_kept", D("20.00")), BROKEN]),
], ids=["reviewer-case", "in-due-order"])
@pytest.mark.parametrize("through_ledger", [True, False], ids=["ledger", "payment-row"])
async def test_each_payment_counts_once_across_promises(
    container: Container, clock: SettableClock, amounts: tuple[str, ...], paid: str,
    judged: list[tuple[str, Decimal]], through_ledger: bool,
) -> None:
    now = clock.now()
    account_id = await _account(container, now, "1090.00")
    ids = await _promises(container, account_id, now, *amounts)
    await _receive(container, account_id, paid, now + timedelta(hours=1), through_ledger)
    before_due = await _judge(container, now + timedelta(days=1))
    assert before_due.promises_judged == 0
    assert (await _outcomes(container, ids))[0] == judged[0]  # kept as soon as paid
    await _judge(container, now + timedelta(days=10))
    assert await _outcomes(container, ids) == judged

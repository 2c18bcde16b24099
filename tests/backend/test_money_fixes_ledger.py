"""Ledger money under a settlement: paid in full is `paid`, and money beyond it is `overpaid`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, PaymentPlan
from backend.services import ledger
from bot.clock import SettableClock
from bot.facts import Offer
from tests.workflow import seed

D = Decimal


async def _settled_account(container: Container, clock: SettableClock) -> tuple[int, int]:
    """An account owing 1,000.00 with an active settlement of 850.00 in two weeks."""
    now = clock.now()
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        account = await seed.account(session, folio, now, now.date() - timedelta(days=91),
                                     balance="1000.00")
        plan = await ledger.record_plan(
            session, account, Offer("settlement", D("850.00"), now.date() + timedelta(days=14)),
            ledger.Origin(now))
    return account.id, plan.id


async def _pay_all(container: Container, clock: SettableClock, account_id: int,
                   *amounts: str) -> list[ledger.Posted]:
    posted = []
    for n, amount in enumerate(amounts):
        async with container.sessions.begin() as session:
            account = await session.get(Account, account_id)
            assert account is not None
            posted.append(await ledger.post_payment(session, account, D(amount), f"P{n}",
                                                    ledger.Origin(clock.now(), "test")))
    return posted


async def _after(container: Container, account_id: int, plan_id: int
                 ) -> tuple[tuple[str, Decimal, str], list[dict[str, str]]]:
    async with container.sessions() as session:
        account = await session.get(Account, account_id)
        plan = await session.get(PaymentPlan, plan_id)
        events = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "payment.posted").order_by(AuditEvent.id))).all()
    assert account is not None and plan is not None
    return (account.status, account.current_balance, plan.status), [e.data for e in events]


@pytest.mark.parametrize(("amounts", "status", "audited"), [
    (("1000.00",), "paid", [("850.00", "150.00")]),
    (("500.00", "500.00"), "paid", [("850.00", "0.00"), ("350.00", "150.00")]),
    (("900.00",), "settled", [("850.00", "50.00")]),
    (("850.00",), "settled", [("850.00", "0.00")]),
], ids=["whole-balance", "whole-balance-in-two", "beyond-the-settlement", "the-settlement"])
async def test_a_settlement_is_settled_only_when_something_is_written_off(
    container: Container, clock: SettableClock, amounts: tuple[str, ...], status: str,
    audited: list[tuple[str, str]],
) -> None:
    account_id, plan_id = await _settled_account(container, clock)
    posted = await _pay_all(container, clock, account_id, *amounts)
    standing, events = await _after(container, account_id, plan_id)
    assert standing == (status, D("0.00"), "completed")
    assert {p.applied_to for p in posted} == {"plan"}
    assert [p.overpaid for p in posted] == [D(over) for _, over in audited]
    assert [(e.get("owed"), e["overpaid"]) for e in events] == audited


async def test_without_a_settlement_overpaid_is_beyond_the_balance(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    async with container.sessions.begin() as session:
        account = await seed.account(session, await seed.portfolio(session, now), now,
                                     now.date(), balance="300.00")
    [posted] = await _pay_all(container, clock, account.id, "350.00")
    assert (posted.overpaid, posted.applied_to) == (D("50.00"), None)
    async with container.sessions() as session:
        stored = await session.get(Account, account.id)
    assert stored is not None and (stored.status, stored.current_balance) == ("paid", D("0"))

"""A part payment before a promise's date is no verdict: the promise stays pending until its
grace days have passed, and is kept as soon as it is paid in full."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from backend.container import Container
from backend.db.models import Account, Promise
from backend.services import ledger
from backend.workflow.lifecycle import run_lifecycles
from backend.workflow.strategy import Lifecycle
from bot.clock import SettableClock
from tests.workflow import seed

D = Decimal


async def _promised(container: Container, now: datetime, amount: str) -> tuple[int, int]:
    """An account owing 500.00 with a promise of `amount` due in three days."""
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        account = await seed.account(session, folio, now, now.date() - timedelta(days=91))
        promise = await ledger.record_promise(session, account, D(amount),
                                              now.date() + timedelta(days=3), ledger.Origin(now))
    return account.id, promise.id


async def _pay(container: Container, account_id: int, amount: str, reference: str,
               at: datetime) -> None:
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await ledger.post_payment(session, account, D(amount), reference, ledger.Origin(at))


async def _promise(container: Container, promise_id: int) -> tuple[str, Decimal]:
    async with container.sessions() as session:
        promise = await session.get(Promise, promise_id)
    assert promise is not None
    return promise.status, promise.paid_amount


async def _judge(container: Container, at: datetime) -> None:
    async with container.sessions.begin() as session:
        await run_lifecycles(session, at, Lifecycle())


async def test_a_part_payment_before_the_date_leaves_the_promise_pending(
    container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    account_id, promise_id = await _promised(container, now, "100.00")
    await _pay(container, account_id, "40.00", "P1", now + timedelta(hours=1))
    assert await _promise(container, promise_id) == ("pending", D("40.00"))
    await _judge(container, now + timedelta(days=3, hours=1))  # its date, within the grace
    assert await _promise(container, promise_id) == ("pending", D("40.00"))
    await _judge(container, now + timedelta(days=5))  # the grace day has passed
    assert await _promise(container, promise_id) == ("partially_kept", D("40.00"))


async def test_the_rest_paid_in_time_keeps_it(container: Container, clock: SettableClock) -> None:
    now = clock.now()
    account_id, promise_id = await _promised(container, now, "100.00")
    await _pay(container, account_id, "40.00", "P1", now + timedelta(hours=1))
    await _pay(container, account_id, "60.00", "P2", now + timedelta(days=2))
    assert await _promise(container, promise_id) == ("kept", D("100.00"))
    await _judge(container, now + timedelta(days=5))
    assert await _promise(container, promise_id) == ("kept", D("100.00"))

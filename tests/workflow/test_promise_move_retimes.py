"""A moved promise's reminder comes the day before its new day, never for the old one."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, PlannedContact, Promise
from backend.services.ledger import Origin
from backend.services.promise_moves import move_promise
from backend.workflow import jobs
from backend.workflow.context import WorkflowContext
from bot.clock import SettableClock
from tests.workflow import seed

AMOUNT = Decimal("100.00")


async def _promise_contacts(container: Container, account_id: int
                            ) -> list[tuple[str, str, object]]:
    async with container.sessions() as session:
        rows = await session.scalars(select(PlannedContact).where(
            PlannedContact.account_id == account_id, PlannedContact.anchor == "promise")
            .order_by(PlannedContact.id))
        return [(c.key, c.status, c.anchor_date) for c in rows]


async def test_a_moved_promise_is_reminded_the_day_before_its_new_day(
    wf_container: Container, ctx: WorkflowContext, clock: SettableClock,
) -> None:
    now = clock.now()
    tomorrow, later = now.date() + timedelta(days=1), now.date() + timedelta(days=4)
    acct = await seed.activated_account(wf_container, now, now.date() + timedelta(days=40))
    async with wf_container.sessions.begin() as session:
        promise = Promise(account_id=acct.id, amount=AMOUNT, due_date=tomorrow, created_at=now)
        session.add(promise)
        await session.flush()
        promise_id = promise.id
    await jobs.plan(ctx)  # the day before tomorrow's promise: its reminder is planned
    key = f"p{promise_id}:promise-reminder"
    assert await _promise_contacts(wf_container, acct.id) == [(key, "planned", tomorrow)]

    async with wf_container.sessions.begin() as session:
        account = await session.get(Account, acct.id)
        assert account is not None
        await move_promise(session, account, AMOUNT, tomorrow, later, Origin(now))
    moved_key = f"{key}:before:{tomorrow.isoformat()}"
    assert await _promise_contacts(wf_container, acct.id) == [
        (moved_key, "cancelled", tomorrow)]  # no reminder of the day given up

    clock.advance(timedelta(days=3))  # the day before the new day
    await jobs.plan(ctx)
    assert await _promise_contacts(wf_container, acct.id) == [
        (moved_key, "cancelled", tomorrow), (key, "planned", later)]

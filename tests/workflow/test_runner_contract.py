"""One contract for both runners: quiet hours, promise lifecycle, a worker killed mid-job."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from backend.container import Container
from backend.db.models import Payment, PlannedContact, Promise
from backend.workflow.context import WorkflowContext
from backend.workflow.runner import WorkflowRunner
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH, parse_strategy_text
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.workflow import seed

NY_2058 = datetime(2026, 11, 26, 1, 58, tzinfo=UTC)  # 20:58 in New York on 25 November
NY_2101 = datetime(2026, 11, 26, 2, 1, tzinfo=UTC)
NY_0800 = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


def _late_window_strategy() -> Any:
    text = DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8")
    return parse_strategy_text(text.replace('window: {start: "10:00", end: "17:00"}',
                                            'window: {start: "08:00", end: "23:30"}'))


async def test_a_reminder_set_for_2058_that_would_leave_at_2101_is_deferred(
    any_runner: WorkflowRunner, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() + timedelta(days=3))
        await seed.activate(session, now, _late_window_strategy())
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))  # 06:00 in New York
    await any_runner.cycle()  # plans the courtesy reminder; it is set for 20:58 below
    async with wf_container.sessions.begin() as session:
        await session.execute(update(PlannedContact).values(due_at=NY_2058, status="planned"))
    clock.set(NY_2101)  # the queue was slow: the send happens at 21:01
    await any_runner.cycle()
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
        assert await seed.outbound_count(session) == 0
    assert contact.status == "deferred" and contact.due_at == NY_0800
    assert contact.outcome is not None and contact.outcome.startswith("quiet_hours")
    clock.set(NY_0800)
    await any_runner.cycle()
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
    assert contact.status == "sent"
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_a_promise_broken_by_a_partial_payment_is_followed_up(
    any_runner: WorkflowRunner, wf_container: Container, clock: SettableClock,
) -> None:
    now = clock.now()  # 25 Nov; the promise is for 27 Nov; 40 of 100 arrives on 26 Nov
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() - timedelta(days=36))
        promise = Promise(account_id=acct.id, amount=Decimal("100.00"),
                          due_date=now.date() + timedelta(days=2), created_at=now)
        session.add(promise)
        await seed.activate(session, now)
    steps = []
    for day in range(1, 5):
        clock.set(now + timedelta(days=day))
        if day == 1:
            async with wf_container.sessions.begin() as session:
                session.add(Payment(account_id=acct.id, amount=Decimal("40.00"),
                                    currency="USD", paid_at=clock.now(), reference="P1",
                                    created_at=clock.now()))
        report = await any_runner.cycle()
        steps += [(day, o) for o in report.outcomes.values()]
    async with wf_container.sessions() as session:
        sent = [(c.step, c.anchor_date) for c in await seed.contacts(session, acct.id)
                if c.status == "sent"]
        judged = await session.get(Promise, promise.id)
    assert judged is not None
    assert (judged.status, judged.paid_amount) == ("partially_kept", Decimal("40.00"))
    assert [s for s, _ in sent] == ["promise-reminder", "promise-follow-up"]
    assert steps == [(1, "sent"), (4, "sent")]


class _KilledOnce:
    """Raises once at the wrapped point, as a worker killed there would stop."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.fired = inner, False

    def _maybe_die(self) -> None:
        if not self.fired:
            self.fired = True
            raise RuntimeError("worker killed")


class _DiesBeforeCommit(_KilledOnce):
    async def submit(self, session: Any, outbound: Any) -> Any:
        decision = await self.inner.submit(session, outbound)
        self._maybe_die()
        return decision

    async def send(self, ids: list[int]) -> None:
        await self.inner.send(ids)


async def _until_sent(runner: WorkflowRunner, wf_container: Container, account_id: int) -> None:
    """Cycle until the contact is sent: a distributed retry may still be settling."""
    for _ in range(6):
        await runner.cycle()
        async with wf_container.sessions() as session:
            if [c.status for c in await seed.contacts(session, account_id)] == ["sent"]:
                return
        await asyncio.sleep(0.5)


async def _one_due_account(wf_container: Container, clock: SettableClock) -> int:
    now = clock.now()
    acct = await seed.activated_account(wf_container, now, now.date() - timedelta(days=1))
    return acct.id


async def test_a_worker_killed_before_commit_loses_nothing_and_doubles_nothing(
    any_runner: WorkflowRunner, ctx: WorkflowContext, wf_container: Container,
    clock: SettableClock, twilio_api: FakeServer,
) -> None:
    account_id = await _one_due_account(wf_container, clock)
    ctx.outbox = _DiesBeforeCommit(ctx.outbox)  # type: ignore[assignment]
    first = await any_runner.cycle()
    clock.advance(timedelta(minutes=3))  # past the retry backoff
    await _until_sent(any_runner, wf_container, account_id)
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, account_id)
        assert await seed.outbound_count(session) == 1
    assert "sent" not in first.outcomes.values()
    assert (contact.status, contact.attempts) == ("sent", 2)
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_a_worker_killed_after_commit_sends_the_stored_message_once(
    any_runner: WorkflowRunner, ctx: WorkflowContext, wf_container: Container,
    clock: SettableClock, twilio_api: FakeServer,
) -> None:
    account_id = await _one_due_account(wf_container, clock)
    real_deliver, calls = ctx.deliver, []

    async def dies_once(ids: list[int]) -> None:
        calls.append(ids)
        if len(calls) == 1:
            raise RuntimeError("worker killed")
        await real_deliver(ids)

    ctx.deliver = dies_once
    await any_runner.cycle()  # SAQ retries the job at once; in-process waits for the orphan
    clock.advance(timedelta(minutes=3))  # the stored message is now an orphan
    await _until_sent(any_runner, wf_container, account_id)
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, account_id)
        assert await seed.outbound_count(session) == 1
    assert contact.status == "sent"
    assert len(twilio_api.calls("/Messages.json")) == 1

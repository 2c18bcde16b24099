"""Steps a hold kept back: arrangement reminders outlast the reply pause; the ladder resumes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from backend.container import Container
from backend.db.models import Conversation, Installment, Message, PaymentPlan, Promise
from backend.workflow.planner import plan_day
from backend.workflow.runner import InProcessRunner
from backend.workflow.store import active_versions
from bot.clock import SettableClock
from tests.workflow import seed

AGREED = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
PROMISED = date(2026, 12, 4)


async def _replied_and_promised(session: AsyncSession, now: datetime) -> int:
    """A NY debtor who wrote at 14:05Z on Dec 1 and promised to pay on Friday, Dec 4."""
    acct = await seed.account(session, await seed.portfolio(session, now), now,
                              date(2026, 11, 20))
    conv = Conversation(channel="sms", address="+12125559999", debtor_id=acct.debtor_id,
                        account_id=acct.id, started_at=now, last_message_at=now)
    session.add(conv)
    await session.flush()
    session.add(Message(conversation_id=conv.id, direction="inbound", channel="sms",
                        provider_message_id="SMyes", text="yes", delivery_status="received",
                        created_at=AGREED.replace(minute=5)))
    session.add(Promise(account_id=acct.id, amount=Decimal("500.00"), due_date=PROMISED,
                        created_at=AGREED))
    await seed.activate(session, now)
    return acct.id


async def _planned_at(container: Container, clock: SettableClock, account_id: int,
                      at: datetime) -> list[str]:
    clock.set(at)
    async with container.sessions.begin() as session:
        await plan_day(session, await active_versions(session), at)
        return [c.step for c in await seed.contacts(session, account_id)]


async def test_the_reply_pause_does_not_hold_the_reminder_of_the_promise_just_made(
    wf_container: Container, clock: SettableClock,
) -> None:
    clock.set(AGREED)
    async with wf_container.sessions.begin() as session:
        account_id = await _replied_and_promised(session, AGREED)
    # Dec 3, 10:00 in New York: still inside the 72-hour pause, the day before the promise.
    steps = await _planned_at(wf_container, clock, account_id,
                              datetime(2026, 12, 3, 15, 0, tzinfo=UTC))
    assert steps == ["promise-reminder"]


async def test_a_day_before_reminder_is_never_planned_on_the_day_itself(
    wf_container: Container, clock: SettableClock,
) -> None:
    clock.set(AGREED)
    async with wf_container.sessions.begin() as session:
        account_id = await _replied_and_promised(session, AGREED)
    # Dec 4, the promise day, within the catch-up window: "tomorrow" would now be false.
    steps = await _planned_at(wf_container, clock, account_id,
                              datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    assert "promise-reminder" not in steps


async def test_a_broken_plan_resumes_the_ladder_with_its_latest_step_and_the_handoff(
    wf_container: Container, clock: SettableClock,
) -> None:
    now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    clock.set(now)
    async with wf_container.sessions.begin() as session:
        acct = await seed.account(session, await seed.portfolio(session, now), now,
                                  date(2026, 11, 20))
        plan = PaymentPlan(account_id=acct.id, total=Decimal("1200.00"), frequency="monthly",
                           status="broken", created_at=now)
        session.add(plan)
        await session.flush()
        for seq, due in enumerate((date(2026, 12, 8), date(2027, 1, 8)), start=1):
            session.add(Installment(plan_id=plan.id, seq=seq, amount=Decimal("100.00"),
                                    due_date=due, status="missed"))
        await seed.activate(session, now)
    # Broken on Jan 11; Jan 12, 10:00 in New York, is the follow-up's day: it goes first.
    steps = await _planned_at(wf_container, clock, acct.id,
                              datetime(2027, 1, 12, 15, 0, tzinfo=UTC))
    assert steps == ["plan-broken"]
    # The day after, the ladder resumes: D+15 (Dec 5) and D+30 (Dec 20) fell due while the
    # plan held it; D+1 and D+7 are older than the latest message step and stay unplanned.
    steps = await _planned_at(wf_container, clock, acct.id,
                              datetime(2027, 1, 13, 15, 0, tzinfo=UTC))
    assert sorted(steps) == ["d+15", "d+30", "plan-broken"]
    # Planned once: the next pass adds nothing.
    assert sorted(await _planned_at(wf_container, clock, acct.id,
                                    datetime(2027, 1, 14, 15, 0, tzinfo=UTC))) == sorted(steps)


async def test_a_day_before_reminder_still_waiting_on_the_day_itself_is_skipped(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    clock.set(AGREED)
    async with wf_container.sessions.begin() as session:
        account_id = await _replied_and_promised(session, AGREED)
    # Planned on Dec 3 but kept back (deferred) until Dec 4: it must not say "tomorrow".
    assert await _planned_at(wf_container, clock, account_id,
                             datetime(2026, 12, 3, 6, 0, tzinfo=UTC)) == ["promise-reminder"]
    async with wf_container.sessions.begin() as session:
        (contact,) = await seed.contacts(session, account_id)
        contact.status, contact.due_at = "deferred", datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    clock.set(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    await runner.cycle()
    async with wf_container.sessions() as session:
        (contact,) = await seed.contacts(session, account_id)
        assert contact.status == "skipped"
        assert await seed.outbound_count(session) == 0

"""Every stop/re-time event stops the ladder: nothing goes out, and the reason is recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.container import Container
from backend.db.models import (
    Account,
    ContactPoint,
    Conversation,
    Dispute,
    Installment,
    Message,
    PaymentPlan,
    Promise,
)
from backend.workflow import jobs
from backend.workflow.context import WorkflowContext
from backend.workflow.runner import InProcessRunner
from bot.clock import SettableClock
from tests.workflow import seed

Event = Callable[[AsyncSession, Account, datetime], Awaitable[None]]


async def paid(session: AsyncSession, acct: Account, now: datetime) -> None:
    acct.current_balance, acct.status = Decimal("0.00"), "paid"


async def promised(session: AsyncSession, acct: Account, now: datetime) -> None:
    session.add(Promise(account_id=acct.id, amount=Decimal("100.00"),
                        due_date=now.date() + timedelta(days=20), created_at=now))


async def plan_agreed(session: AsyncSession, acct: Account, now: datetime) -> None:
    plan = PaymentPlan(account_id=acct.id, total=Decimal("500.00"), frequency="monthly",
                       created_at=now)
    session.add(plan)
    await session.flush()
    session.add(Installment(plan_id=plan.id, seq=1, due_date=now.date() + timedelta(days=20),
                            amount=Decimal("500.00")))


async def disputed(session: AsyncSession, acct: Account, now: datetime) -> None:
    session.add(Dispute(account_id=acct.id, reason="not mine", opened_at=now))


async def opted_out(session: AsyncSession, acct: Account, now: datetime) -> None:
    for cp in await session.scalars(select(ContactPoint).where(
            ContactPoint.debtor_id == acct.debtor_id)):
        cp.opted_out_at, cp.opt_out_reason = now, "STOP"


async def _conversation(session: AsyncSession, acct: Account, now: datetime,
                        ownership: str = "bot") -> Conversation:
    conv = Conversation(channel="sms", address="+12125559999", debtor_id=acct.debtor_id,
                        account_id=acct.id, ownership=ownership, started_at=now,
                        last_message_at=now)
    session.add(conv)
    await session.flush()
    return conv


async def handed_to_human(session: AsyncSession, acct: Account, now: datetime) -> None:
    await _conversation(session, acct, now, ownership="queued")


async def replied(session: AsyncSession, acct: Account, now: datetime) -> None:
    conv = await _conversation(session, acct, now)
    session.add(Message(conversation_id=conv.id, direction="inbound", channel="sms",
                        provider_message_id="SMin1", text="who is this?",
                        delivery_status="received", created_at=now - timedelta(hours=1)))


async def ceased(session: AsyncSession, acct: Account, now: datetime) -> None:
    acct.cease = True


EVENTS = {
    "paid": (paid, "paid"), "promise": (promised, "promise_pending"),
    "plan": (plan_agreed, "plan_active"), "dispute": (disputed, "dispute_open"),
    "opt_out": (opted_out, "no_reachable_channel"),
    "handoff": (handed_to_human, "handed_to_human"), "reply": (replied, "debtor_replied"),
    "stop_state": (ceased, "stop_state:cease"),
}


@pytest.mark.parametrize("event", sorted(EVENTS))
async def test_each_event_stops_the_ladder(
    event: str, wf_container: Container, ctx: WorkflowContext, runner: InProcessRunner,
    clock: SettableClock,
) -> None:
    apply, reason = EVENTS[event]
    now = clock.now()
    acct = await seed.activated_account(wf_container, now, now.date() - timedelta(days=1))
    assert (await jobs.plan(ctx)).total == 1
    async with wf_container.sessions.begin() as session:
        row = await session.get(Account, acct.id)
        assert row is not None
        await apply(session, row, now)
    await runner.cycle()
    clock.advance(timedelta(days=6))  # past D+7: the next rung must not be planned either
    later = await runner.cycle()
    async with wf_container.sessions() as session:
        contact = (await seed.contacts(session, acct.id))[0]
        sent = await seed.outbound_count(session)
    assert sent == (1 if event == "reply" else 0)  # only the rung after the pause
    assert contact.status in ("cancelled", "blocked")
    assert contact.outcome == reason
    # A reply pauses the ladder only while the conversation leads (reply_pause_hours).
    assert later.planned == (1 if event == "reply" else 0)

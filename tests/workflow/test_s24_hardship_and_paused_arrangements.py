"""Hardship plans are reminded and judged; dates a pause moved are reminded, audited once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.console import actions
from backend.container import Container
from backend.db.models import Account, AuditEvent, Dispute, Installment, PaymentPlan
from backend.services.compliance.facts import ContactState, GateFacts
from backend.services.compliance.gate import AGREED_KEY_PREFIX, decide
from backend.services.compliance.rules import load_rules
from backend.workflow.runner import InProcessRunner
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.workflow import seed

D = Decimal


async def _account_with_plan(
    container: Container, start: datetime, dues: list[date], **flags: bool
) -> tuple[int, int]:
    """An account 60 days past due with a plan of 200.00 installments, and `flags` set."""
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, start)
        acct = await seed.account(
            session, folio, start, start.date() - timedelta(days=60), balance="800.00"
        )
        plan = PaymentPlan(
            account_id=acct.id,
            total=D("200.00") * len(dues),
            frequency="monthly",
            created_at=start,
        )
        session.add(plan)
        await session.flush()
        for seq, due in enumerate(dues, start=1):
            session.add(Installment(plan_id=plan.id, seq=seq, amount=D("200.00"), due_date=due))
        account = await session.get(Account, acct.id)
        assert account is not None
        for name, value in flags.items():
            setattr(account, name, value)
        await seed.activate(session, start)
        return acct.id, plan.id


async def _sent(container: Container, account_id: int, start: datetime) -> list[tuple[int, str]]:
    async with container.sessions() as session:
        return sorted(
            ((c.updated_at - start).days, c.step)
            for c in await seed.contacts(session, account_id)
            if c.status == "sent"
        )


async def _installments(container: Container, plan_id: int) -> list[tuple[str, date]]:
    async with container.sessions() as session:
        rows = await session.scalars(
            select(Installment).where(Installment.plan_id == plan_id).order_by(Installment.seq)
        )
        return [(i.status, i.due_date) for i in rows]


async def _run_days(
    runner: InProcessRunner, clock: SettableClock, start: datetime, days: range
) -> None:
    for day in days:
        clock.set(start + timedelta(days=day))
        await runner.cycle()


async def test_a_plan_agreed_under_hardship_is_reminded_before_it_is_judged(
    wf_container: Container,
    runner: InProcessRunner,
    clock: SettableClock,
) -> None:
    start = clock.now()  # Nov 25, 10:00 in New York
    dues = [start.date() + timedelta(days=5), start.date() + timedelta(days=35)]
    account_id, plan_id = await _account_with_plan(wf_container, start, dues, hardship=True)
    await _run_days(runner, clock, start, range(11))
    # Reminded two days before (day 3), missed after the 3 grace days (day 8) and told so;
    # the collection ladder, 60 days past due, stays held by the hardship.
    assert await _sent(wf_container, account_id, start) == [
        (3, "installment-reminder"),
        (8, "installment-missed"),
    ]
    async with wf_container.sessions() as session:
        plan = await session.get(PaymentPlan, plan_id)
        assert plan is not None and plan.status == "active"
    assert [s for s, _ in await _installments(wf_container, plan_id)] == ["missed", "due"]


def test_under_hardship_the_gate_lets_only_the_reminders_of_what_was_agreed_go() -> None:
    facts = GateFacts(
        stop_states=frozenset({"hardship"}),
        zones=("America/New_York",),
        regions=("NY",),
        contact=ContactState(opted_out_at=None, consent=True, wrong_party=False),
    )
    noon = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)

    def reminder(key: str | None) -> OutboundMessage:
        return OutboundMessage(
            key=ConversationKey("sms", "+12125550199"),
            text="Hello",
            purpose=Purpose.REMINDER,
            account_id=1,
            sender="workflow",
            idempotency_key=key,
        )

    agreed = decide(
        reminder(f"{AGREED_KEY_PREFIX}i7:installment-reminder"), facts, load_rules(), noon
    )
    assert agreed.allowed
    for campaign in (None, "a7:d+1:2026-10-01", "p7:promise-follow-up"):
        held = decide(reminder(campaign), facts, load_rules(), noon)
        assert (held.status, held.reason) == ("blocked", "hardship_pause")


async def _paused_from_day_2_to_day_8(
    container: Container, runner: InProcessRunner, clock: SettableClock
) -> tuple[datetime, int, int]:
    """An installment due on day 3 (reminded on day 1), a dispute from day 2 cleared on day 8
    at 10:00 in New York; then days 9 to 15."""
    start = clock.now()  # Nov 25
    dues = [start.date() + timedelta(days=3), start.date() + timedelta(days=40)]
    account_id, plan_id = await _account_with_plan(container, start, dues)
    await _run_days(runner, clock, start, range(2))
    async with container.sessions.begin() as session:
        session.add(Dispute(account_id=account_id, reason="not mine", opened_at=clock.now()))
        account = await session.get(Account, account_id)
        assert account is not None
        account.dispute = True
    await _run_days(runner, clock, start, range(2, 9))
    async with container.sessions.begin() as session:
        await actions.set_stop_state(
            session,
            account_id,
            "dispute",
            on=False,
            details="verification sent",
            actor="supervisor",
            now=clock.now(),
        )
    await _run_days(runner, clock, start, range(8, 16))
    return start, account_id, plan_id


async def test_an_installment_moved_by_a_pause_is_reminded_before_it_can_be_missed(
    wf_container: Container,
    runner: InProcessRunner,
    clock: SettableClock,
) -> None:
    start, account_id, plan_id = await _paused_from_day_2_to_day_8(wf_container, runner, clock)
    # Moved to two days after the clear (Dec 5), reminded on the clear day as before any due
    # date, missed only after its grace days (day 13) and followed up then.
    assert await _sent(wf_container, account_id, start) == [
        (1, "installment-reminder"),
        (8, "installment-reminder"),
        (13, "installment-missed"),
    ]
    [first, _] = await _installments(wf_container, plan_id)
    assert first == ("missed", start.date() + timedelta(days=10))


async def test_a_pause_reschedules_an_arrangement_once_not_every_day(
    wf_container: Container,
    runner: InProcessRunner,
    clock: SettableClock,
) -> None:
    start, account_id, _ = await _paused_from_day_2_to_day_8(wf_container, runner, clock)
    async with wf_container.sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "arrangement.rescheduled",
                    AuditEvent.subject_id == str(account_id),
                )
            )
        ).all()
    [event] = events
    [moved] = event.data["installments"]
    assert (moved["from"], moved["to"]) == (
        (start.date() + timedelta(days=3)).isoformat(),
        (start.date() + timedelta(days=4)).isoformat(),
    )

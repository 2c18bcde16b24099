"""The first reminder and a campaign step never both reach an account on one day."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from backend.container import Container
from backend.db.models import Account
from backend.services.reminders import ReminderResult, send_reminder
from backend.workflow.runner import InProcessRunner
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.workflow import seed

NY = ZoneInfo("America/New_York")


async def _week_past_due(container: Container, clock: SettableClock, minute: int = 31
                         ) -> Account:
    """An account under the default strategy whose d+7 step is due now (10:31 New York)."""
    clock.set(datetime(2026, 11, 25, 10, minute, tzinfo=NY))
    return await seed.activated_account(container, clock.now(), clock.now().date()
                                        - timedelta(days=7))


async def _remind(container: Container, account_id: int) -> ReminderResult:
    services = container.services
    async with container.sessions.begin() as session:
        result = await send_reminder(session, services["outbox"], services["gate"], account_id,
                                     container.clock.now(), services["adapters"])
    if result.decision is not None and result.decision.allowed:
        await services["outbox"].send([result.decision.message_id])
    return result


async def test_remind_skips_an_account_the_campaign_already_reached(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    acct = await _week_past_due(wf_container, clock)
    await runner.cycle()
    async with wf_container.sessions() as session:
        sent = [c for c in await seed.contacts(session, acct.id) if c.message_id is not None]
    assert [c.step for c in sent] == ["d+7"]
    clock.advance(timedelta(minutes=7))
    result = await _remind(wf_container, acct.id)
    assert (result.reason, result.message_id, result.decision) == (
        "already_reminded", sent[0].message_id, None)
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_the_campaign_waits_a_day_after_the_first_reminder(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    acct = await _week_past_due(wf_container, clock, minute=27)
    reminded = await _remind(wf_container, acct.id)
    assert reminded.decision is not None and reminded.decision.status == "pending"
    clock.advance(timedelta(minutes=4))
    await runner.cycle()
    async with wf_container.sessions() as session:
        contacts = {c.step: c for c in await seed.contacts(session, acct.id)}
    step = contacts["d+7"]
    tomorrow = clock.now().astimezone(NY).date() + timedelta(days=1)
    assert step.status == "deferred" and step.message_id is None
    assert step.due_at.astimezone(NY).date() == tomorrow
    assert (step.outcome or "").startswith("campaign_spacing until")
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_the_debtors_other_account_reminder_does_not_space_this_account(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    acct = await _week_past_due(wf_container, clock)
    async with wf_container.sessions.begin() as session:
        other = Account(creditor_id=acct.creditor_id, portfolio_id=acct.portfolio_id,
                        debtor_id=acct.debtor_id, external_ref=f"{acct.external_ref}-2",
                        currency="USD", original_balance=Decimal("80.00"),
                        current_balance=Decimal("80.00"), due_date=acct.due_date,
                        created_at=clock.now(), updated_at=clock.now())
        session.add(other)
        await session.flush()
    reminded = await _remind(wf_container, other.id)
    assert reminded.decision is not None and reminded.decision.status == "pending"
    await runner.cycle()
    async with wf_container.sessions() as session:
        contacts = {c.step: c for c in await seed.contacts(session, acct.id)}
    assert contacts["d+7"].status == "sent"

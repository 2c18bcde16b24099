"""Every campaign gate decision is audited: deferrals, and channels passed over for another."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, ContactPoint, PlannedContact
from backend.workflow.context import WorkflowContext
from backend.workflow.runner import InProcessRunner
from backend.workflow.strategy import StrategyDefinition, parse_strategy
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.workflow import seed

NY_0700 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NY_0800 = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def _one_step(**step: Any) -> StrategyDefinition:
    return parse_strategy({"name": "one", "segments": [{"name": "all", "steps": [
        {"id": "d0", "offset_days": 0, **step}]}]}, queues=())


async def _activated(container: Container, now: datetime,
                     definition: StrategyDefinition) -> Account:
    """An account due today under `definition`, switched on."""
    async with container.sessions.begin() as session:
        acct = await seed.account(session, await seed.portfolio(session, now), now, now.date())
        await seed.activate(session, now, definition)
    return acct


async def _events(container: Container, subject_type: str, subject_id: int) -> list[AuditEvent]:
    async with container.sessions() as session:
        rows = await session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == subject_type,
            AuditEvent.subject_id == str(subject_id)).order_by(AuditEvent.id))
        return list(rows.all())


async def test_a_deferral_by_the_gate_is_audited_with_its_rule_and_inputs(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    clock.set(NY_0700)  # inside the step's window, before the gate's 08:00
    definition = _one_step(window={"start": "06:00", "end": "17:00"})
    acct = await _activated(wf_container, clock.now(), definition)
    await runner.cycle()
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
    assert (contact.status, contact.due_at) == ("deferred", NY_0800)
    [event] = await _events(wf_container, "planned_contact", contact.id)
    assert (event.action, event.actor) == ("compliance.deferred", "workflow")
    assert event.data["reason"] == "quiet_hours" and event.data["rule"]
    assert event.data["channel"] == "sms" and event.data["step"] == "d0"
    assert event.data["not_before"].startswith("2026-11-25 13:00")
    assert event.data["local_times"]  # the inputs the gate decided on
    assert event.data["chosen_channel"] is None


async def test_a_channel_passed_over_for_the_next_one_is_audited(
    wf_container: Container, ctx: WorkflowContext, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    now = clock.now()
    # No WhatsApp template: outside the 24-hour window the gate blocks WhatsApp, SMS goes.
    acct = await _activated(wf_container, now, _one_step(channels=["whatsapp", "sms"]))
    async with wf_container.sessions.begin() as session:
        session.add(ContactPoint(debtor_id=acct.debtor_id, channel="whatsapp",
                                 address="+12125550777", consent=True, created_at=now))
    await InProcessRunner(replace(ctx, channels=None)).cycle()
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
        assert await session.scalar(select(PlannedContact.channel)) == "sms"
    assert contact.status == "sent" and contact.message_id is not None
    [passed_over] = await _events(wf_container, "planned_contact", contact.id)
    assert passed_over.action == "compliance.blocked"
    assert passed_over.data["channel"] == "whatsapp" and passed_over.data["chosen_channel"] == "sms"
    assert passed_over.data["reason"] and passed_over.data["rule"]
    assert passed_over.data["address"] == "…0777"
    sent = await _events(wf_container, "message", contact.message_id)
    assert [e.action for e in sent] == ["compliance.pending"]
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_the_one_a_day_deferral_is_audited(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    now = clock.now()
    acct = await _activated(wf_container, now, _one_step())
    await runner.cycle()  # d0 is sent
    async with wf_container.sessions.begin() as session:
        [first] = await seed.contacts(session, acct.id)
        # A second ladder of the same account (a new due date) falls due the same day.
        session.add(_another_like(first, now))
    clock.advance(timedelta(hours=2))
    await runner.cycle()
    async with wf_container.sessions() as session:
        second = (await seed.contacts(session, acct.id))[-1]
    assert second.status == "deferred"
    [event] = await _events(wf_container, "planned_contact", second.id)
    assert event.action == "compliance.deferred"
    assert event.data["reason"] == "campaign_spacing" and "item 20" in event.data["rule"]


def _another_like(row: PlannedContact, now: datetime) -> PlannedContact:
    """Another contact like `row`, due now, for a later anchor date."""
    return PlannedContact(
        key=row.key + ":again", account_id=row.account_id,
        strategy_version_id=row.strategy_version_id, segment=row.segment, step=row.step,
        variant=row.variant, anchor=row.anchor, anchor_date=row.anchor_date + timedelta(days=1),
        source_id=None, due_at=now, status="planned", reason=row.reason, attempts=0,
        created_at=now, updated_at=now)

"""The ladder: the right step on the right day, sent once through the real gate and outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from backend.container import Container
from backend.workflow import jobs
from backend.workflow.context import from_container
from backend.workflow.runner import InProcessRunner
from backend.workflow.sender import send_contact
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH, load_strategy_file
from backend.workflow.variants import bucket, choose
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.workflow import seed


async def test_courtesy_reminder_three_days_before_the_due_date_is_sent_once(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    now = clock.now()
    acct = await seed.activated_account(wf_container, now, now.date() + timedelta(days=3))
    first = await runner.cycle()
    again = await runner.cycle()
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
        assert await seed.outbound_count(session) == 1
    assert first.planned == 1 and again.planned == 0
    assert (contact.step, contact.status, contact.channel) == ("d-3-courtesy", "sent", "sms")
    assert "segment standard" in contact.reason
    assert len(twilio_api.calls("/Messages.json")) == 1
    assert "STOP" in twilio_api.calls("/Messages.json")[0].form["Body"]


async def test_nothing_is_planned_on_a_day_without_a_step(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    now = clock.now()
    acct = await seed.activated_account(wf_container, now, now.date() - timedelta(days=4))
    report = await runner.cycle()
    async with wf_container.sessions() as session:
        assert await seed.contacts(session, acct.id) == []
    assert report.planned == 0


async def test_ab_variants_are_deterministic_and_the_same_in_sql(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    now = clock.now()
    step = load_strategy_file(DEFAULT_STRATEGY_PATH).step("d+1")
    assert step is not None
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        accounts = [await seed.account(session, folio, now, now.date() - timedelta(days=1))
                    for _ in range(12)]
        await seed.activate(session, now)
    await runner.cycle()
    async with wf_container.sessions() as session:
        for acct in accounts:
            [contact] = await seed.contacts(session, acct.id)
            assert contact.variant == choose(step, acct.id)
    assert {choose(step, a.id) for a in accounts} == {"plain", "helpful"}
    assert bucket(7, "d+1") == bucket(7, "d+1") != bucket(7, "d+7")


async def test_a_step_never_picks_a_channel_without_a_configured_provider(
    wf_container: Container, clock: SettableClock, twilio_api: FakeServer,
) -> None:
    now = clock.now()
    acct = await seed.activated_account(wf_container, now, now.date() + timedelta(days=3))
    live = from_container(wf_container)
    assert live.channels is not None and "sms" in live.channels  # what the worker knows
    without_sms = replace(live, channels=live.channels - {"sms"})
    await jobs.plan(without_sms)
    for contact_id in await jobs.due_contacts(without_sms):
        await send_contact(without_sms, contact_id)
    async with wf_container.sessions() as session:
        [contact] = await seed.contacts(session, acct.id)
        assert await seed.outbound_count(session) == 0
    assert (contact.status, contact.outcome) == ("blocked", "channel_not_configured: sms")
    assert twilio_api.calls("/Messages.json") == []

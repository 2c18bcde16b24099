"""Steps due together go as one (the latest), and at most one campaign message a local day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from backend.container import Container
from backend.db.models import Account, Conversation, Message, Promise
from backend.workflow.runner import InProcessRunner, WorkflowRunner
from backend.workflow.simulate import simulate
from backend.workflow.store import LoadedVersion
from backend.workflow.strategy import StrategyDefinition, parse_strategy
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.workflow import seed

WINDOW = {"start": "10:00", "end": "17:00"}
FOLLOW_UP = {"id": "promise-follow-up", "anchor": "promise_broken", "offset_days": 1,
             "channels": ["sms"], "window": WINDOW}


def _daily(*events: dict[str, object]) -> StrategyDefinition:
    """Daily SMS steps d30-d34, each meant for its own day."""
    steps = [{"id": f"d{n}", "offset_days": n, "channels": ["sms"], "window": WINDOW}
             for n in range(30, 35)]
    return parse_strategy({"name": "daily", "segments": [{"name": "all", "steps": steps}],
                           "events": list(events)}, queues=())


async def _account_at(container: Container, now: datetime, days_past_due: int,
                      definition: StrategyDefinition) -> tuple[Account, LoadedVersion]:
    async with container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() - timedelta(days=days_past_due))
        version = await seed.activate(session, now, definition)
    return acct, version


async def _steps(container: Container, account_id: int) -> dict[str, tuple[str, str | None]]:
    async with container.sessions() as session:
        rows = await seed.contacts(session, account_id)
    return {r.step: (r.status, r.outcome) for r in rows}


async def test_a_late_import_sends_only_the_latest_missed_step(
    any_runner: WorkflowRunner, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    acct, _ = await _account_at(wf_container, clock.now(), 32, _daily())
    await any_runner.cycle()  # d30 and d31 are caught up, d32 is today's
    steps = await _steps(wf_container, acct.id)
    assert steps["d32"] == ("sent", None)
    for missed in ("d30", "d31"):
        status, outcome = steps[missed]
        assert status == "skipped" and outcome is not None
        assert outcome.startswith("superseded by d32")
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_the_steps_missed_during_a_reply_pause_go_as_one_message(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    now = clock.now()
    acct, _ = await _account_at(wf_container, now, 30, _daily())
    async with wf_container.sessions.begin() as session:
        conv = Conversation(channel="sms", address="+12125559999", debtor_id=acct.debtor_id,
                            account_id=acct.id, ownership="bot", started_at=now,
                            last_message_at=now)
        session.add(conv)
        await session.flush()
        session.add(Message(conversation_id=conv.id, direction="inbound", channel="sms",
                            provider_message_id="SMpause", text="who is this?",
                            delivery_status="received", created_at=now - timedelta(hours=1)))
    await runner.cycle()
    assert await _steps(wf_container, acct.id) == {}  # the conversation leads for 72 hours
    clock.advance(timedelta(days=3))  # the pause ended an hour ago; d31-d33 are all due
    await runner.cycle()
    steps = await _steps(wf_container, acct.id)
    assert steps["d33"] == ("sent", None)
    assert {steps["d31"][0], steps["d32"][0]} == {"skipped"}
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_a_second_campaign_message_on_the_same_local_day_waits_for_the_next(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    acct, _ = await _account_at(wf_container, clock.now(), 30, _daily(FOLLOW_UP))
    async with wf_container.sessions.begin() as session:
        # Broken at this cycle: the follow-up and the resumed ladder's d30 fall due together.
        session.add(Promise(account_id=acct.id, amount=Decimal("100.00"),
                            due_date=clock.now().date() - timedelta(days=3),
                            created_at=clock.now() - timedelta(days=5)))
    await runner.cycle()
    steps = await _steps(wf_container, acct.id)
    tomorrow = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert steps["d30"] == ("sent", None)
    assert steps["promise-follow-up"] == (
        "deferred", f"campaign_spacing until {tomorrow.isoformat()}")
    assert len(twilio_api.calls("/Messages.json")) == 1
    clock.set(tomorrow)
    await runner.cycle()
    steps = await _steps(wf_container, acct.id)
    assert steps["promise-follow-up"] == ("sent", None)
    assert steps["d31"][0] == "deferred"
    assert len(twilio_api.calls("/Messages.json")) == 2


async def test_the_dry_run_shows_the_superseded_steps_and_one_message_a_day(
    wf_container: Container, clock: SettableClock,
) -> None:
    acct, version = await _account_at(wf_container, clock.now(), 32, _daily())
    report = await simulate(wf_container.engine, version,
                            rules=wf_container.services["gate"].rules, start=clock.now(),
                            days=3, portfolio_id=acct.portfolio_id)
    seen = [(c.day, c.step, c.decision) for c in report.contacts if c.account_id == acct.id]
    assert sorted(seen) == [(0, "d30", "skipped"), (0, "d31", "skipped"), (0, "d32", "sent"),
                            (1, "d33", "sent"), (2, "d34", "sent")]
    reasons = {c.step: c.reason for c in report.contacts if c.decision == "skipped"}
    assert all(r and r.startswith("superseded by d32") for r in reasons.values())

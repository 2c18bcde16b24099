"""The dry run after a live run, without providers, and with a stored unknown handoff queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import yaml
from sqlalchemy import select

from backend.container import Container
from backend.db.models import PlannedContact
from backend.workflow import store
from backend.workflow.runner import InProcessRunner
from backend.workflow.simulate import simulate
from backend.workflow.strategy import DEFAULT_STRATEGY_PATH, StrategyDefinition
from bot.clock import SettableClock
from tests.workflow import seed


async def _live_rows(container: Container) -> dict[tuple[int, str], tuple[str, str | None]]:
    async with container.sessions() as session:
        rows = (await session.scalars(select(PlannedContact))).all()
    return {(r.account_id, r.step): (r.status, r.outcome) for r in rows}


async def test_a_dry_run_after_a_live_run_does_not_send_todays_contacts_again(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        for offset in (3, -1, -7):  # d-3-courtesy, d+1 and d+7 are all due today
            await seed.account(session, folio, now, now.date() + timedelta(days=offset))
        version = await seed.activate(session, now)
    await runner.cycle()
    live = await _live_rows(wf_container)
    assert len(live) == 3 and {s for s, _ in live.values()} == {"sent"}
    gate = wf_container.services["gate"]
    report = await simulate(wf_container.engine, version, rules=gate.rules,
                            start=clock.now(), days=1, portfolio_id=folio.id)
    assert report.contacts == []
    assert await _live_rows(wf_container) == live


async def test_real_sends_count_against_the_caps_of_a_dry_run_once(
    wf_container: Container, runner: InProcessRunner, clock: SettableClock,
) -> None:
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() - timedelta(days=1))
        version = await seed.activate(session, now)
    await runner.cycle()  # d+1 is sent for real
    gate = wf_container.services["gate"]
    two_a_week = replace(gate.rules, cap_per_channel=2)
    report = await simulate(wf_container.engine, version, rules=two_a_week,
                            start=clock.now(), days=7, portfolio_id=folio.id)
    steps = {(c.account_id, c.step): (c.decision, c.reason) for c in report.contacts}
    # d+1 went out once; d+7 is the second message of the week, within the cap of two.
    assert steps == {(acct.id, "d+7"): ("sent", None)}


async def test_without_a_provider_the_dry_run_says_the_channel_is_not_configured(
    wf_container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() + timedelta(days=3))
        version = await seed.activate(session, now)
    gate = wf_container.services["gate"]
    report = await simulate(wf_container.engine, version, rules=gate.rules,
                            start=clock.now(), days=1, portfolio_id=folio.id,
                            channels=frozenset())
    [contact] = report.contacts
    assert (contact.account_id, contact.decision, contact.reason) == (
        acct.id, "blocked", "channel_not_configured: sms")


async def test_a_stored_version_with_an_unknown_queue_is_not_handed_to_the_default_queue(
    wf_container: Container, clock: SettableClock,
) -> None:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8"))
    data["segments"][0]["steps"][-1]["queue"] = "nonexistent_queue"
    # As saved before queues were checked: it must still load, or the planner stops.
    definition = StrategyDefinition.model_validate(data)
    now = clock.now()
    async with wf_container.sessions.begin() as session:
        folio = await seed.portfolio(session, now)
        acct = await seed.account(session, folio, now, now.date() - timedelta(days=30))
        saved = await seed.activate(session, now, definition)
    async with wf_container.sessions() as session:
        version = await store.get_version(session, saved.strategy_id, saved.version)
    gate = wf_container.services["gate"]
    report = await simulate(wf_container.engine, version, rules=gate.rules,
                            start=clock.now(), days=1, portfolio_id=folio.id)
    [contact] = report.contacts
    assert (contact.account_id, contact.step, contact.decision, contact.reason) == (
        acct.id, "d+30", "blocked", "unknown_queue: nonexistent_queue")

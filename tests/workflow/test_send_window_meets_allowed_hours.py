"""A step's send window that never meets the hours the gate allows: refused, or the law wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from backend.cli.main import app as parley
from backend.container import Container
from backend.db.models import Account, Debtor, PlannedContact
from backend.workflow.context import WorkflowContext
from backend.workflow.sender import send_contact
from backend.workflow.strategy import (
    DEFAULT_STRATEGY_PATH,
    StrategyError,
    parse_strategy,
    parse_strategy_text,
)
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.workflow import seed

NY = ZoneInfo("America/New_York")
DUE = date(2026, 11, 2)
DEFAULT = DEFAULT_STRATEGY_PATH.read_text(encoding="utf-8")
CYCLES = 10  # ten sends over as many days: a looping contact is still re-timed at the end


def _one_step(window: dict[str, str], action: str = "message") -> dict[str, object]:
    step: dict[str, object] = {"id": "nudge", "offset_days": 0, "action": action,
                               "window": window}
    if action == "handoff":
        step["queue"] = "general"
    return {"name": "narrow", "segments": [{"name": "all", "steps": [step]}]}


@pytest.mark.parametrize("window", [{"start": "06:00", "end": "07:30"},
                                    {"start": "21:30", "end": "23:00"},
                                    {"start": "06:00", "end": "08:00"}])
def test_a_window_wholly_in_quiet_hours_is_refused_naming_the_step(
    window: dict[str, str],
) -> None:
    with pytest.raises(StrategyError) as caught:
        parse_strategy(_one_step(window), "narrow.yml")
    message = str(caught.value)
    assert message.startswith("narrow.yml: segments.0.steps.0: step 'nudge': window ")
    assert f"{window['start']}-{window['end']} lies wholly in quiet hours" in message
    assert "08:00-21:00" in message


def test_a_window_that_meets_the_allowed_hours_or_a_handoff_is_accepted() -> None:
    assert parse_strategy(_one_step({"start": "07:00", "end": "08:30"}))
    assert parse_strategy(_one_step({"start": "06:00", "end": "07:00"}, "handoff"))
    # A version saved before the check keeps running as it was accepted.
    assert parse_strategy(_one_step({"start": "06:00", "end": "07:30"}), stored=True)


def test_cli_load_refuses_a_window_in_quiet_hours(tmp_path: Path) -> None:
    assert 'window: {start: "10:00", end: "17:00"}' in DEFAULT
    text = DEFAULT.replace('window: {start: "10:00", end: "17:00"}',
                           'window: {start: "21:30", end: "23:00"}', 1)
    with pytest.raises(StrategyError, match=r"segments\.0\.steps\.0: step 'd-3-courtesy'"):
        parse_strategy_text(text, "bad.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text(text, encoding="utf-8")
    refused = CliRunner().invoke(parley, ["strategy", "load", str(bad)])
    assert refused.exit_code == 1
    assert "step 'd-3-courtesy': window 21:30-23:00 lies wholly in quiet hours" in refused.output


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY).astimezone(UTC)


async def _contact(container: Container, now: datetime, window: dict[str, str],
                   not_before: time | None, not_after: time | None) -> int:
    """One account due today whose debtor designated hours, one step planned for 10:00."""
    async with container.sessions.begin() as session:
        acct = await seed.account(session, await seed.portfolio(session, now), now, DUE)
        debtor = await session.scalar(select(Debtor).join(Account).where(Account.id == acct.id))
        assert debtor is not None
        debtor.contact_not_before, debtor.contact_not_after = not_before, not_after
        # Read back as stored: a version saved before the load refused quiet-hours windows.
        definition = parse_strategy(_one_step(window), stored=True)
        version = await seed.activate(session, now, definition)
        contact = PlannedContact(
            key=f"a{acct.id}:nudge:{DUE}", account_id=acct.id, strategy_version_id=version.id,
            segment="all", step="nudge", anchor="due_date", anchor_date=DUE, due_at=now,
            status="planned", reason="test", created_at=now, updated_at=now)
        session.add(contact)
        await session.flush()
        return contact.id


async def _run_until_done(ctx: WorkflowContext, container: Container, clock: SettableClock,
                          contact_id: int) -> tuple[list[str], PlannedContact]:
    """Send the contact each time it falls due, as the sweep would, for CYCLES runs at most."""
    outcomes: list[str] = []
    for _ in range(CYCLES):
        outcome = await send_contact(ctx, contact_id)
        outcomes.append(outcome)
        async with container.sessions() as session:
            contact = await session.get(PlannedContact, contact_id)
            assert contact is not None
        if contact.status not in ("planned", "deferred"):
            return outcomes, contact
        clock.set(contact.due_at)
    return outcomes, contact


@pytest.mark.parametrize(("window", "not_before", "not_after", "sent_at"), [
    # "Not before noon": the step aims for 10:00-11:30, the gate opens at 12:00.
    ({"start": "10:00", "end": "11:30"}, time(12, 0), None, (2, 12, 0)),
    # "Not after nine": the step aims for 10:00-18:00, the gate closes at 09:00.
    ({"start": "10:00", "end": "18:00"}, None, time(9, 0), (3, 8, 0)),
    # Saved before the load check: the step aims for 06:00-07:30, wholly in quiet hours.
    ({"start": "06:00", "end": "07:30"}, None, None, (2, 10, 0)),
])
async def test_a_window_outside_the_debtors_hours_sends_in_those_hours(
    ctx: WorkflowContext, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer, window: dict[str, str], not_before: time | None,
    not_after: time | None, sent_at: tuple[int, int, int],
) -> None:
    clock.set(_at(2, 10, 0))
    contact_id = await _contact(wf_container, clock.now(), window, not_before, not_after)
    outcomes, contact = await _run_until_done(ctx, wf_container, clock, contact_id)
    assert contact.status == "sent", (outcomes, contact.outcome)
    assert len(outcomes) <= 2
    assert clock.now() == _at(*sent_at)
    assert len(twilio_api.calls("/Messages.json")) == 1


async def test_a_window_that_meets_the_debtors_hours_keeps_the_step_window(
    ctx: WorkflowContext, wf_container: Container, clock: SettableClock,
    twilio_api: FakeServer,
) -> None:
    clock.set(_at(2, 8, 30))
    contact_id = await _contact(wf_container, clock.now(), {"start": "10:00", "end": "18:00"},
                                time(9, 0), None)
    outcomes, contact = await _run_until_done(ctx, wf_container, clock, contact_id)
    assert (outcomes, contact.status) == (["planned", "sent"], "sent")
    assert clock.now() == _at(2, 10, 0)

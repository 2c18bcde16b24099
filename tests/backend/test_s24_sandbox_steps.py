"""A sandbox clock move steps through time: jobs run at each stop, not once at the destination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend.api.app import create_app
from backend.container import Container
from backend.db.models import Message, PlannedContact, Promise
from backend.settings import Settings
from backend.wiring import build_parley_app
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio
from tests.workflow import seed

CLOCK = "/sandbox/clock"


@pytest.fixture
def twilio_api() -> AsyncIterator[FakeServer]:
    """A fake Twilio REST API that accepts every message."""
    server = fake_twilio()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
def sandbox_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"parley_sandbox": True})


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


@pytest.fixture
async def parley(
    sandbox_settings: Settings, clock: SettableClock, twilio_api: FakeServer
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The whole app as `parley serve` builds it, in sandbox mode, texting a fake Twilio."""
    app = build_parley_app(
        sandbox_settings.model_copy(
            update={
                "twilio_account_sid": ACCOUNT_SID,
                "twilio_auth_token": AUTH_TOKEN,
                "twilio_api_url": twilio_api.base,
                "twilio_sms_from": "+12125550100",
            }
        ),
        clock=clock,
    )
    async for c in _client(app):
        yield c, app.state.container


@pytest.fixture
async def bare(
    sandbox_settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The core app in sandbox mode, with no jobs of its own."""
    app = create_app(sandbox_settings, clock=clock, migrate=False)
    async for c in _client(app):
        yield c, app.state.container


async def test_a_promise_reminder_due_mid_move_is_sent_in_one_long_advance(
    parley: tuple[httpx.AsyncClient, Container],
    clock: SettableClock,
) -> None:
    client, container = parley
    now = clock.now()  # Wednesday 2026-11-25, 10:00 in New York
    promised = now.date() + timedelta(days=3)  # Saturday: reminded Friday at 10:00 New York
    account = await seed.activated_account(container, now, now.date() + timedelta(days=40))
    async with container.sessions.begin() as session:
        promise = Promise(
            account_id=account.id, amount=Decimal("100.00"), due_date=promised, created_at=now
        )
        session.add(promise)
        await session.flush()
        key = f"p{promise.id}:promise-reminder"

    # To Monday: three days past the reminder's day, beyond the planner's two-day catch-up.
    moved = await client.post(CLOCK, json={"advance_seconds": 5 * 24 * 3600})

    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["now"]) == now + timedelta(days=5)
    async with container.sessions() as session:
        reminder = await session.scalar(select(PlannedContact).where(PlannedContact.key == key))
        assert reminder is not None and reminder.status == "sent"
        message = await session.get(Message, reminder.message_id)
    assert message is not None
    assert message.created_at == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


async def test_jobs_see_the_times_between_and_are_named_once(
    bare: tuple[httpx.AsyncClient, Container],
    clock: SettableClock,
) -> None:
    client, container = bare
    start = clock.now()
    seen: list[datetime] = []

    async def hourly(now: datetime) -> None:
        assert container.clock.now() == now  # the clock stands at the stop the job runs at
        seen.append(now)

    container.scheduler.every("hourly", timedelta(hours=1), hourly)
    moved = await client.post(CLOCK, json={"now": (start + timedelta(days=1)).isoformat()})

    assert moved.json()["jobs_run"] == ["hourly"]
    assert seen == [start + timedelta(hours=h) for h in range(1, 25)]
    assert clock.now() == start + timedelta(days=1)


async def test_a_job_not_stepped_runs_only_at_the_destination(
    bare: tuple[httpx.AsyncClient, Container],
    clock: SettableClock,
) -> None:
    client, container = bare
    start = clock.now()
    seen: list[datetime] = []

    async def snapshot(now: datetime) -> None:
        seen.append(now)

    container.scheduler.every("snapshot", timedelta(minutes=5), snapshot, stepped=False)
    moved = await client.post(CLOCK, json={"advance_seconds": 6 * 3600})

    assert moved.json()["jobs_run"] == ["snapshot"]
    assert seen == [start + timedelta(hours=6)]


@pytest.mark.parametrize(
    "body",
    [
        {"advance_seconds": int(timedelta(days=32).total_seconds())},
        {"advance_seconds": 10**18},
        {"now": "2026-12-27T15:00:00Z"},
    ],
)
async def test_a_move_longer_than_31_days_is_refused(
    bare: tuple[httpx.AsyncClient, Container],
    clock: SettableClock,
    body: dict[str, object],
) -> None:
    client, _ = bare
    start = clock.now()

    refused = await client.post(CLOCK, json=body)

    assert refused.status_code == 422
    assert "31 days" in refused.json()["detail"]
    assert clock.now() == start

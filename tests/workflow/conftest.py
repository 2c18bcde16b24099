"""Workflow fixtures: the real gate and outbox, Twilio faked on 127.0.0.1, seeded accounts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from saq.queue.redis import RedisQueue

from backend.channels_wiring import close_channels, install_channels
from backend.container import Container, build_container
from backend.services.outbox import RetryPolicy
from backend.settings import Settings
from backend.workflow.context import WorkflowContext, from_container
from backend.workflow.runner import InProcessRunner, WorkflowRunner
from backend.workflow.saq_runner import SaqRunner
from bot.clock import SettableClock
from tests.fakes.server import FakeServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio
from tests.services import require


@pytest.fixture
def twilio_api() -> Iterator[FakeServer]:
    """A fake Twilio REST API that accepts every message."""
    server = fake_twilio()
    yield server
    server.stop()


@pytest.fixture
def wf_settings(settings: Settings, twilio_api: FakeServer) -> Settings:
    """SMS through the fake Twilio."""
    return settings.model_copy(update={
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_url": twilio_api.base, "twilio_sms_from": "+12125550100",
    })


@pytest.fixture
async def wf_container(wf_settings: Settings, clock: SettableClock
                       ) -> AsyncIterator[Container]:
    """A container with the channels (gate, outbox, adapters) installed."""
    built = build_container(wf_settings, clock)
    install_channels(None, built, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    try:
        yield built
    finally:
        await close_channels(built)
        await built.close()


@pytest.fixture
def ctx(wf_container: Container) -> WorkflowContext:
    """The live workflow context."""
    return from_container(wf_container)


@pytest.fixture
def runner(ctx: WorkflowContext) -> InProcessRunner:
    """The in-process runner."""
    return InProcessRunner(ctx)


@pytest.fixture(params=["inprocess", pytest.param("saq", marks=pytest.mark.redis)])
async def any_runner(request: pytest.FixtureRequest, ctx: WorkflowContext
                     ) -> AsyncIterator[WorkflowRunner]:
    """Each runner in turn: in-process, then SAQ over Redis with two worker tasks."""
    if request.param == "inprocess":
        yield InProcessRunner(ctx)
        return
    url = require("TEST_REDIS_URL")
    redis = Redis.from_url(url)
    queue = RedisQueue(redis, name=f"parley-test-{uuid.uuid4().hex[:8]}")
    runner = SaqRunner(ctx, queue)
    workers = [runner.worker(concurrency=2, cron=False, timers={"sweep": 1}) for _ in range(2)]
    tasks = [asyncio.create_task(w.start()) for w in workers]
    try:
        yield runner
    finally:
        for worker in workers:
            await worker.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await queue.disconnect()

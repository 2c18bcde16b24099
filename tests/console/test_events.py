"""The event bus contract, run against the in-process bus and the Redis pub/sub bus."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend.container import Container
from backend.services.events import (
    RESYNC,
    Event,
    EventBus,
    MemoryEventBus,
    RedisEventBus,
    Subscription,
    build_event_bus,
    drain_published,
    publish_after_commit,
)
from tests.services import require


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    """A client on the test Redis (skipped locally when absent, required under CI)."""
    client = Redis.from_url(require("TEST_REDIS_URL"))
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    """A factory of buses sharing one channel (like several API processes)."""
    buses: list[EventBus] = []
    clients: list[Redis] = []
    channel = f"parley:test:{uuid.uuid4().hex}"
    shared = MemoryEventBus()

    def make() -> EventBus:
        if request.param == "memory":
            bus: EventBus = shared
        else:
            client = Redis.from_url(require("TEST_REDIS_URL"))
            clients.append(client)
            bus = RedisEventBus(client, channel)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()
    for client in clients:
        await client.aclose()


async def _next(subscription: Subscription) -> Event | None:
    return await subscription.next(within=2.0)


async def test_a_subscriber_receives_what_is_published_in_order(make_bus: object) -> None:
    bus = make_bus()  # type: ignore[operator]
    async with bus.subscribe() as subscription:
        for n in range(3):
            await bus.publish(Event("handoff.opened", {"conversation_id": n}))
        received = [await _next(subscription) for _ in range(3)]
    assert [e.data["conversation_id"] for e in received if e] == [0, 1, 2]
    assert all(e is not None and e.kind == "handoff.opened" for e in received)


async def test_every_subscriber_gets_every_event(make_bus: object) -> None:
    bus = make_bus()  # type: ignore[operator]
    async with bus.subscribe() as first, bus.subscribe() as second:
        await bus.publish(Event("message", {"message_id": 7}))
        got = [await _next(first), await _next(second)]
    assert [e.data["message_id"] for e in got if e] == [7, 7]


async def test_processes_sharing_the_bus_share_the_events(make_bus: object) -> None:
    api_one, api_two = make_bus(), make_bus()  # type: ignore[operator]
    async with api_two.subscribe() as console:
        await api_one.publish(Event("message", {"message_id": 1}))
        event = await _next(console)
    assert event is not None and event.data == {"message_id": 1}


async def test_nothing_from_before_subscribing_and_nothing_after_leaving(
    make_bus: object,
) -> None:
    bus = make_bus()  # type: ignore[operator]
    async with bus.subscribe() as warm:  # the listener is running: "before" is really before
        await bus.publish(Event("early"))
        assert await _next(warm) is not None
    async with bus.subscribe() as subscription:
        assert await subscription.next(within=0.2) is None
        await bus.publish(Event("late"))
        late = await _next(subscription)
    assert late is not None and late.kind == "late"


async def test_closing_the_bus_ends_every_subscription(make_bus: object) -> None:
    bus = make_bus()  # type: ignore[operator]
    async with bus.subscribe() as subscription:
        waiter = asyncio.create_task(subscription.next())
        await asyncio.sleep(0.05)
        await bus.close()
        assert await asyncio.wait_for(waiter, 2.0) is None
    assert subscription.closed


async def test_events_survive_the_wire_unchanged(make_bus: object) -> None:
    bus = make_bus()  # type: ignore[operator]
    sent = Event("handoff.claimed", {"conversation_id": 3, "queue": "legal", "agent_id": None})
    async with bus.subscribe() as subscription:
        await bus.publish(sent)
        received = await _next(subscription)
    assert received == Event.from_json(sent.to_json())
    assert received is not None and dict(received.data) == dict(sent.data)


async def test_a_subscriber_that_falls_behind_is_told_to_resync() -> None:
    subscription = Subscription(maxsize=2)
    for n in range(4):
        subscription.deliver(Event("message", {"n": n}))
    drained = [await subscription.next(within=0.1) for _ in range(3)]
    assert [e.kind for e in drained if e] == ["message", "message", RESYNC.kind]


async def test_redis_is_used_when_configured(redis_client: Redis) -> None:
    assert isinstance(build_event_bus(redis_client), RedisEventBus)
    assert isinstance(build_event_bus(None), MemoryEventBus)


async def test_publish_after_commit_waits_for_the_commit(container: Container) -> None:
    bus = MemoryEventBus()
    async with bus.subscribe() as subscription:
        async with container.sessions() as session:
            publish_after_commit(session, bus, Event("dropped"))
            await session.rollback()
        async with container.sessions.begin() as session:
            publish_after_commit(session, bus, Event("kept"))
            await drain_published()
            assert await subscription.next(within=0.05) is None
        await drain_published()
        event = await subscription.next(within=1)
    assert event is not None and event.kind == "kept"

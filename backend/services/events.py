"""The live-update event bus: in-process fan-out, or Redis pub/sub shared by every API process."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "parley:events"
SUBSCRIBER_BUFFER = 256
_PENDING_KEY = "parley.pending_events"
_LISTENING_KEY = "parley.events_listening"


@dataclass(frozen=True)
class Event:
    """Something the console should know about; ids and names only, never message bodies."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> str:
        """The wire form."""
        return json.dumps({"kind": self.kind, "data": dict(self.data)}, default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        """Parse the wire form."""
        body = json.loads(raw)
        return cls(kind=str(body["kind"]), data=dict(body.get("data") or {}))


RESYNC = Event("resync")  # told to a subscriber that fell behind and lost events


class Subscription:
    """One listener's buffer of events, in publication order."""

    def __init__(self, maxsize: int = SUBSCRIBER_BUFFER) -> None:
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self._lost = False
        self.closed = False

    def deliver(self, event: Event | None) -> None:
        """Hand over one event (None ends the stream); a full buffer drops it and asks to resync."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._lost = True

    async def next(self, within: float | None = None) -> Event | None:
        """The next event; None after `within` seconds or when the bus closed (`closed` set)."""
        if self.closed:
            return None
        if self._lost and self._queue.empty():
            self._lost = False
            return RESYNC
        try:
            event = await asyncio.wait_for(self._queue.get(), within)
        except TimeoutError:
            return None
        self.closed = event is None
        return event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while (event := await self.next()) is not None:
            yield event


class EventBus(Protocol):
    """Publish events; subscribe to every event published after subscribing."""

    async def publish(self, event: Event) -> None:
        """Send `event` to every current subscriber (in every process sharing the bus)."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[Subscription]:
        """A subscription for the length of the `async with` block."""
        ...

    async def close(self) -> None:
        """End every subscription and release connections."""
        ...


class MemoryEventBus:
    """Fan-out inside one process."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    async def publish(self, event: Event) -> None:
        """Deliver to every local subscriber."""
        self.fan_out(event)

    def fan_out(self, event: Event | None) -> None:
        """Deliver synchronously (None ends every stream)."""
        for subscriber in list(self._subscribers):
            subscriber.deliver(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """Listen until the block exits."""
        subscription = Subscription()
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    async def close(self) -> None:
        """End every subscription."""
        self.fan_out(None)


class RedisEventBus:
    """Publishes to a Redis channel; one listener per process fans messages out locally."""

    def __init__(self, redis: Redis, channel: str = DEFAULT_CHANNEL) -> None:
        self._redis = redis
        self._channel = channel
        self._local = MemoryEventBus()
        self._listener: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def publish(self, event: Event) -> None:
        """Publish on the channel; every process's listener (this one's too) delivers it."""
        await self._redis.publish(self._channel, event.to_json())

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """Listen until the block exits; the channel is subscribed before this returns."""
        await self._ensure_listening()
        async with self._local.subscribe() as subscription:
            yield subscription

    async def close(self) -> None:
        """Stop listening and end every local subscription."""
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._local.close()

    async def _ensure_listening(self) -> None:
        async with self._lock:
            if self._listener is not None:
                return
            pubsub = self._redis.pubsub()
            await pubsub.subscribe(self._channel)
            # Wait for Redis to confirm, or an event published right after could be missed.
            while await pubsub.get_message(timeout=1.0) is None:
                pass
            self._listener = asyncio.create_task(self._pump(pubsub), name="event-bus-listener")

    async def _pump(self, pubsub: Any) -> None:
        try:
            while True:
                await self._receive(pubsub)
        finally:
            await pubsub.aclose()

    async def _receive(self, pubsub: Any) -> None:
        try:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        except RedisError as error:
            # redis-py resubscribes when it reconnects; console clients resync after a gap.
            log.warning("event bus: redis listener error (%s); retrying", type(error).__name__)
            self._local.fan_out(RESYNC)
            await asyncio.sleep(1.0)
            return
        if message is not None and message.get("type") == "message":
            self._local.fan_out(Event.from_json(message["data"]))


def build_event_bus(redis: Redis | None, channel: str = DEFAULT_CHANNEL) -> EventBus:
    """Redis pub/sub when Redis is configured, in-process otherwise."""
    return RedisEventBus(redis, channel) if redis is not None else MemoryEventBus()


def publish_after_commit(session: AsyncSession | Session, bus: EventBus, event: Event) -> None:
    """Publish `event` once the session's transaction commits (never if it rolls back)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not sync.info.get(_LISTENING_KEY):
        sync.info[_LISTENING_KEY] = True
        sa_event.listen(sync, "after_commit", _publish_pending)
        sa_event.listen(sync, "after_rollback", _drop_pending)
    sync.info.setdefault(_PENDING_KEY, []).append((bus, event))


_in_flight: set[asyncio.Task[None]] = set()


def _publish_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    if not pending:
        return
    task = asyncio.get_running_loop().create_task(_publish_all(pending))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


async def _publish_all(pending: list[tuple[EventBus, Event]]) -> None:
    for bus, event in pending:
        try:
            await bus.publish(event)
        except RedisError as error:
            # The change is committed; consoles catch up on their next refresh.
            log.warning("event %s not published: %s", event.kind, type(error).__name__)


async def drain_published() -> None:
    """Wait for after-commit publications in flight (tests and shutdown)."""
    while _in_flight:
        await asyncio.gather(*list(_in_flight), return_exceptions=True)

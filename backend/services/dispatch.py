"""After the ack: process stored inbound messages per conversation, in order, exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.db.engine import autocommit
from backend.db.models import Message
from backend.db.models.enums import Direction

log = logging.getLogger(__name__)
TurnHandler = Callable[[int], Awaitable[None]]
# (message id, conversation id) for a handler that serializes conversations itself.
SerializedTurnHandler = Callable[[int, int], Awaitable[None]]
SWEEP_GRACE = timedelta(seconds=30)


class InboundDispatcher:
    """One in-process queue per conversation; with Redis, a lock per conversation across workers.

    The turn handler (`services["turn_handler"]`) sets `processed_at` in its own transaction;
    a message already processed is never handed to it again. A handler with a
    `handle_in_conversation(message_id, conversation_id)` method (the engine) is given the
    conversation and does that locking and checking itself.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], services: Mapping[str, Any],
        redis: Redis | None = None, lock_seconds: float = 30.0, max_turns: int = 8,
    ) -> None:
        self._sessions = sessions
        self._services = services
        self._redis = redis
        self._lock_seconds = lock_seconds
        # Turns are CPU-bound: a few at once keep the CPU busy while others wait on the
        # database, and leave the pool's connections and the loop free for webhooks to ack.
        self._slots = asyncio.Semaphore(max_turns)
        self._queues: dict[int, deque[int]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._queued: set[int] = set()

    def dispatch(self, conversation_id: int, message_id: int) -> None:
        """Queue `message_id` behind the conversation's earlier messages (returns at once)."""
        if message_id in self._queued:
            return
        self._queued.add(message_id)
        self._queues.setdefault(conversation_id, deque()).append(message_id)
        if conversation_id not in self._workers:
            task = asyncio.create_task(self._drain(conversation_id))
            self._workers[conversation_id] = task

    async def idle(self) -> None:
        """Wait until every queued message has been handled (tests, graceful shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def sweep(self, now: datetime) -> int:
        """Re-dispatch stored, unprocessed inbound messages (crash recovery); returns how many."""
        if self._handler() is None:
            return 0
        async with self._sessions() as session:
            rows = (await session.execute(
                select(Message.id, Message.conversation_id)
                .where(Message.direction == Direction.INBOUND, Message.processed_at.is_(None),
                       Message.created_at <= now - SWEEP_GRACE)
                .order_by(Message.id).limit(1000))).all()
        for message_id, conversation_id in rows:
            self.dispatch(conversation_id, message_id)
        return len(rows)

    def _handler(self) -> TurnHandler | None:
        handler: TurnHandler | None = self._services.get("turn_handler")
        return handler

    async def _drain(self, conversation_id: int) -> None:
        queue = self._queues[conversation_id]
        try:
            while queue:
                message_id = queue[0]
                try:
                    await self._process(conversation_id, message_id)
                finally:
                    queue.popleft()
                    self._queued.discard(message_id)
        finally:
            del self._workers[conversation_id]
            if not queue:
                self._queues.pop(conversation_id, None)

    async def _process(self, conversation_id: int, message_id: int) -> None:
        handler = self._handler()
        if handler is None:
            return  # stays stored with processed_at NULL; the sweep hands it over later
        async with self._slots:
            try:
                await self._run(handler, conversation_id, message_id)
            except Exception:
                # The message stays unprocessed; the periodic sweep retries it.
                log.exception("turn handler failed for message %s", message_id)

    async def _run(self, handler: TurnHandler, conversation_id: int, message_id: int) -> None:
        serialized: SerializedTurnHandler | None = getattr(handler, "handle_in_conversation",
                                                           None)
        if serialized is not None:
            # It locks the conversation and skips processed messages itself (the engine does,
            # under the same lock the portal's turns take): one lock and one check, not two.
            await serialized(message_id, conversation_id)
            return
        async with self._lock(conversation_id):
            if not await self._processed(message_id):
                await handler(message_id)

    def _lock(self, conversation_id: int) -> AbstractAsyncContextManager[Any]:
        if self._redis is None:
            return nullcontext()
        # Polled every 10 ms, not redis-py's default 100 ms: a waiter is another worker's next
        # message of the same conversation, due as soon as the holder commits.
        return self._redis.lock(f"parley:conversation:{conversation_id}", sleep=0.01,
                                timeout=self._lock_seconds, blocking_timeout=self._lock_seconds)

    async def _processed(self, message_id: int) -> bool:
        async with autocommit(self._sessions) as conn:
            done = await conn.scalar(select(Message.processed_at)
                                     .where(Message.id == message_id))
        return done is not None

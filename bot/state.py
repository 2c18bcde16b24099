"""Dialog working memory behind one StateStore: in-process or Redis, with a per-key lock."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis

DEFAULT_TTL_SECONDS = 7 * 24 * 3600


class StateStore(Protocol):
    """Reads and writes one JSON-able dict per key; `lock` serializes work on a key."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The stored state, or None when absent or expired."""
        ...

    async def set(self, key: str, state: dict[str, Any], ttl_seconds: int | None = None) -> None:
        """Store `state`, replacing what was there; it expires after `ttl_seconds`."""
        ...

    async def delete(self, key: str) -> None:
        """Forget the state of `key`."""
        ...

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold the key exclusively (waits for other holders, in arrival order)."""
        ...


class _LocalLocks:
    """asyncio locks per key, dropped once nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class MemoryStateStore:
    """In-process state (embedded mode, tests); expiry on a monotonic clock."""

    def __init__(self, default_ttl: int = DEFAULT_TTL_SECONDS) -> None:
        self.default_ttl = default_ttl
        self._data: dict[str, tuple[float, str]] = {}
        self._locks = _LocalLocks()

    async def get(self, key: str) -> dict[str, Any] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, raw = entry
        if time.monotonic() >= expires:
            del self._data[key]
            return None
        loaded: dict[str, Any] = json.loads(raw)
        return loaded

    async def set(self, key: str, state: dict[str, Any], ttl_seconds: int | None = None) -> None:
        # Stored serialized so callers cannot mutate it in place, exactly like Redis.
        ttl = ttl_seconds or self.default_ttl
        self._data[key] = (time.monotonic() + ttl, json.dumps(state, default=str))

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(key)


class RedisStateStore:
    """State in Redis as TTL'd JSON strings; the lock is a Redis lock (several workers)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "parley:state:",
        default_ttl: int = DEFAULT_TTL_SECONDS,
        lock_timeout: float = 30.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.default_ttl = default_ttl
        self.lock_timeout = lock_timeout
        self._local = _LocalLocks()

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.prefix + key)
        if raw is None:
            return None
        loaded: dict[str, Any] = json.loads(raw)
        return loaded

    async def set(self, key: str, state: dict[str, Any], ttl_seconds: int | None = None) -> None:
        ttl = ttl_seconds or self.default_ttl
        await self.redis.set(self.prefix + key, json.dumps(state, default=str), ex=ttl)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    @asynccontextmanager
    async def _hold(self, key: str) -> AsyncIterator[None]:
        # The local lock queues waiters of this process in order; the Redis lock then only
        # arbitrates between processes, so in-process contention never polls Redis.
        async with self._local.hold(key):
            lock = self.redis.lock(
                f"{self.prefix}lock:{key}", timeout=self.lock_timeout, sleep=0.005,
                blocking_timeout=self.lock_timeout,
            )
            async with lock:
                yield

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._hold(key)

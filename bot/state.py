"""Dialog working memory behind one StateStore: in-process or Redis, with a per-key lock."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import LockError, LockNotOwnedError

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


# Writes the state (when given) and frees the lock, only if this holder still owns it.
_RELEASE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
redis.call('del', KEYS[1])
return 1
"""


@dataclass
class _Held:
    """A key this process holds: its lock token, the task holding it, the state as it stands."""

    token: str
    task: asyncio.Task[Any] | None
    raw: bytes | str | None
    pending: tuple[str, int] | None = None  # serialized state and TTL, written on release


class RedisStateStore:
    """State in Redis as TTL'd JSON strings; the lock is a Redis lock (several workers).

    A holder's turn costs two round trips, not four: taking the lock also reads the state, and
    the state it sets is written together with the lock's release (only if still owned).
    """

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
        self._held: dict[str, _Held] = {}
        self._release = redis.register_script(_RELEASE)

    async def get(self, key: str) -> dict[str, Any] | None:
        held = self._mine(key)
        raw = held.raw if held is not None else await self.redis.get(self.prefix + key)
        if raw is None:
            return None
        loaded: dict[str, Any] = json.loads(raw)
        return loaded

    async def set(self, key: str, state: dict[str, Any], ttl_seconds: int | None = None) -> None:
        ttl = ttl_seconds or self.default_ttl
        raw = json.dumps(state, default=str)
        held = self._mine(key)
        if held is not None:
            held.raw, held.pending = raw, (raw, ttl)
            return
        await self.redis.set(self.prefix + key, raw, ex=ttl)

    async def delete(self, key: str) -> None:
        held = self._mine(key)
        if held is not None:
            held.raw, held.pending = None, None
        await self.redis.delete(self.prefix + key)

    def _mine(self, key: str) -> _Held | None:
        held = self._held.get(key)
        return held if held is not None and held.task is asyncio.current_task() else None

    @asynccontextmanager
    async def _hold(self, key: str) -> AsyncIterator[None]:
        # The local lock queues waiters of this process in order; the Redis lock then only
        # arbitrates between processes, so in-process contention never polls Redis.
        async with self._local.hold(key):
            lock_key = f"{self.prefix}lock:{key}"
            self._held[key] = await self._acquire(lock_key, key)
            try:
                yield
            finally:
                held = self._held.pop(key)
                await self._free(lock_key, key, held)

    async def _acquire(self, lock_key: str, key: str) -> _Held:
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_timeout
        while True:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(lock_key, token, nx=True, px=int(self.lock_timeout * 1000))
                pipe.get(self.prefix + key)
                taken, raw = await pipe.execute()
            if taken:
                return _Held(token, asyncio.current_task(), raw)
            if time.monotonic() >= deadline:
                raise LockError(f"could not take the lock of {key} in {self.lock_timeout}s")
            await asyncio.sleep(0.005)

    async def _free(self, lock_key: str, key: str, held: _Held) -> None:
        raw, ttl = held.pending or ("", 0)
        owned = await self._release(keys=[lock_key, self.prefix + key],
                                    args=[held.token, raw, ttl])
        if not owned:  # it expired and another worker took it: its state wins, not this one
            raise LockNotOwnedError(f"the lock of {key} expired while held; state not saved")

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._hold(key)

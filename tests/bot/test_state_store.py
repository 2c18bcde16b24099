"""One contract for every StateStore: memory and Redis behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.state import MemoryStateStore, RedisStateStore, StateStore
from tests.services import require


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
        return
    redis = Redis.from_url(require("TEST_REDIS_URL"))
    try:
        yield RedisStateStore(redis, prefix=f"test:{uuid.uuid4().hex}:")
    finally:
        await redis.aclose()


class TestStateStoreContract:
    async def test_missing_key_reads_none(self, store: StateStore) -> None:
        assert await store.get("nobody") is None

    async def test_set_then_get_roundtrips_json(self, store: StateStore) -> None:
        await store.set("k", {"a": 1, "b": ["x"], "c": None})
        assert await store.get("k") == {"a": 1, "b": ["x"], "c": None}

    async def test_returned_state_is_a_copy(self, store: StateStore) -> None:
        await store.set("k", {"a": [1]})
        got = await store.get("k")
        assert got is not None
        got["a"].append(2)
        assert await store.get("k") == {"a": [1]}

    async def test_delete_forgets(self, store: StateStore) -> None:
        await store.set("k", {"a": 1})
        await store.delete("k")
        assert await store.get("k") is None

    async def test_state_expires_after_its_ttl(self, store: StateStore) -> None:
        await store.set("k", {"a": 1}, ttl_seconds=1)
        assert await store.get("k") == {"a": 1}
        await asyncio.sleep(1.2)
        assert await store.get("k") is None

    async def test_lock_serializes_holders_in_arrival_order(self, store: StateStore) -> None:
        order: list[str] = []

        async def work(name: str, delay: float) -> None:
            async with store.lock("conv:1"):
                order.append(f"{name}+")
                await asyncio.sleep(delay)
                order.append(f"{name}-")

        first = asyncio.create_task(work("a", 0.05))
        await asyncio.sleep(0)
        second = asyncio.create_task(work("b", 0))
        await asyncio.gather(first, second)
        assert order == ["a+", "a-", "b+", "b-"]

    async def test_locks_on_different_keys_do_not_block(self, store: StateStore) -> None:
        async with store.lock("conv:1"):
            await asyncio.wait_for(self._hold(store, "conv:2"), timeout=1)

    async def _hold(self, store: StateStore, key: str) -> None:
        async with store.lock(key):
            return

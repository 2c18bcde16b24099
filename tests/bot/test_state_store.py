"""One contract for every StateStore: memory and Redis behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import LockNotOwnedError

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

    async def test_a_holder_reads_what_it_set_and_others_see_it_after_release(
        self, store: StateStore
    ) -> None:
        await store.set("conv:1", {"n": 1})
        async with store.lock("conv:1"):
            assert await store.get("conv:1") == {"n": 1}
            await store.set("conv:1", {"n": 2})
            assert await store.get("conv:1") == {"n": 2}
        assert await store.get("conv:1") == {"n": 2}

    async def test_a_holder_that_deletes_reads_nothing(self, store: StateStore) -> None:
        await store.set("conv:1", {"n": 1})
        async with store.lock("conv:1"):
            await store.delete("conv:1")
            assert await store.get("conv:1") is None
        assert await store.get("conv:1") is None


@pytest.mark.redis
class TestRedisStateAcrossWorkers:
    """Two stores on one Redis are two workers: each sees what the other saved under the lock."""

    @pytest.fixture
    async def pair(self) -> AsyncIterator[tuple[RedisStateStore, RedisStateStore]]:
        redis = Redis.from_url(require("TEST_REDIS_URL"))
        prefix = f"test:{uuid.uuid4().hex}:"
        try:
            yield RedisStateStore(redis, prefix=prefix), RedisStateStore(redis, prefix=prefix)
        finally:
            await redis.aclose()

    async def test_increments_from_two_workers_are_never_lost(
        self, pair: tuple[RedisStateStore, RedisStateStore]
    ) -> None:
        async def bump(store: RedisStateStore) -> None:
            async with store.lock("conv:9"):
                state = await store.get("conv:9") or {"n": 0}
                await asyncio.sleep(0.002)
                await store.set("conv:9", {"n": state["n"] + 1})

        await asyncio.gather(*(bump(pair[i % 2]) for i in range(20)))
        assert await pair[0].get("conv:9") == {"n": 20}

    async def test_an_other_task_reads_the_saved_state_not_the_holders_unsaved_one(
        self, pair: tuple[RedisStateStore, RedisStateStore]
    ) -> None:
        store = pair[0]
        await store.set("conv:3", {"n": 1})
        async with store.lock("conv:3"):
            await store.set("conv:3", {"n": 2})
            assert await asyncio.create_task(store.get("conv:3")) == {"n": 1}
        assert await store.get("conv:3") == {"n": 2}

    async def test_a_holder_whose_lock_expired_does_not_overwrite_the_next_one(
        self, pair: tuple[RedisStateStore, RedisStateStore]
    ) -> None:
        slow, fast = pair
        slow.lock_timeout = 0.2
        with pytest.raises(LockNotOwnedError):
            async with slow.lock("conv:4"):
                await asyncio.sleep(0.3)  # its lock expires; the other worker takes the key
                async with fast.lock("conv:4"):
                    await fast.set("conv:4", {"by": "fast"})
                await slow.set("conv:4", {"by": "slow"})
        assert await fast.get("conv:4") == {"by": "fast"}

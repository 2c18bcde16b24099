"""Dispatch: per-conversation order, nothing lost when no engine is there, crash recovery."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from redis.asyncio import Redis

from backend.container import Container
from backend.db.models import Message
from backend.services.dispatch import InboundDispatcher
from backend.services.inbox import store_inbound
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage
from tests.services import require


async def store(container: Container, address: str, sid: str) -> tuple[int, int]:
    inbound = InboundMessage(ConversationKey("sms", address), "hi", sid, container.clock.now())
    async with container.sessions.begin() as session:
        stored = await store_inbound(session, inbound, now=container.clock.now())
    return stored.conversation_id, stored.message_id


def recording_handler(container: Container, order: list[int]):
    async def handle(message_id: int) -> None:
        await asyncio.sleep(random.random() / 100)
        order.append(message_id)
        async with container.sessions.begin() as session:
            message = await session.get(Message, message_id)
            assert message is not None
            message.processed_at = container.clock.now()

    return handle


async def test_messages_of_one_conversation_are_handled_in_order(container: Container) -> None:
    order: list[int] = []
    services = {"turn_handler": recording_handler(container, order)}
    dispatcher = InboundDispatcher(container.sessions, services)
    stored = [await store(container, addr, f"SM{i}{addr}")
              for i in range(6) for addr in ("+12125550001", "+12125550002")]
    for conversation_id, message_id in stored:
        dispatcher.dispatch(conversation_id, message_id)
    await dispatcher.idle()
    for conversation in {c for c, _ in stored}:
        expected = [m for c, m in stored if c == conversation]
        assert [m for m in order if m in expected] == expected


async def test_without_an_engine_messages_stay_stored_and_the_sweep_delivers_them(
    container: Container, clock: SettableClock
) -> None:
    services: dict[str, object] = {}
    dispatcher = InboundDispatcher(container.sessions, services)
    conversation_id, message_id = await store(container, "+12125550003", "SM-late")
    dispatcher.dispatch(conversation_id, message_id)
    await dispatcher.idle()
    order: list[int] = []
    services["turn_handler"] = recording_handler(container, order)
    clock.advance(timedelta(minutes=1))
    assert await dispatcher.sweep(clock.now()) == 1
    await dispatcher.idle()
    assert order == [message_id]
    assert await dispatcher.sweep(clock.now()) == 0  # processed: never handed over twice


async def test_a_crash_before_processing_is_recovered_once(
    container: Container, clock: SettableClock
) -> None:
    _, message_id = await store(container, "+12125550004", "SM-crash")  # stored, then "crash"
    order: list[int] = []
    dispatcher = InboundDispatcher(container.sessions,
                                   {"turn_handler": recording_handler(container, order)})
    assert await dispatcher.sweep(clock.now()) == 0  # too fresh: a live request may own it
    clock.advance(timedelta(minutes=1))
    await dispatcher.sweep(clock.now())
    await dispatcher.sweep(clock.now())
    await dispatcher.idle()
    assert order == [message_id]


async def test_two_dispatchers_sharing_redis_handle_a_message_once(container: Container) -> None:
    redis = Redis.from_url(require("TEST_REDIS_URL"))
    try:
        order: list[int] = []
        services = {"turn_handler": recording_handler(container, order)}
        first = InboundDispatcher(container.sessions, services, redis)
        second = InboundDispatcher(container.sessions, services, redis)
        conversation_id, message_id = await store(container, "+12125550005", "SM-redis")
        first.dispatch(conversation_id, message_id)
        second.dispatch(conversation_id, message_id)
        await asyncio.gather(first.idle(), second.idle())
        assert order == [message_id]
    finally:
        await redis.aclose()


class ConversationHandler:
    """A handler that serializes conversations itself, like the engine."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.running = 0
        self.most = 0

    async def __call__(self, message_id: int) -> None:
        raise AssertionError("the dispatcher should pass the conversation")

    async def handle_in_conversation(self, message_id: int, conversation_id: int) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.01)
        self.calls.append((message_id, conversation_id))
        self.running -= 1


async def test_a_handler_that_locks_itself_is_given_the_conversation(
    container: Container,
) -> None:
    handler = ConversationHandler()
    dispatcher = InboundDispatcher(container.sessions, {"turn_handler": handler})
    stored = [await store(container, "+12125550010", f"SM-own-{i}") for i in range(3)]
    for conversation_id, message_id in stored:
        dispatcher.dispatch(conversation_id, message_id)
    await dispatcher.idle()
    assert handler.calls == [(m, c) for c, m in stored]


async def test_no_more_turns_run_at_once_than_the_dispatcher_allows(
    container: Container,
) -> None:
    handler = ConversationHandler()
    dispatcher = InboundDispatcher(container.sessions, {"turn_handler": handler}, max_turns=2)
    stored = [await store(container, f"+1212555002{i}", f"SM-slot-{i}") for i in range(6)]
    for conversation_id, message_id in stored:
        dispatcher.dispatch(conversation_id, message_id)
    await dispatcher.idle()
    assert len(handler.calls) == 6
    assert handler.most == 2

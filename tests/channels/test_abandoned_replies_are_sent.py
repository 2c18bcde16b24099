"""A reply let go but never sent — its sender died, or the turn's lock expired, between the
commit and the send — is not lost: the periodic release gates it again and sends it once."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Message
from bot.clock import SettableClock
from bot.engine import Engine
from tests.channels.helpers import seed_debtor
from tests.channels.test_fixes_held_replies import inbound, reply, row
from tests.conversations.fakes import RuleInterpreter
from tests.fakes.server import FakeServer

DAY = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 11:00 in New York


class _NeverSent:
    """An outbox whose sender dies before it sends anything."""

    def __init__(self, real: Any) -> None:
        self.real = real

    async def submit(self, session: Any, outbound: Any) -> Any:
        return await self.real.submit(session, outbound)

    async def send(self, message_ids: list[int]) -> None:
        return None


async def test_a_pending_reply_nobody_sent_goes_with_the_next_release_once(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(DAY)
    _, account_id = await seed_debtor(wired, now=clock.now())
    conversation_id, hi = await inbound(wired, "hi")
    outbox = real = wired.services["outbox"]
    wired.services["outbox"] = _NeverSent(real)
    message_id = await reply(wired, conversation_id, account_id, hi, "Please reply with your DOB")
    wired.services["outbox"] = real
    assert (await row(wired, message_id)).delivery_status == "pending"
    clock.set(DAY + timedelta(minutes=1))  # a live sender may still be about to claim it
    assert message_id not in await outbox.release_due(clock.now())
    assert twilio_api.calls("/Messages.json") == []
    clock.set(DAY + timedelta(minutes=3))
    assert await outbox.release_due(clock.now()) == [message_id]
    assert len(twilio_api.calls("/Messages.json")) == 1
    assert await outbox.release_due(clock.now() + timedelta(minutes=5)) == []
    assert len(twilio_api.calls("/Messages.json")) == 1
    assert (await row(wired, message_id)).provider_message_id is not None


class _LockLost(Exception):
    pass


class _ForgetfulStates:
    """A state store whose write fails, as Redis's does when the turn outlived its lock."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def lock(self, key: str) -> Any:
        return self.real.lock(key)

    async def get(self, key: str) -> Any:
        return await self.real.get(key)

    async def set(self, key: str, value: Any, ttl: int) -> None:
        raise _LockLost("the lock expired while held; state not saved")


async def test_the_replies_of_a_turn_whose_state_was_lost_are_still_sent(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    clock: SettableClock,
) -> None:
    clock.set(DAY)
    await seed_debtor(wired, now=clock.now())
    _, hi = await inbound(wired, "STOP")
    async with wired.sessions.begin() as session:
        (await session.get(Message, hi)).processed_at = None  # type: ignore[union-attr]
    wired.interpreter = RuleInterpreter()
    install_conversations(None, wired)
    engine: Engine = wired.services["engine"]
    engine.states = _ForgetfulStates(engine.states)  # type: ignore[assignment]
    with contextlib.suppress(_LockLost):
        await engine.handle(hi)
    assert len(twilio_api.calls("/Messages.json")) == 1  # the STOP confirmation went

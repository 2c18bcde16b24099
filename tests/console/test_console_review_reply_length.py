"""A framed agent reply (text, disclosure, opt-out line) must fit the channel whole: a longer
one is refused, saying how much to remove, and nothing is stored or sent."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Message
from backend.db.models.enums import Direction, Role
from bot.channels.base import ChannelLimits
from bot.channels.telegram import TELEGRAM_LIMITS
from bot.channels.twilio_sms import SMS_LIMITS
from bot.dialogs.base import DialogState
from bot.engine import state_key
from bot.responses import Renderer
from bot.state import MemoryStateStore
from tests.console.conftest import NOW, LoggedIn, Seeder

STOP_LINE = "Responda STOP para dejar de recibir mensajes en este número."


@dataclass(frozen=True)
class _Adapter:
    limits: ChannelLimits


async def _spanish_claimed(console: Container, seed: Seeder, agent_id: int) -> int:
    """An SMS conversation the agent owns, with a verified Spanish-speaking debtor."""
    states = MemoryStateStore()
    console.services["renderer"], console.services["state_store"] = Renderer(), states
    cid = await seed("quiero hablar con una persona")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "request_agent", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    verified = DialogState(language="es")
    verified.verified_until = NOW.replace(year=NOW.year + 1).isoformat()
    await states.set(state_key(cid), verified.to_dict())
    return cid


def _text(length: int) -> str:
    return ("Su saldo es 1027.02. " + "x" * length)[:length]


async def _reply(client: httpx.AsyncClient, token: str, cid: int, text: str) -> str:
    """Post the reply; the notice on the page it leads to."""
    posted = await client.post(
        f"/console/conversations/{cid}/reply",
        data={"csrf_token": token, "text": text, "nonce": f"n{len(text)}"},
    )
    assert posted.status_code == 303
    return (await client.get(posted.headers["location"])).text


async def _outbound_rows(console: Container) -> int:
    async with console.sessions() as session:
        return int(
            await session.scalar(
                select(func.count(Message.id)).where(Message.direction == Direction.OUTBOUND)
            )
            or 0
        )


async def test_a_full_length_reply_that_framing_pushes_over_is_refused(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    console.services["adapters"] = {"sms": _Adapter(SMS_LIMITS)}
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _spanish_claimed(console, seed, agent_id)
    page = await _reply(client, token, cid, _text(1600))
    assert console.services["outbox"].submitted == [] and await _outbound_rows(console) == 0
    assert "Not sent. The reply is too long for this channel" in page
    assert "the limit is 1,600; remove " in page


async def test_the_notice_says_exactly_how_much_to_remove(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)  # no adapter: an SMS's 1,600
    cid = await _spanish_claimed(console, seed, agent_id)
    await _reply(client, token, cid, _text(100))
    [short] = console.services["outbox"].submitted
    framing = len(short.text) - 100
    assert short.text.endswith(STOP_LINE) and framing > 0
    # The first reply carried the full disclosure; later ones carry the short one.
    await _reply(client, token, cid, _text(200))
    framing = len(console.services["outbox"].submitted[1].text) - 200
    page = await _reply(client, token, cid, _text(1600 - framing + 1))
    assert "it is 1,601 characters, the limit is 1,600; remove 1 character." in page
    assert len(console.services["outbox"].submitted) == 2
    await _reply(client, token, cid, _text(1600 - framing))
    fitting = console.services["outbox"].submitted[2].text
    assert len(fitting) == 1600 and fitting.endswith(STOP_LINE)


async def test_a_roomier_channel_takes_its_adapters_whole_size(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    console.services["adapters"] = {"sms": _Adapter(TELEGRAM_LIMITS)}
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _spanish_claimed(console, seed, agent_id)
    await _reply(client, token, cid, _text(3000))
    [outbound] = console.services["outbox"].submitted
    assert outbound.text.endswith(STOP_LINE) and "x" * 2900 in outbound.text

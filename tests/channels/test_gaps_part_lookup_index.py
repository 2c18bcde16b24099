"""An earlier part's status finds its split message by one indexed lookup (`message_part`):
at any age, never by reading message text or entities, and never for an id Parley did not
send."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event, select

from backend.container import Container
from backend.db.models import Message, MessagePart
from backend.services.delivery import envelope, set_envelope
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage
from tests.channels.helpers import PHONE, messages
from tests.channels.test_gaps_channel_split_parts import name_posts, status
from tests.channels.test_review_fixes_parts_and_record import submit_and_send
from tests.channels.test_split_message_retries import LONG, debtor_wrote_on_whatsapp
from tests.fakes.graph import graph_error
from tests.fakes.server import FakeServer, Recorded, Reply

GHOST = "wamid.GHOST"


async def split_reply(client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
                      ) -> Message:
    """A two-part WhatsApp Cloud reply, sent: wamid.PART1 then wamid.PART2 (the stored id)."""
    await debtor_wrote_on_whatsapp(client, wired, graph_api)
    name_posts(graph_api)
    await submit_and_send(wired, OutboundMessage(ConversationKey("whatsapp", PHONE), LONG))
    *_, stored = await messages(wired, "outbound")
    assert (stored.provider_message_id, envelope(stored)["part_ids"]) == (
        "wamid.PART2", ["wamid.PART1"])
    return stored


async def parts(wired: Container) -> list[tuple[str, str, int]]:
    async with wired.sessions() as session:
        rows = await session.execute(select(
            MessagePart.provider_message_id, MessagePart.channel, MessagePart.message_id)
            .order_by(MessagePart.provider_message_id))
        return [tuple(row) for row in rows.all()]


@contextmanager
def statements(wired: Container) -> Iterator[list[str]]:
    """The SQL the database runs meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(wired.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(wired.engine.sync_engine, "before_cursor_execute", record)


async def test_a_split_send_indexes_its_earlier_parts(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    stored = await split_reply(channel_client, wired, graph_api)
    assert await parts(wired) == [("wamid.PART1", "whatsapp", stored.id)]


async def test_a_part_taken_in_an_earlier_round_is_indexed_once(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await debtor_wrote_on_whatsapp(channel_client, wired, graph_api)
    name_posts(graph_api)
    answer, posts = graph_api.router, iter(range(1, 100))

    def refuse_second_to_fourth(rec: Recorded) -> Reply:
        if rec.method == "POST" and next(posts) in (2, 3, 4):
            return graph_error(131000, status=500)
        return answer(rec)

    graph_api.router = refuse_second_to_fourth
    message_id = await submit_and_send(
        wired, OutboundMessage(ConversationKey("whatsapp", PHONE), LONG))
    assert await parts(wired) == [("wamid.PART1", "whatsapp", message_id)]  # while deferred
    clock.advance(timedelta(minutes=1))
    assert await wired.services["outbox"].release_due(clock.now()) == [message_id]
    assert await parts(wired) == [("wamid.PART1", "whatsapp", message_id)]


async def test_an_old_parts_status_still_finds_its_message(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
    clock: SettableClock,
) -> None:
    await split_reply(channel_client, wired, graph_api)
    clock.advance(timedelta(days=45))  # a late read receipt: no lookup window hides it
    await status(channel_client, "whatsapp_cloud_status_read.json", "wamid.PART1")
    *_, stored = await messages(wired, "outbound")
    assert stored.delivery_status == "read"


async def test_an_unknown_ids_status_matches_no_message_that_merely_mentions_it(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer,
) -> None:
    stored = await split_reply(channel_client, wired, graph_api)
    async with wired.sessions.begin() as session:
        message = await session.get(Message, stored.id)
        assert message is not None
        message.text = f"{message.text} ref {GHOST}"
        data = envelope(message)
        set_envelope(message, {**data, "template_vars": {"ref": GHOST},
                               "part_ids": [*data["part_ids"], f"{GHOST}X"]})
    with statements(wired) as seen:
        await status(channel_client, "whatsapp_cloud_status_failed_131047.json", GHOST)
    *_, after = await messages(wired, "outbound")
    assert (after.delivery_status, after.error_code) == ("sent", None)
    lookups = [sql for sql in seen if "message_part" in sql or "LIKE" in sql.upper()]
    assert lookups and all("LIKE" not in sql.upper() and "entities" not in sql.split(
        "FROM", 1)[1] for sql in lookups)  # by the index, never by reading the messages

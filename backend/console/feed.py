"""Announcing every stored message on the event bus, whoever stored it (inbox, engine, outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapper, object_session

from backend.db.models import Message
from backend.services import message_feed
from backend.services.events import EventBus, publish_after_commit


def announce_messages(engine: AsyncEngine, bus: EventBus) -> None:
    """From now on, messages written through `engine` are announced after their commit.

    ORM writes are caught here; Core statements on the hot paths (the inbox's insert, the
    outbox's claim and send) announce themselves through `backend.services.message_feed`.
    """
    message_feed.register(engine, bus)
    for name in ("after_insert", "after_update"):
        if not sa_event.contains(Message, name, _on_write):
            sa_event.listen(Message, name, _on_write)


def stop_announcing(engine: AsyncEngine) -> None:
    """Forget `engine` (the app shut down)."""
    message_feed.unregister(engine)


def _on_write(_mapper: Mapper[Any], connection: Connection, message: Message) -> None:
    bus = message_feed.bus_for(connection.engine)
    session = object_session(message)
    if bus is None or session is None:
        return
    publish_after_commit(session, bus, message_feed.message_event(
        message.id, message.conversation_id, message.direction, message.delivery_status))

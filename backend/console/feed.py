"""Announcing every stored message on the event bus, whoever stored it (inbox, engine, outbox)."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapper, object_session

from backend.db.models import Message
from backend.services.events import Event, EventBus, publish_after_commit

# One process may hold several apps (tests); each database engine announces on its own bus.
_buses: WeakKeyDictionary[Engine, EventBus] = WeakKeyDictionary()


def announce_messages(engine: AsyncEngine, bus: EventBus) -> None:
    """From now on, messages written through `engine` are announced after their commit."""
    _buses[engine.sync_engine] = bus
    for name in ("after_insert", "after_update"):
        if not sa_event.contains(Message, name, _on_write):
            sa_event.listen(Message, name, _on_write)


def stop_announcing(engine: AsyncEngine) -> None:
    """Forget `engine` (the app shut down)."""
    _buses.pop(engine.sync_engine, None)


def _on_write(_mapper: Mapper[Any], connection: Connection, message: Message) -> None:
    bus = _buses.get(connection.engine)
    session = object_session(message)
    if bus is None or session is None:
        return
    # Ids only: the console fetches the message itself, so no text crosses Redis.
    publish_after_commit(session, bus, Event("message", {
        "conversation_id": message.conversation_id, "message_id": message.id,
        "direction": message.direction, "status": message.delivery_status,
    }))

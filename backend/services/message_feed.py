"""Which event bus hears about message writes on which database: announce after commit or now."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from backend.services.events import Event, EventBus, publish_after_commit

# One process may hold several apps (tests); each database engine announces on its own bus.
_buses: WeakKeyDictionary[Engine, EventBus] = WeakKeyDictionary()


def register(engine: AsyncEngine, bus: EventBus) -> None:
    """Message writes through `engine` are announced on `bus` from now on."""
    _buses[engine.sync_engine] = bus


def unregister(engine: AsyncEngine) -> None:
    """Forget `engine` (its app shut down)."""
    _buses.pop(engine.sync_engine, None)


def bus_for(engine: Engine) -> EventBus | None:
    """The bus for a (sync) engine, if one is registered."""
    return _buses.get(engine)


def message_event(message_id: int, conversation_id: int, direction: str, status: str) -> Event:
    """Ids only: the console fetches the message itself, so no text crosses Redis."""
    return Event("message", {"conversation_id": conversation_id, "message_id": message_id,
                             "direction": direction, "status": status})


def announce(session: AsyncSession, event: Event) -> None:
    """Announce `event` when the session's transaction commits (statements written in Core)."""
    bus = bus_for(session.get_bind().engine)
    if bus is not None:
        publish_after_commit(session, bus, event)


async def announce_now(conn: AsyncConnection, event: Event) -> None:
    """Announce `event` at once (an autocommit statement is already durable)."""
    bus = bus_for(conn.sync_engine)
    if bus is not None:
        await bus.publish(event)

"""Wiring handoff and the agent console into the app: event bus, state machine, routes, assets."""

from __future__ import annotations

from fastapi import FastAPI, status
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from backend.console.deps import STATIC_DIR
from backend.console.feed import announce_messages, stop_announcing
from backend.console.routes import (
    agents,
    agreements,
    auth,
    conversation,
    dashboards,
    handling,
    live,
    models,
    queue,
    trainer,
)
from backend.container import Container
from backend.services.events import EventBus, build_event_bus
from backend.services.handoff import HandoffService
from backend.services.queues import configured_queues

ROUTERS = (
    auth.router, queue.router, conversation.router, handling.router, agreements.router,
    live.router, trainer.router, agents.router, dashboards.router, models.router,
)


def install_console(app: FastAPI | None, container: Container) -> None:
    """Register `services["events"]` and `services["handoff"]`, then serve /console.

    Install it before the conversations, so their engine opens handoffs through this service
    (and its events reach the consoles).
    """
    bus = container.services.get("events") or build_event_bus(container.redis)
    container.services["events"] = bus
    handoffs = HandoffService(configured_queues(container.settings), bus)
    # "handoffs" is the name the conversations wiring looks for (install the console first).
    container.services["handoff"] = container.services["handoffs"] = handoffs
    announce_messages(container.engine, bus)
    _close_with_container(container, bus)
    if app is None:
        return
    for router in ROUTERS:
        app.include_router(router)
    # The address `make run` prints opens the console (its login page when signed out).
    app.add_api_route("/", _to_console, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")


async def _to_console() -> RedirectResponse:
    return RedirectResponse("/console", status.HTTP_303_SEE_OTHER)


def _close_with_container(container: Container, bus: EventBus) -> None:
    # Close the bus before connections close, so open live streams end and the Redis
    # listener stops.
    async def close_bus() -> None:
        stop_announcing(container.engine)
        await bus.close()

    container.on_close(close_bus)

"""Server-sent events: new messages and queue changes, as they happen, for every open console
(only about the conversations its user reaches)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from backend.api.deps import ContainerDep
from backend.console.deps import ConsoleRoute, Viewer, event_bus, still_signed_in, viewer_dep
from backend.console.permissions import Perm, Scope
from backend.container import Container
from backend.services.events import Event, EventBus

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
KEEPALIVE_SECONDS = 15.0
# Streams end after a while and the browser reconnects by itself; shutdown never waits long.
STREAM_SECONDS = 300.0


@router.get("/events")
async def events(
    request: Request, container: ContainerDep, viewer: Annotated[Viewer, viewer_dep(Perm.LIVE)]
) -> StreamingResponse:
    """An `text/event-stream` of console events (ids and names only, never message text)."""
    async def allowed() -> bool:
        return await still_signed_in(container, viewer, Perm.LIVE)

    return StreamingResponse(
        _stream(request, event_bus(container), allowed, shown_to(container, viewer.scope)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def shown_to(container: Container, scope: Scope) -> Callable[[Event], Awaitable[bool]]:
    """Whether an event goes to this stream: one about a conversation only when the user
    reaches that conversation now (the rule of the conversation pages); others always."""
    async def shown(event: Event) -> bool:
        conversation_id = event.data.get("conversation_id")
        if not (scope.only or scope.barred) or conversation_id is None:
            return True
        async with container.sessions() as db:
            return await scope.reaches(db, int(conversation_id))

    return shown


async def _stream(request: Request, bus: EventBus, allowed: Callable[[], Awaitable[bool]],
                  shown: Callable[[Event], Awaitable[bool]]) -> AsyncIterator[str]:
    deadline = time.monotonic() + STREAM_SECONDS
    async with bus.subscribe() as subscription:
        yield "retry: 2000\nevent: hello\ndata: {}\n\n"
        while time.monotonic() < deadline:
            event = await subscription.next(within=KEEPALIVE_SECONDS)
            if subscription.closed or await request.is_disconnected():
                return
            if event is None:
                # A logout elsewhere, an unlock or a role change ends the stream within one
                # keep-alive, not when the stream would have ended anyway.
                if not await allowed():
                    yield "event: signed-out\ndata: {}\n\n"
                    return
                yield ": keep-alive\n\n"
                continue
            if await shown(event):
                yield f"event: {event.kind}\ndata: {event.to_json()}\n\n"

"""The queue page: waiting conversations by queue and priority; claiming one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from backend.api.deps import ContainerDep
from backend.console.deps import (
    ConsoleRoute,
    Viewer,
    back_to,
    conversation_dep,
    handoff_service,
    render,
    viewer_dep,
)
from backend.console.notices import notice_for
from backend.console.permissions import Perm
from backend.console.queue_view import format_wait, queue_board
from backend.services.handoff import HandoffError, IllegalTransition

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Watching = Annotated[Viewer, viewer_dep(Perm.VIEW_QUEUE)]


@router.get("/queue")
async def queue_page(
    request: Request, container: ContainerDep, viewer: Watching,
    notice: str | None = None, reason: str | None = None,
) -> Response:
    """Every waiting conversation, most urgent first, and the viewer's own (a supervisor's
    board also holds every conversation another agent owns)."""
    context = await _board_context(container, viewer)
    context["notice"] = notice_for(notice, reason)
    return render(request, "queue.html", context)


@router.get("/queue/board")
async def queue_board_fragment(
    request: Request, container: ContainerDep, viewer: Watching,
) -> Response:
    """The board alone, for live refresh."""
    return render(request, "_board.html", await _board_context(container, viewer))


@router.post("/conversations/{conversation_id}/claim")
async def claim(
    conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, conversation_dep(Perm.CLAIM)],
) -> Response:
    """Take a waiting conversation; the first agent to claim it wins (an agent limited to
    assigned queues reaches, and so claims, only those queues' conversations)."""
    service = handoff_service(container)
    try:
        async with container.sessions.begin() as db:
            await service.claim(db, conversation_id, agent_id=viewer.id,
                                now=container.clock.now())
    except IllegalTransition:
        return back_to("/console/queue", notice="illegal")
    except HandoffError:
        return back_to("/console/queue", notice="not_found")
    return back_to(f"/console/conversations/{conversation_id}", notice="claimed")


async def _board_context(container: ContainerDep, viewer: Viewer) -> dict[str, object]:
    async with container.sessions() as db:
        board = await queue_board(
            db, handoff_service(container).queues, container.clock.now(), viewer.id,
            everyone=viewer.can(Perm.OVERRIDE),
            only=viewer.scope.only,
        )
    return {"board": board, "format_wait": format_wait}

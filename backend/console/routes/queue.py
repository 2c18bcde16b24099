"""The queue page: waiting conversations by queue and priority; claiming one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from backend.api.deps import ContainerDep
from backend.console.deps import (
    ConsoleRoute,
    NotFound,
    Viewer,
    back_to,
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
    request: Request, conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, viewer_dep(Perm.CLAIM)],
) -> Response:
    """Take a waiting conversation; the first agent to claim it wins (an agent limited to
    assigned queues reaches, and so claims, only those queues' conversations; a queue closed
    to the viewer's role is refused with a 403 that says why)."""
    refused = await _claim_refused(request, container, viewer, conversation_id)
    if refused is not None:
        return refused
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


async def _claim_refused(
    request: Request, container: ContainerDep, viewer: Viewer, conversation_id: int,
) -> Response | None:
    """The 403 page for a queue closed to the viewer's role; NotFound for a conversation the
    viewer does not reach otherwise (as `conversation_dep` answers); None to go on."""
    async with container.sessions() as db:
        refusal = await viewer.scope.refusal(db, conversation_id)
        if refusal is None and not await viewer.scope.reaches(db, conversation_id):
            raise NotFound()
    if refusal is None:
        return None
    return render(request, "error.html", {"title": "Not allowed", "message": refusal},
                  status_code=403)


async def _board_context(container: ContainerDep, viewer: Viewer) -> dict[str, object]:
    async with container.sessions() as db:
        board = await queue_board(
            db, handoff_service(container).queues, container.clock.now(), viewer.id,
            everyone=viewer.can(Perm.OVERRIDE),
            only=viewer.scope.only, barred=viewer.scope.barred,
        )
    return {"board": board, "format_wait": format_wait}

"""The trainers' inbox: agents' intent corrections, to fold into the NLU training data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from backend.api.deps import ContainerDep
from backend.console import actions
from backend.console.deps import ConsoleRoute, Viewer, back_to, render, viewer_dep
from backend.console.notices import notice_for
from backend.console.permissions import Perm

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Training = Annotated[Viewer, viewer_dep(Perm.TRAINER_INBOX)]


@router.get("/trainer")
async def inbox(
    request: Request, container: ContainerDep, viewer: Training, notice: str | None = None
) -> Response:
    """Corrections not reviewed yet, with the message text and the NLU's reading."""
    async with container.sessions() as db:
        items = await actions.trainer_inbox(db)
    return render(request, "trainer.html", {"items": items, "notice": notice_for(notice)})


@router.post("/trainer/{correction_id}/reviewed")
async def reviewed(correction_id: int, container: ContainerDep, viewer: Training) -> Response:
    """Take a correction off the inbox."""
    try:
        async with container.sessions.begin() as db:
            await actions.mark_reviewed(db, correction_id, actor=viewer.actor,
                                        now=container.clock.now())
    except actions.ActionRefused as refused:
        return back_to("/console/trainer", notice=refused.code)
    return back_to("/console/trainer", notice="reviewed")

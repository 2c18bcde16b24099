"""Console users (admins): list, create, unlock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from backend.api.deps import ContainerDep
from backend.console import users
from backend.console.deps import ConsoleRoute, Viewer, back_to, render, viewer_dep
from backend.console.notices import notice_for
from backend.console.passwords import WeakPassword
from backend.console.permissions import Perm
from backend.db.models.enums import Role

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Admin = Annotated[Viewer, viewer_dep(Perm.MANAGE_AGENTS)]


@router.get("/agents")
async def agents_page(
    request: Request, container: ContainerDep, viewer: Admin, notice: str | None = None,
) -> Response:
    """Every console user with role and lock state."""
    async with container.sessions() as db:
        agents = await users.list_agents(db)
    return render(request, "agents.html", {
        "agents": agents, "roles": [r.value for r in Role], "now": container.clock.now(),
        "notice": notice_for(notice),
    })


@router.post("/agents")
async def create_agent(
    container: ContainerDep, viewer: Admin, email: Annotated[str, Form()],
    name: Annotated[str, Form()], role: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    """Create a console user."""
    try:
        async with container.sessions.begin() as db:
            await users.create_agent(db, email=email, name=name, role=Role(role),
                                     password=password, now=container.clock.now(),
                                     actor=viewer.actor)
    except users.AgentExists:
        return back_to("/console/agents", notice="agent_exists")
    except WeakPassword:
        return back_to("/console/agents", notice="weak_password")
    except ValueError:
        return back_to("/console/agents", notice="bad_role")
    return back_to("/console/agents", notice="agent_created")


@router.post("/agents/{agent_id}/unlock")
async def unlock(agent_id: int, container: ContainerDep, viewer: Admin) -> Response:
    """Lift a lockout early."""
    async with container.sessions.begin() as db:
        await users.unlock(db, agent_id, actor=viewer.actor, now=container.clock.now())
    return back_to("/console/agents", notice="unlocked")

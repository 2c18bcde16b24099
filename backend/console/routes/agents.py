"""Console users (admins): list, create, unlock, disable, enable, change role or password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from backend.api.deps import ContainerDep
from backend.console import users
from backend.console.deps import ConsoleRoute, Viewer, back_to, render, viewer_dep
from backend.console.notices import notice_for
from backend.console.passwords import WeakPassword
from backend.console.permissions import Perm, takes_queues
from backend.db.models.enums import Role

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Admin = Annotated[Viewer, viewer_dep(Perm.MANAGE_AGENTS)]
PAGE = "/console/agents"


@router.get("/agents")
async def agents_page(
    request: Request, container: ContainerDep, viewer: Admin, notice: str | None = None,
) -> Response:
    """Every console user with role, queues and lock state."""
    async with container.sessions() as db:
        agents = await users.list_agents(db)
        assigned = await users.assigned_queues(db)
    return render(request, "agents.html", {
        "agents": agents, "roles": [r.value for r in Role], "now": container.clock.now(),
        "notice": notice_for(notice), "disabled": users.is_disabled,
        "assigned": assigned, "takes_queues": takes_queues,
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
        return back_to(PAGE, notice="agent_exists")
    except users.InvalidEmail:
        return back_to(PAGE, notice="bad_email")
    except users.InvalidName:
        return back_to(PAGE, notice="bad_name")
    except WeakPassword:
        return back_to(PAGE, notice="weak_password")
    except ValueError:
        return back_to(PAGE, notice="bad_role")
    return back_to(PAGE, notice="agent_created")


@router.post("/agents/{agent_id}/unlock")
async def unlock(agent_id: int, container: ContainerDep, viewer: Admin) -> Response:
    """Lift a lockout early."""
    try:
        async with container.sessions.begin() as db:
            await users.unlock(db, agent_id, actor=viewer.actor, now=container.clock.now())
    except users.UnknownAgent:
        return back_to(PAGE, notice="not_found")
    return back_to(PAGE, notice="unlocked")


@router.post("/agents/{agent_id}/disable")
async def disable(agent_id: int, container: ContainerDep, viewer: Admin) -> Response:
    """Refuse the user's logins and end their sessions (not one's own: no admin locks
    themselves out)."""
    if agent_id == viewer.id:
        return back_to(PAGE, notice="not_yourself")
    try:
        async with container.sessions.begin() as db:
            await users.set_disabled(db, agent_id, True, actor=viewer.actor,
                                     now=container.clock.now())
    except users.UnknownAgent:
        return back_to(PAGE, notice="not_found")
    return back_to(PAGE, notice="agent_disabled")


@router.post("/agents/{agent_id}/enable")
async def enable(agent_id: int, container: ContainerDep, viewer: Admin) -> Response:
    """Let a disabled user log in again."""
    try:
        async with container.sessions.begin() as db:
            await users.set_disabled(db, agent_id, False, actor=viewer.actor,
                                     now=container.clock.now())
    except users.UnknownAgent:
        return back_to(PAGE, notice="not_found")
    return back_to(PAGE, notice="agent_enabled")


@router.post("/agents/{agent_id}/role")
async def change_role(
    agent_id: int, container: ContainerDep, viewer: Admin, role: Annotated[str, Form()],
) -> Response:
    """Change what the user may do (not one's own role)."""
    if agent_id == viewer.id:
        return back_to(PAGE, notice="not_yourself")
    try:
        async with container.sessions.begin() as db:
            await users.set_role(db, agent_id, Role(role), actor=viewer.actor,
                                 now=container.clock.now())
    except users.UnknownAgent:
        return back_to(PAGE, notice="not_found")
    except ValueError:
        return back_to(PAGE, notice="bad_role")
    return back_to(PAGE, notice="role_changed")


@router.post("/agents/{agent_id}/password")
async def change_password(
    agent_id: int, container: ContainerDep, viewer: Admin, password: Annotated[str, Form()],
) -> Response:
    """Set a new password for the user; their sessions end."""
    try:
        async with container.sessions.begin() as db:
            await users.set_password(db, agent_id, password, actor=viewer.actor,
                                     now=container.clock.now())
    except users.UnknownAgent:
        return back_to(PAGE, notice="not_found")
    except WeakPassword:
        return back_to(PAGE, notice="weak_password")
    return back_to(PAGE, notice="password_set")

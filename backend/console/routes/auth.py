"""Login, logout, and the console's front door."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from backend.api.deps import ContainerDep
from backend.console import cookies, users
from backend.console.deps import ConsoleRoute, Viewer, cookie_session, render, viewer_dep
from backend.console.permissions import home_path

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
# One answer for every failure, locked or not, known email or not.
LOGIN_FAILED = (
    f"Wrong email or password. After {users.MAX_FAILED_LOGINS} failed attempts, sign-in is "
    f"locked for {users.LOCKOUT // timedelta(minutes=1)} minutes."
)


@router.get("")
async def front_door(viewer: Annotated[Viewer, viewer_dep(None)]) -> Response:
    """Send each role to its page."""
    return RedirectResponse(home_path(viewer.agent.role), status_code=303)


@router.get("/login")
async def login_page(request: Request, container: ContainerDep, next: str = "") -> Response:
    """The login form (a pre-login session carries its CSRF token)."""
    session = cookie_session(request, container) or cookies.new_session()
    request.state.console_session = session
    response = render(request, "login.html", {"next": _safe_next(next), "error": None})
    cookies.write_session(response, container.settings, session)
    return response


@router.post("/login")
async def login(
    request: Request, container: ContainerDep, email: Annotated[str, Form()],
    password: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password; a login rotates the session (and its CSRF token)."""
    session = cookie_session(request, container)
    if not cookies.csrf_matches(session, csrf_token):
        return _login_error(request, container, next, "The form expired. Please try again.")
    async with container.sessions.begin() as db:
        result = await users.authenticate(db, email, password, container.clock.now())
    if result.agent is None:
        return _login_error(request, container, next, LOGIN_FAILED)
    target = _safe_next(next) or home_path(result.agent.role)
    response = RedirectResponse(target, status_code=303)
    session = cookies.new_session(result.agent.id, result.agent.session_version)
    cookies.write_session(response, container.settings, session)
    return response


@router.post("/logout")
async def logout(
    container: ContainerDep, viewer: Annotated[Viewer, viewer_dep(None)]
) -> Response:
    """End the session on the server too: a copied cookie dies with it (and the user's others)."""
    async with container.sessions.begin() as db:
        await users.end_sessions(db, viewer.id)
    response = RedirectResponse("/console/login", status_code=303)
    cookies.clear_session(response, container.settings)
    return response


def _login_error(request: Request, container: ContainerDep, next: str, error: str) -> Response:
    session = cookies.new_session()
    request.state.console_session = session
    response = render(request, "login.html", {"next": _safe_next(next), "error": error},
                      status_code=401)
    cookies.write_session(response, container.settings, session)
    return response


def _safe_next(target: str) -> str:
    """Only console paths: a login link must not bounce the agent to another site."""
    if target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""

"""Console request plumbing: who is asking, what they may do, CSRF, and the page renderer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.responses import RedirectResponse

from backend.api.deps import ContainerDep
from backend.api.security_headers import SECURITY_HEADERS
from backend.console import cookies, notices, users
from backend.console.permissions import Perm, Scope, allowed
from backend.container import Container
from backend.db.models import AgentUser, Message
from backend.services.events import EventBus
from backend.services.handoff import HandoffService

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


class LoginRequired(Exception):
    """No valid session: go to the login page."""


class Forbidden(Exception):
    """Logged in, but the role does not allow this."""


class CsrfRejected(Exception):
    """A POST without the session's CSRF token."""


class NotFound(Exception):
    """No such conversation, or one the viewer does not reach: the two answer alike, so a
    user limited to some queues never learns that another queue's conversation exists."""


@dataclass(frozen=True)
class Viewer:
    """The logged-in console user of this request."""

    agent: AgentUser
    session: cookies.CookieSession
    queues: tuple[str, ...] = ()

    @property
    def id(self) -> int:
        """The agent's id."""
        return self.agent.id

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return f"agent:{self.agent.id}"

    def can(self, perm: Perm | str) -> bool:
        """True when the role carries `perm`."""
        return allowed(self.agent.role, Perm(perm))

    @property
    def scope(self) -> Scope:
        """Which conversations this user reaches."""
        return Scope(self.agent.id, self.agent.role, self.queues)


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The console's Jinja2 templates (autoescaped)."""
    return Jinja2Templates(directory=TEMPLATES_DIR)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render a console template with the viewer and CSRF token available to it."""
    session = getattr(request.state, "console_session", None)
    base = {"viewer": getattr(request.state, "viewer", None),
            "csrf_token": session.csrf if session else ""}
    return templates().TemplateResponse(request, name, {**base, **context},
                                        status_code=status_code)


def cookie_session(request: Request, container: ContainerDep) -> cookies.CookieSession | None:
    """The session in the request's cookie, if valid."""
    session = cookies.read_session(container.settings, request.cookies.get(cookies.COOKIE_NAME))
    request.state.console_session = session
    return session


async def _load_viewer(
    container: ContainerDep, session: cookies.CookieSession | None
) -> Viewer | None:
    if session is None or session.agent_id is None:
        return None
    async with container.sessions() as db:
        agent = await db.get(AgentUser, session.agent_id)
        if agent is None or agent.session_version != session.version:
            return None
        if users.is_disabled(agent):
            return None
        return Viewer(agent, session, await users.queues_of(db, agent.id))


async def still_signed_in(container: ContainerDep, viewer: Viewer, perm: Perm) -> bool:
    """Whether the viewer's session still stands (no logout or unlock since) and allows `perm`."""
    current = await _load_viewer(container, viewer.session)
    return current is not None and current.can(perm)


def require(perm: Perm | None) -> Callable[..., Awaitable[Viewer]]:
    """A dependency that lets through only logged-in users whose role carries `perm`
    (any logged-in user when `perm` is None).

    POST requests must also carry the session's CSRF token (form field `csrf_token` or the
    `X-CSRF-Token` header).
    """

    async def dependency(request: Request, container: ContainerDep) -> Viewer:
        session = cookie_session(request, container)
        viewer = await _load_viewer(container, session)
        if session is None or viewer is None:
            raise LoginRequired()
        request.state.viewer = viewer
        if request.method == "POST" and not cookies.csrf_matches(session, await _token(request)):
            raise CsrfRejected()
        if perm is not None and not viewer.can(perm):
            raise Forbidden()
        return viewer

    return dependency


async def _token(request: Request) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    form = await request.form()
    value = form.get("csrf_token")
    return value if isinstance(value, str) else None


def viewer_dep(perm: Perm | None) -> Any:
    """`Annotated`-friendly Depends for `require(perm)`."""
    return Depends(require(perm))


def conversation_dep(perm: Perm) -> Any:
    """Depends for every route on one conversation (`conversation_id` in the path):
    `require(perm)`, then NotFound (404) unless the viewer reaches it (`Scope.reaches`)."""

    async def dependency(
        conversation_id: int, container: ContainerDep,
        # A default, not Annotated: FastAPI reads string annotations in module globals only.
        viewer: Viewer = Depends(require(perm)),
    ) -> Viewer:
        async with container.sessions() as db:
            if not await viewer.scope.reaches(db, conversation_id):
                raise NotFound()
        return viewer

    return Depends(dependency)


def message_dep(perm: Perm) -> Any:
    """Depends for every route on one message (`message_id` in the path): as
    `conversation_dep`, for the conversation the message belongs to."""

    async def dependency(
        message_id: int, container: ContainerDep,
        # A default, not Annotated: FastAPI reads string annotations in module globals only.
        viewer: Viewer = Depends(require(perm)),
    ) -> Viewer:
        async with container.sessions() as db:
            conversation_id = await db.scalar(
                select(Message.conversation_id).where(Message.id == message_id)
            )
            if conversation_id is None or not await viewer.scope.reaches(db, conversation_id):
                raise NotFound()
        return viewer

    return Depends(dependency)


class ConsoleRoute(APIRoute):
    """Turns the console's auth exceptions into pages and adds the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            notices.screen(request)
            try:
                response = await handler(request)
            except LoginRequired:
                response = _to_login(request)
            except Forbidden:
                response = render(request, "error.html", {
                    "title": "Not allowed",
                    "message": "Your role does not allow this page or action.",
                }, status_code=403)
            except NotFound:
                response = render(request, "error.html", {
                    "title": "Not found", "message": "No such conversation.",
                }, status_code=404)
            except CsrfRejected:
                response = render(request, "error.html", {
                    "title": "Form expired",
                    "message": "This form was not sent from your current session. "
                               "Reload the page and try again.",
                }, status_code=403)
            notices.vouch(request, response)
            response.headers.update(SECURITY_HEADERS)
            return response

        return console_handler


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or request.headers.get("accept") == "text/event-stream":
        target = "/console/queue"
    return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)


def handoff_service(container: Container) -> HandoffService:
    """The ownership state machine installed by `install_console`."""
    service: HandoffService = container.services["handoff"]
    return service


def event_bus(container: Container) -> EventBus:
    """The live-update bus installed by `install_console`."""
    bus: EventBus = container.services["events"]
    return bus


def back_to(path: str, **params: str | int | None) -> RedirectResponse:
    """A 303 redirect to a console page with notice parameters (vouched for: see notices)."""
    return notices.back_to(path, **params)

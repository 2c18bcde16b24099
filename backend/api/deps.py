"""FastAPI dependencies: container, per-request session, clock, API keys and their scopes, ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from backend.container import Container
from backend.db.models import ApiKey
from backend.services import apikeys
from bot.clock import Clock

bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer pk_...`")
# Ids are 64-bit in the database; a larger one would overflow the driver (500), not be missing.
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]  # an optional id filter

# The one place that says which scope a route needs (apikeys.SCOPES): under /api a read needs
# `read` and any other change `write`, except for these; every strategy change needs `admin`.
EXCEPTIONAL_SCOPES = {
    ("POST", "/model/parse"): "read",  # a parse changes nothing
    ("POST", "/api/accounts/{account_id}/payments"): "payments",
    ("PUT", "/api/portfolios/{portfolio_id}/policy"): "admin",
}
ADMIN_PREFIX = "/api/strategies"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_container(request: Request) -> Container:
    """The app's composition root."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the handler succeeds."""
    async with container.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_clock(container: ContainerDep) -> Clock:
    """The injected clock (settable in sandbox mode)."""
    return container.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def required_scope(method: str, path: str) -> str | None:
    """The scope a request to the route `path` (its template) needs; None off the API."""
    if (method, path) in EXCEPTIONAL_SCOPES:
        return EXCEPTIONAL_SCOPES[method, path]
    if path != "/api" and not path.startswith("/api/"):
        return None
    if method in READ_METHODS:
        return "read"
    return "admin" if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/") else "write"


async def require_api_key(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    """The calling machine client's key; 401 when missing, unknown or revoked, 403 when it
    lacks the route's scope."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing API key")
    return _in_scope(request, await _authenticated(container, credentials.credentials))


ApiClient = Annotated[ApiKey, Depends(require_api_key)]


async def require_api_key_or_token(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[str | None, Query(description="the API key, as Rasa's `?token=`")] = None,
) -> ApiKey:
    """The key from the Bearer header, or from `?token=` as a Rasa client sends its auth token."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return _in_scope(request, await _authenticated(container, credentials.credentials))
    if not token:
        raise _unauthorized("missing API key")
    return _in_scope(request, await _authenticated(container, token))


RasaClient = Annotated[ApiKey, Depends(require_api_key_or_token)]


async def _authenticated(container: Container, raw: str) -> ApiKey:
    async with container.sessions.begin() as session:
        key = await apikeys.authenticate(session, raw, container.clock.now())
    if key is None:
        raise _unauthorized("invalid or revoked API key")
    return key


def _in_scope(request: Request, key: ApiKey) -> ApiKey:
    route = request.scope.get("route")
    needed = required_scope(request.method, getattr(route, "path", ""))
    # A route with no scope decided is refused, not opened to every key.
    if needed is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="no API key scope covers this route")
    if needed not in apikeys.scopes_of(key):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"this API key lacks the {needed!r} scope"
        )
    return key


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )

"""FastAPI dependencies: the container, a per-request session, the clock, API-key auth, ids."""

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


async def require_api_key(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    """The calling machine client's key; 401 when missing, unknown or revoked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing API key")
    return await _authenticated(container, credentials.credentials)


ApiClient = Annotated[ApiKey, Depends(require_api_key)]


async def require_api_key_or_token(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[str | None, Query(description="the API key, as Rasa's `?token=`")] = None,
) -> ApiKey:
    """The key from the Bearer header, or from `?token=` as a Rasa client sends its auth token."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return await _authenticated(container, credentials.credentials)
    if not token:
        raise _unauthorized("missing API key")
    return await _authenticated(container, token)


RasaClient = Annotated[ApiKey, Depends(require_api_key_or_token)]


async def _authenticated(container: Container, raw: str) -> ApiKey:
    async with container.sessions.begin() as session:
        key = await apikeys.authenticate(session, raw, container.clock.now())
    if key is None:
        raise _unauthorized("invalid or revoked API key")
    return key


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )

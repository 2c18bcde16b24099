"""FastAPI dependencies: container, per-request session, clock, API keys, their scopes and
creditor, ids."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.container import Container
from backend.db.models import Account, ApiKey, Conversation, Creditor, ImportJob, Portfolio
from backend.services import apikeys
from bot.clock import Clock

bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer pk_...`")
# Ids are 64-bit in the database; a larger one would overflow the driver (500), not be missing.
MAX_ID = 2**63 - 1
# An id in a path is written one way only: the creditor check of a bound key reads the raw
# path, so every spelling the route would also read as that id (" 2", "2.0", "+2", "2_0")
# must be refused, or it reaches another creditor's row unchecked.
CANONICAL_ID = re.compile(r"[1-9][0-9]*", re.ASCII)


def _canonical_id(raw: Any) -> Any:
    if isinstance(raw, str) and not CANONICAL_ID.fullmatch(raw):
        raise ValueError("an id is a positive whole number written in digits only")
    return raw


IdPath = Annotated[int, BeforeValidator(_canonical_id), Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]  # an optional id filter

# A dry run, kept to the key's creditor when it is bound to one (routes.strategies).
DRY_RUN = ("POST", "/api/strategies/{strategy_id}/simulate")
# The one place that says which scope a route needs (apikeys.SCOPES): under /api a read needs
# `read` and any other change `write`, except for these; every strategy change needs `admin`.
EXCEPTIONAL_SCOPES = {
    ("POST", "/model/parse"): "read",  # a parse changes nothing
    ("POST", "/api/accounts/{account_id}/payments"): "payments",
    ("PUT", "/api/portfolios/{portfolio_id}/policy"): "admin",
    # A dry run, rolled back: it reads what a strategy would send and changes nothing.
    DRY_RUN: "read",
}
ADMIN_PREFIX = "/api/strategies"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class CreditorScope:
    """The tenant filter of the calling key: one creditor's data, or every creditor's when the
    key is agency-wide (`creditor_id` None)."""

    creditor_id: int | None = None
    creditor_name: str | None = None

    @property
    def bound(self) -> bool:
        """True when the key reaches one creditor's data only."""
        return self.creditor_id is not None

    def accounts(self, query: SelectT) -> SelectT:
        """`query`, which selects from `account`, kept to the key's creditor."""
        return query if self.creditor_id is None else query.where(
            Account.creditor_id == self.creditor_id)

    def allows_creditor(self, name: str) -> bool:
        """Whether the key may write for the creditor named `name` (in any case, as imports
        match creditor names)."""
        wanted = (self.creditor_name or "").casefold()
        return self.creditor_id is None or name.strip().casefold() == wanted

    def refuse_creditor(self, field: str, name: str) -> HTTPException:
        """The 403 for a body naming another creditor in `field`."""
        return HTTPException(status.HTTP_403_FORBIDDEN, [{
            "field": field,
            "reason": f"{name.strip()!r} is not this API key's creditor {self.creditor_name!r}",
        }])


AGENCY_WIDE = CreditorScope()


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
    key = _in_scope(request, await _authenticated(container, credentials.credentials))
    request.state.creditor_scope = await _tenant(request, container, key)
    return key


ApiClient = Annotated[ApiKey, Depends(require_api_key)]


def creditor_scope(request: Request, _: ApiClient) -> CreditorScope:
    """The calling key's tenant filter, for the queries of list, report and create routes."""
    scope: CreditorScope = request.state.creditor_scope
    return scope


ScopeDep = Annotated[CreditorScope, Depends(creditor_scope)]


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


# What a creditor-bound key may reach, by path parameter: the query finding the row among its
# creditor's, and the 404 the route gives a missing one — the same, so that another
# creditor's row is not confirmed to exist.
Owned = Callable[[int, int], Select[Any]]
OWNED: dict[str, tuple[Owned, str]] = {
    "account_id": (
        lambda creditor, row: select(Account.id).where(
            Account.id == row, Account.creditor_id == creditor),
        "no account {}",
    ),
    "conversation_id": (
        lambda creditor, row: select(Conversation.id)
        .join(Account, Account.id == Conversation.account_id)
        .where(Conversation.id == row, Account.creditor_id == creditor),
        "no conversation {}",
    ),
    "portfolio_id": (
        lambda creditor, row: select(Portfolio.id).where(
            Portfolio.id == row, Portfolio.creditor_id == creditor),
        "no portfolio {}",
    ),
    # An import job is the creditor's when it was queued for that creditor (by a key bound to it).
    "job_id": (
        lambda creditor, row: select(ImportJob.id).where(
            ImportJob.id == row, ImportJob.creditor_id == creditor),
        "no import job {}",
    ),
}


async def _tenant(request: Request, container: Container, key: ApiKey) -> CreditorScope:
    """The key's creditor scope; 404 for a path id of another creditor's, 403 for a change to
    agency-wide settings by a bound key."""
    if key.creditor_id is None:
        return AGENCY_WIDE
    route_path = getattr(request.scope.get("route"), "path", "")
    async with container.sessions() as session:
        creditor = await session.get(Creditor, key.creditor_id)
        scope = CreditorScope(key.creditor_id, creditor.name if creditor else None)
        _refuse_agency_wide(request.method, route_path, scope)
        for name, raw in request.path_params.items():
            await _check_owned(session, scope, name, raw)
    return scope


def _refuse_agency_wide(method: str, path: str, scope: CreditorScope) -> None:
    """Strategies plan every creditor's accounts: only an agency-wide key may change them (a
    bound key's dry run covers its creditor's accounts only, see routes.strategies)."""
    if method in READ_METHODS or (method, path) == DRY_RUN:
        return
    if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, (
            f"this API key is bound to creditor {scope.creditor_name!r}; strategies are"
            " agency-wide settings: use an agency-wide key"))


async def _check_owned(session: AsyncSession, scope: CreditorScope, name: str, raw: Any) -> None:
    if name not in OWNED or scope.creditor_id is None:
        return
    # A malformed id fails closed: the route would refuse it too (IdPath), but this check must
    # not depend on every route typing its ids that way.
    if not CANONICAL_ID.fullmatch(str(raw)) or int(raw) > MAX_ID:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"{name} must be a positive whole number written in digits only")
    query, missing = OWNED[name]
    if await session.scalar(query(scope.creditor_id, int(raw))) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing.format(int(raw)))


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )

"""A portfolio's negotiation policy: read it, replace it (validated, versioned, audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from backend.api.deps import ApiClient, ClockDep, IdPath, SessionDep
from backend.api.exact_json import ExactJSONRoute
from backend.db.models import Portfolio
from backend.services.policy.loader import PolicyError
from backend.services.policy.store import PolicyStore

router = APIRouter(prefix="/api/portfolios", tags=["portfolios"], route_class=ExactJSONRoute)


def _store(request: Request) -> PolicyStore:
    store: PolicyStore = request.app.state.container.services["policies"]
    return store


async def _portfolio(session: SessionDep, portfolio_id: int) -> Portfolio:
    portfolio = await session.get(Portfolio, portfolio_id)
    if portfolio is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no portfolio {portfolio_id}")
    return portfolio


@router.get("/{portfolio_id}/policy")
async def read_policy(portfolio_id: IdPath, session: SessionDep, request: Request,
                      _: ApiClient) -> dict[str, Any]:
    """The policy in force (the default one when the portfolio has none) and its version;
    a stored one that no longer validates comes as stored, with its `problems`."""
    portfolio = await _portfolio(session, portfolio_id)
    try:
        policy = _store(request).for_portfolio(portfolio)
    except PolicyError as exc:
        # Stored before a rule tightened: shown as stored with what to fix, so it can be
        # edited and PUT back (turns hand off to a person until then).
        return {"portfolio_id": portfolio.id, "version": portfolio.policy_version,
                "own": True, "policy": portfolio.policy, "problems": exc.problems}
    return {"portfolio_id": portfolio.id, "version": portfolio.policy_version,
            "own": bool(portfolio.policy), "policy": policy.model_dump(mode="json")}


@router.put("/{portfolio_id}/policy")
async def replace_policy(portfolio_id: IdPath, body: dict[str, Any], session: SessionDep,
                         clock: ClockDep, request: Request, client: ApiClient) -> dict[str, Any]:
    """Replace the policy; 422 lists every problem as `field.path: message`.

    The body is the policy itself, or what GET returned with its `policy` edited: then its
    `version` must still be the current one (409 otherwise), so two editors cannot silently
    overwrite each other.
    """
    portfolio = await _portfolio(session, portfolio_id)
    policy_body = _unwrap(body, portfolio)
    try:
        policy = await _store(request).replace(
            session, portfolio, policy_body, actor=f"apikey:{client.prefix}", now=clock.now())
    except PolicyError as exc:
        raise HTTPException(422,
                            {"message": "invalid policy", "problems": exc.problems}) from exc
    return {"portfolio_id": portfolio.id, "version": portfolio.policy_version, "own": True,
            "policy": policy.model_dump(mode="json")}


_ENVELOPE = frozenset({"portfolio_id", "version", "own", "policy", "problems"})


def _unwrap(body: dict[str, Any], portfolio: Portfolio) -> dict[str, Any]:
    """The policy out of a GET envelope (checking its version), or the body as it is."""
    if not isinstance(body.get("policy"), dict) or not set(body) <= _ENVELOPE:
        return body
    if body.get("portfolio_id", portfolio.id) != portfolio.id:
        raise HTTPException(422, f"portfolio_id {body['portfolio_id']} is not {portfolio.id}")
    version = body.get("version")
    if version is not None and version != portfolio.policy_version:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"the policy is at version {portfolio.policy_version}, not {version};"
                            " GET it again and reapply the change")
    policy: dict[str, Any] = body["policy"]
    return policy

"""Strategies API: versions, activation, and the dry run a compliance officer reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import Select, select

from backend.api.deps import (
    ApiClient,
    ClockDep,
    ContainerDep,
    IdPath,
    IdQuery,
    ScopeDep,
    SessionDep,
)
from backend.db.models import Strategy
from backend.services.compliance.rules import load_rules
from backend.workflow import store
from backend.workflow.simulate import simulate
from backend.workflow.strategy import StrategyError, parse_strategy, parse_strategy_text

router = APIRouter(prefix="/api/strategies", tags=["strategies"])


class StrategyCreate(BaseModel):
    """A new version: YAML text (`source`) or the same as JSON (`definition`)."""

    source: str | None = None
    definition: dict[str, Any] | None = None
    priority: int | None = Field(default=None, ge=0, le=10000)


class Activation(BaseModel):
    """The version to switch on (null switches the strategy off)."""

    version: int | None


class VersionPublic(BaseModel):
    """One stored version."""

    id: int
    version: int
    created_at: datetime
    created_by: str
    definition: dict[str, Any]


class StrategyPublic(BaseModel):
    """A strategy with its versions, newest first."""

    id: int
    name: str
    description: str
    priority: int
    active_version: int | None
    versions: list[VersionPublic]


class SimulatedContactPublic(BaseModel):
    """One message the strategy would send, with the compliance decision."""

    day: int
    date: date
    at: datetime
    account_id: int
    step: str
    variant: str | None
    channel: str | None
    decision: str
    reason: str | None
    not_before: datetime | None


class SimulationPublic(BaseModel):
    """A dry run: every contact day by day, and totals per decision."""

    strategy: str
    version: int
    start: datetime
    days: int
    totals: dict[str, int]
    contacts: list[SimulatedContactPublic]


@router.get("", response_model=list[StrategyPublic])
async def list_strategies(session: SessionDep, _: ApiClient) -> Any:
    """Every strategy with its versions."""
    rows = (await session.scalars(select_strategies())).all()
    return [await _public(session, s) for s in rows]


@router.post("", response_model=StrategyPublic, status_code=status.HTTP_201_CREATED)
async def create_version(body: StrategyCreate, session: SessionDep, clock: ClockDep,
                         client: ApiClient) -> Any:
    """Store a new version (a new strategy when the name is new); it is not switched on."""
    try:
        if body.source is not None:
            definition, source = parse_strategy_text(body.source, "body.source"), body.source
        elif body.definition is not None:
            definition, source = parse_strategy(body.definition, "body.definition"), ""
        else:
            raise StrategyError("give `source` (YAML) or `definition` (JSON)")
    except StrategyError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    loaded = await store.save_version(session, definition, source=source,
                                      actor=f"apikey:{client.prefix}", now=clock.now(),
                                      priority=body.priority)
    return await _public(session, await _strategy(session, loaded.strategy_id))


@router.get("/{strategy_id}", response_model=StrategyPublic)
async def get_strategy(strategy_id: IdPath, session: SessionDep, _: ApiClient) -> Any:
    """One strategy with its versions."""
    return await _public(session, await _strategy(session, strategy_id))


@router.post("/{strategy_id}/activate", response_model=StrategyPublic)
async def activate(strategy_id: IdPath, body: Activation, session: SessionDep, clock: ClockDep,
                   client: ApiClient) -> Any:
    """Switch the strategy on at a version (or off with null); the planner picks it up."""
    try:
        strategy = await store.activate(session, strategy_id, body.version,
                                        actor=f"apikey:{client.prefix}", now=clock.now())
    except store.StrategyNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return await _public(session, strategy)


@router.post("/{strategy_id}/simulate", response_model=SimulationPublic)
async def simulate_strategy(
    strategy_id: IdPath, container: ContainerDep, session: SessionDep, scope: ScopeDep,
    days: Annotated[int, Query(ge=1, le=90)] = 30,
    portfolio_id: IdQuery = None, version: IdQuery = None,
) -> Any:
    """Dry-run a version (default: the newest) over `days`: every message and its decision;
    a creditor-bound key's dry run covers its creditor's accounts only."""
    try:
        loaded = await store.get_version(session, strategy_id, version)
    except store.StrategyNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    gate = container.services.get("gate")
    report = await simulate(
        container.engine, loaded, rules=gate.rules if gate else load_rules(),
        start=container.clock.now(), days=days, portfolio_id=portfolio_id,
        portal_links=container.services.get("portal_links"),
        channels=frozenset(container.services.get("adapters", {})),
        creditor_id=scope.creditor_id)
    return SimulationPublic(
        strategy=report.strategy, version=report.version, start=report.start, days=report.days,
        totals=report.by_decision(),
        contacts=[SimulatedContactPublic(date=c.at.date(), **vars(c)) for c in report.contacts])


def select_strategies() -> Select[tuple[Strategy]]:
    """All strategies in planning order."""
    return select(Strategy).order_by(Strategy.priority, Strategy.id)


async def _strategy(session: SessionDep, strategy_id: int) -> Strategy:
    found = await session.get(Strategy, strategy_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no strategy {strategy_id}")
    return found


async def _public(session: SessionDep, strategy: Strategy) -> StrategyPublic:
    versions = await store.list_versions(session, strategy.id)
    return StrategyPublic(
        id=strategy.id, name=strategy.name, description=strategy.description,
        priority=strategy.priority, active_version=strategy.active_version,
        versions=[VersionPublic(id=v.id, version=v.version, created_at=v.created_at,
                                created_by=v.created_by, definition=v.definition)
                  for v in versions])

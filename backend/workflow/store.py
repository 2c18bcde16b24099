"""Strategies in the database: immutable numbered versions, and which one is switched on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Strategy, StrategyVersion
from backend.services import audit
from backend.workflow.strategy import StrategyDefinition, parse_strategy


class StrategyNotFound(LookupError):
    """No strategy (or no such version of it)."""


@dataclass(frozen=True)
class LoadedVersion:
    """A stored version with its parsed definition."""

    id: int
    strategy_id: int
    name: str
    version: int
    definition: StrategyDefinition


async def save_version(
    session: AsyncSession, definition: StrategyDefinition, *, source: str, actor: str,
    now: datetime, priority: int | None = None,
) -> LoadedVersion:
    """Store `definition` as the next version of the strategy with its name (created if new)."""
    strategy = await session.scalar(select(Strategy).where(Strategy.name == definition.name))
    if strategy is None:
        strategy = Strategy(name=definition.name, description=definition.description,
                            priority=priority if priority is not None else 100,
                            created_at=now, updated_at=now)
        session.add(strategy)
        await session.flush()
    elif priority is not None:
        strategy.priority = priority
    last = await session.scalar(
        select(func.max(StrategyVersion.version)).where(StrategyVersion.strategy_id == strategy.id))
    row = StrategyVersion(strategy_id=strategy.id, version=(last or 0) + 1,
                          definition=definition.model_dump(mode="json"), source=source,
                          created_by=actor[:100], created_at=now)
    session.add(row)
    strategy.description, strategy.updated_at = definition.description, now
    await session.flush()
    await audit.record(session, occurred_at=now, actor=actor, action="strategy.version_saved",
                       subject_type="strategy", subject_id=strategy.id,
                       data={"name": strategy.name, "version": row.version})
    return LoadedVersion(row.id, strategy.id, strategy.name, row.version, definition)


async def activate(
    session: AsyncSession, strategy_id: int, version: int | None, *, actor: str, now: datetime
) -> Strategy:
    """Switch the strategy on at `version` (None switches it off)."""
    strategy = await session.get(Strategy, strategy_id)
    if strategy is None:
        raise StrategyNotFound(f"no strategy {strategy_id}")
    if version is not None:
        await get_version(session, strategy_id, version)
    strategy.active_version, strategy.updated_at = version, now
    await audit.record(session, occurred_at=now, actor=actor, action="strategy.activated",
                       subject_type="strategy", subject_id=strategy.id,
                       data={"name": strategy.name, "version": version})
    return strategy


async def get_version(
    session: AsyncSession, strategy_id: int, version: int | None = None
) -> LoadedVersion:
    """One version (the newest when `version` is None)."""
    strategy = await session.get(Strategy, strategy_id)
    if strategy is None:
        raise StrategyNotFound(f"no strategy {strategy_id}")
    query = select(StrategyVersion).where(StrategyVersion.strategy_id == strategy_id)
    query = (query.where(StrategyVersion.version == version) if version is not None
             else query.order_by(StrategyVersion.version.desc()).limit(1))
    row = await session.scalar(query)
    if row is None:
        raise StrategyNotFound(f"strategy {strategy_id} has no version {version}")
    return _loaded(strategy, row)


async def version_by_id(session: AsyncSession, version_id: int) -> LoadedVersion:
    """A version by its row id (planned contacts point at these)."""
    row = await session.get(StrategyVersion, version_id)
    if row is None:
        raise StrategyNotFound(f"no strategy version row {version_id}")
    strategy = await session.get(Strategy, row.strategy_id)
    assert strategy is not None
    return _loaded(strategy, row)


async def active_versions(session: AsyncSession) -> list[LoadedVersion]:
    """Switched-on versions, highest priority (lowest number) first."""
    rows = await session.execute(
        select(Strategy, StrategyVersion)
        .join(StrategyVersion, (StrategyVersion.strategy_id == Strategy.id)
              & (StrategyVersion.version == Strategy.active_version))
        .order_by(Strategy.priority, Strategy.id))
    return [_loaded(strategy, row) for strategy, row in rows.all()]


async def list_versions(session: AsyncSession, strategy_id: int) -> list[StrategyVersion]:
    """Every version of a strategy, newest first."""
    rows = await session.scalars(select(StrategyVersion)
                                 .where(StrategyVersion.strategy_id == strategy_id)
                                 .order_by(StrategyVersion.version.desc()))
    return list(rows.all())


def _loaded(strategy: Strategy, row: StrategyVersion) -> LoadedVersion:
    definition = parse_strategy(row.definition, f"strategy {strategy.name} v{row.version}",
                                stored=True)
    return LoadedVersion(row.id, strategy.id, strategy.name, row.version, definition)

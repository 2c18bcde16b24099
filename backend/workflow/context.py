"""What workflow jobs need, passed in: sessions, clock, outbox, gate, links, handoffs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.workflow.planner import Scope
from backend.workflow.store import LoadedVersion, active_versions, version_by_id
from bot.clock import Clock
from bot.ports import Outbox

Deliver = Callable[[list[int]], Awaitable[None]]
VersionSource = Callable[[AsyncSession], Awaitable[list[LoadedVersion]]]


@dataclass
class WorkflowContext:
    """One set of collaborators; live jobs and the dry run differ only in what is put here."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    outbox: Outbox
    deliver: Deliver
    gate: Any = None  # ComplianceGate: `preview` picks the channel and defers before storing
    portal_links: Any = None
    handoffs: Any = None  # HandoffService
    # The channels with a configured provider; a step never picks another (None: any).
    channels: frozenset[str] | None = None
    versions: VersionSource = active_versions
    max_attempts: int = 5
    scope: Scope = field(default_factory=Scope)
    _cache: dict[int, LoadedVersion] = field(default_factory=dict)

    async def version(self, session: AsyncSession, version_id: int) -> LoadedVersion:
        """A strategy version by row id (versions are immutable, so caching is safe)."""
        if version_id not in self._cache:
            self._cache[version_id] = await version_by_id(session, version_id)
        return self._cache[version_id]


def from_container(container: Any) -> WorkflowContext:
    """The live context from the app's container (services installed by other capabilities)."""
    services = container.services
    outbox = services["outbox"]
    handoffs = services.get("handoff") or services.get("handoffs") or _default_handoffs(services)
    return WorkflowContext(
        sessions=container.sessions, clock=container.clock, outbox=outbox, deliver=outbox.send,
        gate=services.get("gate"), portal_links=services.get("portal_links"), handoffs=handoffs,
        channels=frozenset(services.get("adapters", {})),
    )


def _default_handoffs(services: dict[str, Any]) -> Any:
    from backend.services.handoff import HandoffService
    from backend.services.queues import load_queues

    return HandoffService(load_queues(), services.get("events"))

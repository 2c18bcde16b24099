"""Handoff queues from configuration: routing a reason to a queue, and its response-time target."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Handoff
from backend.db.models.enums import Ownership, Role

DEFAULT_QUEUES_FILE = Path(__file__).resolve().parent.parent / "handoff" / "queues.yml"


# Handoff.status while a person has or awaits the conversation (handoff.ACTIVE_STATUSES).
ACTIVE = (Ownership.QUEUED.value, Ownership.AGENT.value)


class QueueConfigError(ValueError):
    """The queues file is malformed; the message names the file, the item and the fix."""


class UnknownQueue(ValueError):
    """A queue name the queues file does not define; the message names it and the known ones."""


@dataclass(frozen=True)
class Queue:
    """One team's queue: who handles which reasons, how urgently."""

    name: str
    title: str
    priority: int
    target: timedelta
    reasons: frozenset[str]
    # The console roles that work this queue; empty: every role that works queues.
    roles: frozenset[str] = frozenset()

    def open_to(self, role: str) -> bool:
        """Whether a console user of `role` may see, claim and act on this queue's
        conversations."""
        return not self.roles or role in self.roles


@dataclass(frozen=True)
class QueueConfig:
    """Every queue, and the one that takes reasons no rule names."""

    queues: tuple[Queue, ...]
    default: Queue

    def route(self, reason: str) -> Queue:
        """The queue that handles `reason`."""
        for queue in self.queues:
            if reason in queue.reasons:
                return queue
        return self.default

    def get(self, name: str) -> Queue:
        """The queue called `name` (the default queue when unknown)."""
        return next((q for q in self.queues if q.name == name), self.default)

    @property
    def names(self) -> tuple[str, ...]:
        """Queue names in configuration order."""
        return tuple(q.name for q in self.queues)

    def closed_to(self, role: str) -> tuple[str, ...]:
        """The queues a console user of `role` may not work (their `roles` leave it out)."""
        return tuple(q.name for q in self.queues if not q.open_to(role))

    def known(self, names: Iterable[str]) -> tuple[str, ...]:
        """`names` without repeats, in the order given; UnknownQueue names every name that no
        queue has (`get` would quietly fall back to the default queue instead)."""
        wanted = tuple(dict.fromkeys(names))
        unknown = [n for n in wanted if n not in self.names]
        if unknown:
            listed = ", ".join(repr(n) for n in unknown)
            raise UnknownQueue(
                f"unknown queue{'s' if len(unknown) > 1 else ''} {listed}; "
                f"the known queues are: {', '.join(self.names)}"
            )
        return wanted


async def conversation_queue(session: AsyncSession, conversation_id: int) -> str | None:
    """The queue a conversation belongs to: its open handoff's, else its latest handoff's
    (so a conversation moved to another queue later belongs to that one); None when it was
    never handed to a person."""
    return await session.scalar(
        select(Handoff.queue)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.status.in_(ACTIVE).desc(), Handoff.id.desc())
        .limit(1)
    )


def configured_queues(settings: object) -> QueueConfig:
    """The queues the app runs with: the settings' `handoff_queues_file`, else the shipped one."""
    path = getattr(settings, "handoff_queues_file", None) or DEFAULT_QUEUES_FILE
    return load_queues(Path(path))


def load_queues(path: Path = DEFAULT_QUEUES_FILE) -> QueueConfig:
    """Read and check the queues file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return parse_queues(raw, source=str(path))


def parse_queues(raw: Any, *, source: str = "<queues>") -> QueueConfig:
    """Build the config from parsed YAML; every problem is reported with its place and fix."""
    items = raw.get("queues") if isinstance(raw, dict) else None
    if not isinstance(items, dict) or not items:
        raise QueueConfigError(f"{source}: a top-level `queues:` mapping with at least one queue")
    queues = tuple(_queue(source, name, body) for name, body in items.items())
    defaults = [n for n, b in items.items() if isinstance(b, dict) and b.get("default")]
    if len(defaults) != 1:
        raise QueueConfigError(
            f"{source}: exactly one queue needs `default: true` (found {len(defaults)})"
        )
    _check_unique_reasons(source, queues)
    return QueueConfig(queues=queues, default=next(q for q in queues if q.name == defaults[0]))


def _queue(source: str, name: str, body: Any) -> Queue:
    where = f"{source}: queue {name!r}"
    if not isinstance(body, dict):
        raise QueueConfigError(f"{where}: must be a mapping with title, priority, target_minutes")
    target = body.get("target_minutes")
    if not isinstance(target, int) or target <= 0:
        raise QueueConfigError(f"{where}: `target_minutes` must be a positive whole number")
    priority = body.get("priority", 0)
    if not isinstance(priority, int):
        raise QueueConfigError(f"{where}: `priority` must be a whole number")
    reasons = body.get("reasons", [])
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise QueueConfigError(f"{where}: `reasons` must be a list of reason names")
    return Queue(
        name=name, title=str(body.get("title", name)), priority=priority,
        target=timedelta(minutes=target), reasons=frozenset(reasons),
        roles=_roles(where, body.get("roles", [])),
    )


def _roles(where: str, roles: Any) -> frozenset[str]:
    """A queue's `roles`: console role names; a typo would open or close a queue silently."""
    known = [r.value for r in Role]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise QueueConfigError(f"{where}: `roles` must be a list of role names "
                               f"({', '.join(known)})")
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise QueueConfigError(f"{where}: `roles` names unknown role(s) "
                               f"{', '.join(map(repr, unknown))}; the roles are: "
                               f"{', '.join(known)}")
    return frozenset(roles)


def _check_unique_reasons(source: str, queues: tuple[Queue, ...]) -> None:
    seen: dict[str, str] = {}
    for queue in queues:
        for reason in sorted(queue.reasons):
            if reason in seen:
                raise QueueConfigError(
                    f"{source}: reason {reason!r} is routed to both {seen[reason]!r} and "
                    f"{queue.name!r}; keep it in one queue"
                )
            seen[reason] = queue.name

"""Handoff queues from configuration: routing a reason to a queue, and its response-time target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

DEFAULT_QUEUES_FILE = Path(__file__).resolve().parent.parent / "handoff" / "queues.yml"


class QueueConfigError(ValueError):
    """The queues file is malformed; the message names the file, the item and the fix."""


@dataclass(frozen=True)
class Queue:
    """One team's queue: who handles which reasons, how urgently."""

    name: str
    title: str
    priority: int
    target: timedelta
    reasons: frozenset[str]


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
    )


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

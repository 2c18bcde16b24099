"""The queue page's data: waiting handoffs by queue and priority, with waiting time and breaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import AgentUser, Conversation, Debtor, Handoff
from backend.services.handoff import ACTIVE_STATUSES, AGENT, QUEUED
from backend.services.queues import Queue, QueueConfig

NOTE_LIMIT = 80  # characters of the handoff note the queue board shows


@dataclass(frozen=True)
class QueueItem:
    """One handoff waiting for, or owned by, a person."""

    handoff_id: int
    conversation_id: int
    reason: str
    priority: int
    status: str
    channel: str
    debtor: str
    agent: str | None
    agent_id: int | None
    waiting: timedelta
    breached: bool
    note: str | None = None  # the bot's handoff note, shortened for the board


@dataclass
class QueueGroup:
    """A queue with its waiting items, most urgent first."""

    queue: Queue
    items: list[QueueItem] = field(default_factory=list)

    @property
    def breaches(self) -> int:
        """How many waiting items passed the response-time target."""
        return sum(1 for item in self.items if item.breached)


@dataclass(frozen=True)
class QueueBoard:
    """The whole queue page: waiting items by queue, the viewer's own conversations, and (for
    supervisors) the ones other agents own."""

    groups: list[QueueGroup]
    mine: list[QueueItem]
    others: list[QueueItem] = field(default_factory=list)
    everyone: bool = False  # the viewer oversees every agent (supervisors, admins)

    @property
    def waiting(self) -> int:
        """How many conversations wait for a person."""
        return sum(len(g.items) for g in self.groups)


def format_wait(delta: timedelta) -> str:
    """`3 min`, `2 h 05 min`, `1 d 4 h`."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


async def queue_board(
    session: AsyncSession, queues: QueueConfig, now: datetime, agent_id: int,
    everyone: bool = False, only: tuple[str, ...] = (), barred: tuple[str, ...] = (),
) -> QueueBoard:
    """Every open handoff, grouped for the queue page; with `everyone`, the conversations
    other agents own too (a supervisor finds and overrides them there); with `only`, just
    the waiting conversations of those queues (an agent's assigned queues); nothing of the
    `barred` queues (closed to the viewer's role), not even the viewer's own."""
    rows = await session.execute(
        select(Handoff, Conversation.channel, Debtor.full_name, AgentUser.name)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .outerjoin(Debtor, Debtor.id == Conversation.debtor_id)
        .outerjoin(AgentUser, AgentUser.id == Handoff.agent_id)
        .where(Handoff.status.in_(ACTIVE_STATUSES))
        .order_by(Handoff.priority.desc(), Handoff.created_at, Handoff.id)
    )
    groups = {q.name: QueueGroup(q) for q in queues.queues
              if (not only or q.name in only) and q.name not in barred}
    mine: list[QueueItem] = []
    others: list[QueueItem] = []
    for handoff, channel, debtor, agent in rows.all():
        item = _item(handoff, channel, debtor, agent, queues.get(handoff.queue), now)
        if handoff.queue in barred or (handoff.status == QUEUED and only
                                       and handoff.queue not in only):
            continue
        if handoff.status == QUEUED:
            groups.setdefault(handoff.queue, QueueGroup(queues.get(handoff.queue))).items.append(
                item
            )
        elif handoff.status == AGENT and handoff.agent_id == agent_id:
            mine.append(item)
        elif handoff.status == AGENT and everyone:
            others.append(item)
    return QueueBoard(groups=list(groups.values()), mine=mine, others=others,
                      everyone=everyone)


def _item(
    handoff: Handoff, channel: str, debtor: str | None, agent: str | None, queue: Queue,
    now: datetime,
) -> QueueItem:
    waiting = now - handoff.created_at
    return QueueItem(
        handoff_id=handoff.id, conversation_id=handoff.conversation_id, reason=handoff.reason,
        priority=handoff.priority, status=handoff.status, channel=channel,
        debtor=debtor or "unknown sender", agent=agent, agent_id=handoff.agent_id,
        waiting=waiting, breached=handoff.status == QUEUED and waiting > queue.target,
        note=short_note(handoff.note),
    )


def short_note(note: str | None, limit: int = NOTE_LIMIT) -> str | None:
    """The handoff note's first `limit` characters, on one line (the page shows it whole)."""
    if not note:
        return None
    flat = " ".join(note.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


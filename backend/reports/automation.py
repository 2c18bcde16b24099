"""Automation: conversations the bot resolved alone vs handed off, response times, agents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import AgentUser, Conversation, Handoff, Message
from backend.db.models.enums import DeliveryStatus, Direction
from backend.reports.filters import (
    ReportFilter,
    in_period,
    period_conversations,
    scoped_conversations,
    scoped_via_conversation,
)
from backend.reports.sql import (
    average,
    count_if,
    dialect_of,
    ratio,
    seconds_between,
    tune_for_reports,
)

DEFAULT_TARGET_SECONDS = 15 * 60
# A message that left for the debtor. Not blocked (the gate refused it), deferred or pending
# (not sent yet), queued (still with us or the provider), failed or undelivered (never arrived).
SENT = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


@dataclass(frozen=True)
class ContainmentRow:
    """Conversations started in the period on one channel: bot alone or handed to a human."""

    channel: str
    conversations: int
    bot_only: int
    handed_off: int
    containment_rate: Decimal | None


@dataclass(frozen=True)
class HandoffRow:
    """Handoffs created in the period for one queue and reason, with first-response times."""

    queue: str
    reason: str
    handoffs: int
    claimed: int
    closed: int
    target_seconds: int
    within_target: int
    within_target_rate: Decimal | None
    avg_first_response_seconds: float | None
    max_first_response_seconds: int | None


@dataclass(frozen=True)
class AgentRow:
    """What one agent did in the period."""

    agent_id: int
    name: str
    claimed: int
    closed: int
    avg_first_response_seconds: float | None
    avg_handle_seconds: float | None
    messages_sent: int


@dataclass(frozen=True)
class AutomationReport:
    """The automation dashboard: every table of the page."""

    containment: list[ContainmentRow]
    handoffs: list[HandoffRow]
    agents: list[AgentRow]


async def automation_report(
    session: AsyncSession,
    flt: ReportFilter,
    *,
    target_seconds: int = DEFAULT_TARGET_SECONDS,
    queue_targets: Mapping[str, int] | None = None,
) -> AutomationReport:
    """Containment, handoffs against their queue's first-response target, agent productivity.

    `queue_targets` overrides `target_seconds` per queue.
    """
    await tune_for_reports(session)
    dialect = dialect_of(session)
    target = _target(target_seconds, queue_targets or {})
    return AutomationReport(
        containment=await _containment(session, flt),
        handoffs=await _handoffs(session, flt, target, dialect),
        agents=await _agents(session, flt, dialect),
    )


def _target(default: int, per_queue: Mapping[str, int]) -> Any:
    if not per_queue:
        return literal(default)
    return case(dict(per_queue), value=Handoff.queue, else_=literal(default))


async def _containment(session: AsyncSession, flt: ReportFilter) -> list[ContainmentRow]:
    handoffs = select(Handoff.conversation_id.label("cid")).distinct()
    if flt.start_at is not None:
        # A conversation started in the period has no handoff before the period.
        handoffs = handoffs.where(Handoff.created_at >= flt.start_at)
    if flt.scoped:
        handoffs = handoffs.where(Handoff.conversation_id.in_(period_conversations(flt)))
    handed = handoffs.subquery("handed")
    query = (
        select(Conversation.channel, func.count().label("n"),
               count_if(handed.c.cid.is_(None)).label("bot_only"))
        .outerjoin(handed, handed.c.cid == Conversation.id)
        .where(*in_period(Conversation.started_at, flt))
        .group_by(Conversation.channel)
        .order_by(Conversation.channel)
    )
    rows = (await session.execute(scoped_conversations(query, flt))).all()
    return [ContainmentRow(r.channel, r.n, r.bot_only, r.n - r.bot_only, ratio(r.bot_only, r.n))
            for r in rows]


async def _handoffs(
    session: AsyncSession, flt: ReportFilter, target: Any, dialect: str
) -> list[HandoffRow]:
    """Within target is counted over claimed handoffs; unclaimed ones show in `claimed`."""
    wait = seconds_between(Handoff.created_at, Handoff.claimed_at, dialect)
    query = (
        select(
            Handoff.queue, Handoff.reason, func.count().label("n"),
            func.count(Handoff.claimed_at).label("claimed"),
            func.count(Handoff.closed_at).label("closed"),
            func.max(target).label("target"),
            count_if(wait <= target).label("within"),
            average(wait).label("avg_wait"), func.max(wait).label("max_wait"),
        )
        .where(*in_period(Handoff.created_at, flt))
        .group_by(Handoff.queue, Handoff.reason)
        .order_by(Handoff.queue, Handoff.reason)
    )
    rows = (await session.execute(
        scoped_via_conversation(query, Handoff.conversation_id, flt)
    )).all()
    return [
        HandoffRow(r.queue, r.reason, r.n, r.claimed, r.closed, int(r.target), r.within,
                   ratio(r.within, r.claimed), _seconds(r.avg_wait), r.max_wait)
        for r in rows
    ]


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


async def _agents(session: AsyncSession, flt: ReportFilter, dialect: str) -> list[AgentRow]:
    """Handoffs each agent claimed in the period, and the replies they sent in it."""
    wait = seconds_between(Handoff.created_at, Handoff.claimed_at, dialect)
    handle = seconds_between(Handoff.claimed_at, Handoff.closed_at, dialect)
    query = (
        select(AgentUser.id, AgentUser.name, func.count().label("claimed"),
               func.count(Handoff.closed_at).label("closed"),
               average(wait).label("avg_wait"), average(handle).label("avg_handle"))
        .select_from(Handoff)
        .join(AgentUser, AgentUser.id == Handoff.agent_id)
        .where(Handoff.claimed_at.is_not(None), *in_period(Handoff.claimed_at, flt))
        .group_by(AgentUser.id, AgentUser.name)
        .order_by(AgentUser.name, AgentUser.id)
    )
    rows = (await session.execute(
        scoped_via_conversation(query, Handoff.conversation_id, flt)
    )).all()
    sent = await _agent_messages(session, flt)
    return [
        AgentRow(r.id, r.name, r.claimed, r.closed, _seconds(r.avg_wait),
                 _seconds(r.avg_handle), sent.get(f"agent:{r.id}", 0))
        for r in rows
    ]


async def _agent_messages(session: AsyncSession, flt: ReportFilter) -> dict[str, int]:
    """Outbound messages that were sent, by sender 'agent:<id>' (the outbox's convention)."""
    query = (
        select(Message.sender, func.count().label("n"))
        .where(Message.direction == Direction.OUTBOUND, Message.sender.like("agent:%"),
               Message.delivery_status.in_(SENT), *in_period(Message.created_at, flt))
        .group_by(Message.sender)
    )
    rows = (await session.execute(
        scoped_via_conversation(query, Message.conversation_id, flt)
    )).all()
    return {r.sender: r.n for r in rows}

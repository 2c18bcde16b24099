"""The workflow's job bodies, the same whichever engine runs them: plan, judge, dispatch, send."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from backend.db.models import PlannedContact
from backend.workflow.context import WorkflowContext
from backend.workflow.lifecycle import LifecycleReport, Notice, run_lifecycles
from backend.workflow.planner import PlanReport, plan_day
from backend.workflow.sender import CLAIMABLE
from backend.workflow.strategy import Lifecycle

log = logging.getLogger(__name__)
ORPHAN_AFTER = timedelta(minutes=2)  # stored for sending, but its sender never finished


async def plan(ctx: WorkflowContext) -> PlanReport:
    """Plan today's contacts of every active strategy (idempotent)."""
    async with ctx.sessions.begin() as session:
        report = await plan_day(session, await ctx.versions(session), ctx.clock.now(),
                                ctx.scope)
    log.info("workflow planned %s contact(s) for %s", report.total, report.day)
    return report


async def lifecycles(ctx: WorkflowContext) -> LifecycleReport:
    """Judge promises, installments and plans; cancel contacts of accounts now held."""
    async with ctx.sessions.begin() as session:
        versions = await ctx.versions(session)
        # One set of lifecycle rules: the highest-priority active strategy's.
        life = versions[0].definition.lifecycle if versions else Lifecycle()
        notice = Notice.of(versions[0].definition.events) if versions else Notice()
        return await run_lifecycles(session, ctx.clock.now(), life, ctx.scope.portfolio_id,
                                    ctx.scope.creditor_id, notice)


async def due_contacts(ctx: WorkflowContext, limit: int = 5000) -> list[int]:
    """Contacts due now, oldest first; plus stored ones whose sender died before sending."""
    now = ctx.clock.now()
    query = select(PlannedContact.id).where(or_(
        PlannedContact.status.in_(CLAIMABLE) & (PlannedContact.due_at <= now),
        (PlannedContact.status == "queued") & (PlannedContact.updated_at <= now - ORPHAN_AFTER),
    ))
    if ctx.scope.key_prefix:
        query = query.where(PlannedContact.key.startswith(ctx.scope.key_prefix))
    async with ctx.sessions() as session:
        rows = await session.scalars(
            query.order_by(PlannedContact.due_at, PlannedContact.id).limit(limit))
        return list(rows.all())


async def record_failure(ctx: WorkflowContext, contact_id: int, error: BaseException) -> None:
    """Count a failed attempt and back off exponentially; give up after `max_attempts`."""
    now = ctx.clock.now()
    async with ctx.sessions.begin() as session:
        contact = await session.get(PlannedContact, contact_id)
        if contact is None or contact.status not in CLAIMABLE:
            return
        contact.attempts += 1
        contact.updated_at = now
        contact.outcome = f"attempt {contact.attempts} failed: {type(error).__name__}"[:200]
        if contact.attempts >= ctx.max_attempts:
            contact.status = "failed"
            return
        contact.due_at = now + timedelta(minutes=min(2 ** contact.attempts, 60))


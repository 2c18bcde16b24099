"""Promise, plan and schedule lifecycles as set-based updates (kept / broken / missed / paused)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import Account, Installment, Payment, PaymentPlan, PlannedContact, Promise
from backend.db.models.enums import InstallmentStatus, PlanStatus, PromiseStatus
from backend.workflow.stops import hold_reason
from backend.workflow.strategy import Lifecycle

OPEN_INSTALLMENT = (InstallmentStatus.DUE.value, InstallmentStatus.PARTIAL.value)


@dataclass
class LifecycleReport:
    """How many rows each transition changed."""

    promises_kept: int = 0
    promises_judged: int = 0
    installments_missed: int = 0
    plans_broken: int = 0
    plans_completed: int = 0
    contacts_cancelled: int = 0


def _received(now: datetime) -> ColumnElement:  # type: ignore[type-arg]
    """Money received on the promise's account since the promise was made."""
    return (select(func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.account_id == Promise.account_id,
                   Payment.paid_at >= Promise.created_at, Payment.paid_at <= now)
            .scalar_subquery())


def _claimed_ahead() -> ColumnElement:  # type: ignore[type-arg]
    """What the account's promises before this one (by due date, then id: the ledger's order)
    claim: a pending one its amount, a judged one what it was credited."""
    ahead = aliased(Promise)
    claim = case((ahead.status == PromiseStatus.PENDING, ahead.amount),
                 else_=ahead.paid_amount)
    earlier = or_(ahead.due_date < Promise.due_date,
                  and_(ahead.due_date == Promise.due_date, ahead.id < Promise.id))
    return (select(func.coalesce(func.sum(claim), 0))
            .where(ahead.account_id == Promise.account_id, earlier)
            .scalar_subquery())


_JUDGE = (update(Promise.__table__)
          .where(Promise.__table__.c.id == bindparam("promise_id"),
                 Promise.__table__.c.status == PromiseStatus.PENDING.value)
          .values(status=bindparam("verdict"), paid_amount=bindparam("paid")))


async def judge_promises(session: AsyncSession, now: datetime, life: Lifecycle,
                         scoped: Any = None) -> tuple[int, int]:
    """Kept as soon as paid in full; partially kept or broken once the grace days have passed.

    Each payment counts once: promises take it in the ledger's order, and a promise is credited
    the ledger's `paid_amount` when that is higher. Read in one snapshot, then written, so the
    order rows are updated in cannot change the outcome.
    """
    within = [Promise.account_id.in_(scoped)] if scoped is not None else []
    pending = await session.execute(
        select(Promise.id, Promise.amount, Promise.due_date, Promise.paid_amount,
               _received(now), _claimed_ahead())
        .where(Promise.status == PromiseStatus.PENDING, *within))
    judged_by = now.date() - timedelta(days=life.promise_grace_days)
    kept, judged = [], []
    for promise_id, amount, due, recorded, received, ahead in pending:
        paid = max(recorded, min(amount, received - ahead))
        if paid >= amount:
            kept.append(_verdict(promise_id, PromiseStatus.KEPT, paid))
        elif due <= judged_by:
            outcome = PromiseStatus.PARTIALLY_KEPT if paid > 0 else PromiseStatus.BROKEN
            judged.append(_verdict(promise_id, outcome, paid))
    if kept or judged:
        await session.execute(_JUDGE, kept + judged)
    return len(kept), len(judged)


def _verdict(promise_id: int, status: PromiseStatus, paid: Decimal) -> dict[str, Any]:
    return {"promise_id": promise_id, "verdict": status.value, "paid": paid}


async def judge_installments(session: AsyncSession, now: datetime, life: Lifecycle,
                             scoped: Any = None) -> int:
    """An installment still short after its grace days is missed (payments come from the ledger)."""
    missed_by = now.date() - timedelta(days=life.installment_grace_days)
    active_plans = select(PaymentPlan.id).where(PaymentPlan.status == PlanStatus.ACTIVE)
    if scoped is not None:
        active_plans = active_plans.where(PaymentPlan.account_id.in_(scoped))
    result = await session.execute(
        update(Installment)
        .where(Installment.status.in_(OPEN_INSTALLMENT), Installment.due_date <= missed_by,
               Installment.paid_amount < Installment.amount,
               Installment.plan_id.in_(active_plans))
        .values(status=InstallmentStatus.MISSED)
        .execution_options(synchronize_session=False))
    return _count(result)


async def judge_plans(session: AsyncSession, life: Lifecycle,
                      scoped: Any = None) -> tuple[int, int]:
    """Repeated misses break a plan; one miss lapses a settlement, so the full balance stands
    again; a plan with every installment paid is completed."""
    missed = (select(func.count(Installment.id))
              .where(Installment.plan_id == PaymentPlan.id,
                     Installment.status == InstallmentStatus.MISSED).scalar_subquery())
    unpaid = (select(func.count(Installment.id))
              .where(Installment.plan_id == PaymentPlan.id,
                     Installment.status != InstallmentStatus.PAID).scalar_subquery())
    within = [PaymentPlan.account_id.in_(scoped)] if scoped is not None else []
    # The discount was conditional on paying on time: a settlement gets no second miss.
    breaks = or_(missed >= life.max_missed_installments,
                 and_(PaymentPlan.is_settlement.is_(True), missed >= 1))
    broken = await session.execute(
        update(PaymentPlan).where(PaymentPlan.status == PlanStatus.ACTIVE, breaks, *within)
        .values(status=PlanStatus.BROKEN).execution_options(synchronize_session=False))
    completed = await session.execute(
        update(PaymentPlan).where(PaymentPlan.status == PlanStatus.ACTIVE, unpaid == 0,
                                  *within)
        .values(status=PlanStatus.COMPLETED).execution_options(synchronize_session=False))
    return _count(broken), _count(completed)


async def cancel_held(session: AsyncSession, now: datetime, life: Lifecycle,
                      scoped: Any = None) -> int:
    """Planned contacts whose account is now held are cancelled, with the reason, at once.

    The sender re-checks at send time anyway; this keeps the visible schedule truthful.
    """
    cancelled = 0
    for anchors, probe in _anchor_groups():
        reason = hold_reason(probe, now, timedelta(hours=life.reply_pause_hours))
        held = (select(reason).where(Account.id == PlannedContact.account_id)
                .scalar_subquery())
        result = await session.execute(
            update(PlannedContact)
            .where(PlannedContact.status == "planned", PlannedContact.anchor.in_(anchors),
                   held.is_not(None),
                   *([PlannedContact.account_id.in_(scoped)] if scoped is not None else []))
            .values(status="cancelled", outcome=held, updated_at=now)
            .execution_options(synchronize_session=False))
        cancelled += _count(result)
    return cancelled


def _anchor_groups() -> tuple[tuple[tuple[str, ...], str], ...]:
    paused = ("due_date", "promise_broken", "plan_broken")
    return ((paused, "due_date"), (("promise", "installment", "installment_missed"), "promise"))


async def run_lifecycles(session: AsyncSession, now: datetime, life: Lifecycle,
                         portfolio_id: int | None = None) -> LifecycleReport:
    """Every transition, in dependency order (promises, installments, plans, then contacts).

    With `portfolio_id` (a dry run) only that portfolio's rows are touched.
    """
    scoped = _scope(portfolio_id)
    report = LifecycleReport()
    report.promises_kept, report.promises_judged = await judge_promises(session, now, life,
                                                                        scoped)
    report.installments_missed = await judge_installments(session, now, life, scoped)
    report.plans_broken, report.plans_completed = await judge_plans(session, life, scoped)
    report.contacts_cancelled = await cancel_held(session, now, life, scoped)
    return report


def _scope(portfolio_id: int | None) -> Any:
    """The accounts a run may touch (None: all of them)."""
    if portfolio_id is None:
        return None
    return select(Account.id).where(Account.portfolio_id == portfolio_id)


def _count(result: object) -> int:
    return max(getattr(result, "rowcount", 0) or 0, 0)


"""Promise, plan and schedule lifecycles as set-based updates (kept / broken / missed / paused)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import (
    Account,
    AuditEvent,
    Debtor,
    Installment,
    Payment,
    PaymentPlan,
    PlannedContact,
    Promise,
)
from backend.db.models.enums import InstallmentStatus, PlanStatus, PromiseStatus
from backend.services import audit
from backend.services.geo import debtor_today
from backend.workflow.stops import (
    AGREED,
    PAUSED_BY_ARRANGEMENT,
    collection_paused,
    hold_reason,
)
from backend.workflow.store import active_versions
from backend.workflow.strategy import Lifecycle, Step

OPEN_INSTALLMENT = (InstallmentStatus.DUE.value, InstallmentStatus.PARTIAL.value)
ACTOR = "workflow"  # who the lifecycle's audit events name
RESCHEDULED = "arrangement.rescheduled"


@dataclass
class LifecycleReport:
    """How many rows each transition changed."""

    arrangements_carried: int = 0  # accounts whose dates a collection pause moved on
    promises_kept: int = 0
    promises_judged: int = 0
    installments_missed: int = 0
    plans_broken: int = 0
    plans_completed: int = 0
    contacts_cancelled: int = 0


def _received(now: datetime) -> ColumnElement:  # type: ignore[type-arg]
    """Money received (and not refunded) on the promise's account since the promise was made."""
    return (select(func.coalesce(func.sum(Payment.amount - Payment.refunded_amount), 0))
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
                         scoped: Any = None, audited: bool = True) -> tuple[int, int]:
    """Kept as soon as paid in full; partially kept or broken once the grace days have passed.

    Each payment counts once: promises take it in the ledger's order, and a promise is credited
    the ledger's `paid_amount` when that is higher. Read in one snapshot, then written, so the
    order rows are updated in cannot change the outcome. A pending promise with a part payment
    is judged here, not by the ledger. Each verdict after the grace days is audited.
    """
    within = [Promise.account_id.in_(scoped)] if scoped is not None else []
    pending = await session.execute(
        select(Promise.id, Promise.amount, Promise.due_date, Promise.paid_amount,
               _received(now), _claimed_ahead(), Debtor.timezone,
               Promise.account_id.in_(_paused_accounts()))
        .join(Account, Account.id == Promise.account_id)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(Promise.status == PromiseStatus.PENDING, *within))
    grace = timedelta(days=life.promise_grace_days)
    kept, judged = [], []
    for promise_id, amount, due, recorded, received, ahead, zone, paused in pending:
        paid = max(recorded, min(amount, received - ahead))
        if paid >= amount:
            kept.append(_verdict(promise_id, PromiseStatus.KEPT, paid))
        elif paused:
            continue  # collection is paused: nothing was asked for, so nothing was broken
        elif due <= debtor_today(now, zone) - grace:  # the debtor's day (docs/WORKFLOW.md)
            outcome = PromiseStatus.PARTIALLY_KEPT if paid > 0 else PromiseStatus.BROKEN
            judged.append(_verdict(promise_id, outcome, paid))
    if kept or judged:
        await session.execute(_JUDGE, kept + judged)
    if judged and audited:
        await _audit_promises(session, now, life, judged)
    return len(kept), len(judged)


async def _audit_promises(session: AsyncSession, now: datetime, life: Lifecycle,
                          judged: list[dict[str, Any]]) -> None:
    """A `promise.broken` or `promise.partially_kept` event for each promise judged so."""
    verdicts = {v["promise_id"]: v["verdict"] for v in judged}
    rows = await session.execute(
        select(Promise.id, Promise.account_id, Promise.status, Promise.amount,
               Promise.paid_amount, Promise.due_date).where(Promise.id.in_(verdicts)))
    for promise_id, account_id, status, amount, paid, due in rows:
        if status != verdicts[promise_id]:
            continue  # changed by someone else since it was read: not this verdict
        await audit.record(
            session, occurred_at=now, actor=ACTOR, action=f"promise.{status}",
            subject_type="account", subject_id=account_id,
            data={"promise_id": promise_id, "amount": str(amount), "paid": str(paid),
                  "due": due.isoformat(), "grace_days": life.promise_grace_days})


def _verdict(promise_id: int, status: PromiseStatus, paid: Decimal) -> dict[str, Any]:
    return {"promise_id": promise_id, "verdict": status.value, "paid": paid}


async def judge_installments(session: AsyncSession, now: datetime, life: Lifecycle,
                             scoped: Any = None) -> int:
    """An installment still short after its grace days (in its debtor's calendar) is missed
    (payments come from the ledger); none is while its account's collection is paused."""
    grace = timedelta(days=life.installment_grace_days)
    active_plans = select(PaymentPlan.id).where(PaymentPlan.status == PlanStatus.ACTIVE,
                                                PaymentPlan.account_id.not_in(_paused_accounts()))
    if scoped is not None:
        active_plans = active_plans.where(PaymentPlan.account_id.in_(scoped))
    # No debtor's day is later than UTC's next: only those rows can be due for a verdict.
    latest_day = now.date() + timedelta(days=1) - grace
    short = await session.execute(
        select(Installment.id, Installment.due_date, Debtor.timezone)
        .join(PaymentPlan, PaymentPlan.id == Installment.plan_id)
        .join(Account, Account.id == PaymentPlan.account_id)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(Installment.status.in_(OPEN_INSTALLMENT), Installment.due_date <= latest_day,
               Installment.paid_amount < Installment.amount,
               Installment.plan_id.in_(active_plans)))
    missed = [row.id for row in short if row.due_date <= debtor_today(now, row.timezone) - grace]
    if not missed:
        return 0
    result = await session.execute(
        update(Installment)
        .where(Installment.id.in_(missed), Installment.status.in_(OPEN_INSTALLMENT))
        .values(status=InstallmentStatus.MISSED)
        .execution_options(synchronize_session=False))
    return _count(result)


async def judge_plans(session: AsyncSession, now: datetime, life: Lifecycle,
                      scoped: Any = None, audited: bool = True) -> tuple[int, int]:
    """Repeated misses break a plan; one miss lapses a settlement, so the full balance stands
    again; so does a miss when no installment is left to pay (the plan has run out unpaid);
    a plan with every installment paid is completed. No plan breaks while its account's
    collection is paused. Each break is audited."""
    missed = _installments(Installment.status == InstallmentStatus.MISSED)
    unpaid = _installments(Installment.status != InstallmentStatus.PAID)
    still_due = _installments(Installment.status.in_(OPEN_INSTALLMENT))
    within = [PaymentPlan.account_id.in_(scoped)] if scoped is not None else []
    # The discount was conditional on paying on time: a settlement gets no second miss.
    breaks = or_(missed >= life.max_missed_installments,
                 and_(PaymentPlan.is_settlement.is_(True), missed >= 1),
                 and_(still_due == 0, missed >= 1))
    broken = (await session.execute(
        update(PaymentPlan).where(PaymentPlan.status == PlanStatus.ACTIVE, breaks,
                                  PaymentPlan.account_id.not_in(_paused_accounts()), *within)
        .values(status=PlanStatus.BROKEN)
        .returning(PaymentPlan.id, PaymentPlan.account_id, PaymentPlan.is_settlement)
        .execution_options(synchronize_session=False))).all()
    completed = await session.execute(
        update(PaymentPlan).where(PaymentPlan.status == PlanStatus.ACTIVE, unpaid == 0,
                                  *within)
        .values(status=PlanStatus.COMPLETED).execution_options(synchronize_session=False))
    if broken and audited:
        await _audit_broken_plans(session, now, life, broken)
    return len(broken), _count(completed)


def _installments(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many of the plan's installments meet `condition` (correlated to `PaymentPlan`)."""
    return (select(func.count(Installment.id))
            .where(Installment.plan_id == PaymentPlan.id, condition).scalar_subquery())


async def _audit_broken_plans(session: AsyncSession, now: datetime, life: Lifecycle,
                              broken: list[Any]) -> None:
    """A `plan.broken` (or `settlement.broken`) event for each plan broken, with why."""
    missed = dict((await session.execute(
        select(Installment.plan_id, func.count(Installment.id))
        .where(Installment.plan_id.in_([row.id for row in broken]),
               Installment.status == InstallmentStatus.MISSED)
        .group_by(Installment.plan_id))).all())
    for plan_id, account_id, is_settlement in broken:
        kind = "settlement" if is_settlement else "plan"
        reason = ("a settlement installment was missed" if is_settlement
                  else f"{life.max_missed_installments} or more installments missed"
                  if missed.get(plan_id, 0) >= life.max_missed_installments
                  else "an installment was missed and none is left to pay")
        await audit.record(
            session, occurred_at=now, actor=ACTOR, action=f"{kind}.broken",
            subject_type="account", subject_id=account_id,
            data={"plan_id": plan_id, "missed_installments": missed.get(plan_id, 0),
                  "reason": reason, "grace_days": life.installment_grace_days})


@dataclass(frozen=True)
class Notice:
    """How many days before its date an arrangement's first reminder goes (0: none)."""

    promise: int = 0
    installment: int = 0

    @classmethod
    def of(cls, events: Sequence[Step]) -> Notice:
        """The notice the strategy's event steps give (its earliest reminder of each)."""
        def lead(anchor: str) -> int:
            return max([-e.offset_days for e in events
                        if e.anchor == anchor and e.offset_days < 0], default=0)

        return cls(promise=lead("promise"), installment=lead("installment"))


# (id, due date, new due date, account) of an arrangement row a pause moves.
Move = tuple[int, date, date, int]


async def carry_paused(session: AsyncSession, now: datetime, scoped: Any = None,
                       audited: bool = True, notice: Notice | None = None) -> int:
    """While an account's collection is paused, its open installments and pending promises
    fall due no earlier than the debtor's today plus their reminder's notice.

    So when the pause ends they get their usual reminder and are judged from then, with the
    usual grace days, never for the days we were not collecting (compliance.md A.5 item 25);
    their contacts for the old date are re-keyed so the planner plans them for the new one.
    Each account's moves are audited (`arrangement.rescheduled`) once a pause, not on each
    day it carries them on. Returns how many accounts were moved.
    """
    notice = notice or Notice()
    within = [Account.id.in_(scoped)] if scoped is not None else []
    # No debtor's day is later than UTC's next: only those rows can be before its target.
    latest_day = now.date() + timedelta(days=1)
    installments = await session.execute(
        select(Installment.id, Installment.due_date, Debtor.timezone, Account.id)
        .join(PaymentPlan, PaymentPlan.id == Installment.plan_id)
        .join(Account, Account.id == PaymentPlan.account_id)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(PaymentPlan.status == PlanStatus.ACTIVE,
               Installment.status.in_(OPEN_INSTALLMENT),
               Installment.due_date < latest_day + timedelta(days=notice.installment),
               collection_paused(), *within))
    promises = await session.execute(
        select(Promise.id, Promise.due_date, Debtor.timezone, Account.id)
        .join(Account, Account.id == Promise.account_id)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(Promise.status == PromiseStatus.PENDING,
               Promise.due_date < latest_day + timedelta(days=notice.promise),
               collection_paused(), *within))
    moved = {"installment": _overdue(installments, now, notice.installment),
             "promise": _overdue(promises, now, notice.promise)}
    for kind, model in (("installment", Installment), ("promise", Promise)):
        await _move(session, model, moved[kind])
        await _rekey_reminders(session, kind, moved[kind])
    accounts = {account_id for rows in moved.values() for *_, account_id in rows}
    if audited:
        await _audit_moves(session, now, moved, await _carried_before(session, accounts))
    return len(accounts)


def _overdue(rows: Any, now: datetime, notice_days: int) -> list[Move]:
    """The rows due before their debtor's today plus `notice_days`, moved to that day."""
    found = []
    for row_id, due, zone, account_id in rows:
        target = debtor_today(now, zone) + timedelta(days=notice_days)
        if due < target:
            found.append((row_id, due, target, account_id))
    return found


async def _move(session: AsyncSession, model: Any, rows: list[Move]) -> None:
    """Set each row's due date to its new day (one UPDATE per distinct day)."""
    by_day: dict[date, list[int]] = {}
    for row_id, _, day, _ in rows:
        by_day.setdefault(day, []).append(row_id)
    for day, ids in by_day.items():
        await session.execute(update(model).where(model.id.in_(ids)).values(due_date=day)
                              .execution_options(synchronize_session=False))


async def _rekey_reminders(session: AsyncSession, anchor: str, rows: list[Move]) -> None:
    """The reminders planned (or sent) for a row's old date give way to its new date.

    A contact's key names the row and the step, never the date, so without this the reminder
    sent before the pause would stand for the new date and none would go for it
    (`promise_moves` does the same when a debtor moves a promise).
    """
    for row_id, due, _, _ in rows:
        suffix = f":before:{due.isoformat()}"
        await session.execute(
            update(PlannedContact)
            .where(PlannedContact.source_id == row_id, PlannedContact.anchor == anchor,
                   PlannedContact.anchor_date == due)
            .values(key=func.substr(PlannedContact.key, 1, 160 - len(suffix)) + literal(suffix),
                    status=case((PlannedContact.status == "planned", literal("cancelled")),
                                else_=PlannedContact.status),
                    outcome=case((PlannedContact.status == "planned",
                                  literal("collection paused; planned again for the new date")),
                                 else_=PlannedContact.outcome))
            .execution_options(synchronize_session=False))


async def _carried_before(session: AsyncSession, accounts: set[int]) -> set[tuple[str, int]]:
    """(kind, id) of each row an earlier `arrangement.rescheduled` event of `accounts` moved."""
    if not accounts:
        return set()
    events = await session.scalars(
        select(AuditEvent.data).where(AuditEvent.action == RESCHEDULED,
                                      AuditEvent.subject_type == "account",
                                      AuditEvent.subject_id.in_([str(a) for a in accounts])))
    return {(kind, int(row["id"])) for data in events for kind in ("installment", "promise")
            for row in data.get(f"{kind}s", [])}


async def _audit_moves(session: AsyncSession, now: datetime, moved: dict[str, list[Move]],
                       carried: set[tuple[str, int]]) -> None:
    """One `arrangement.rescheduled` event per account for the moves that start a pause.

    A pause moves its rows on every day it lasts; a row this pause already moved sits on
    yesterday's target, so its move today only carries it on and is not audited again.
    """
    fresh: dict[int, dict[str, list[dict[str, str | int]]]] = {}
    for kind, rows in moved.items():
        for row_id, due, day, account_id in rows:
            if (kind, row_id) in carried and due == day - timedelta(days=1):
                continue
            entries = fresh.setdefault(account_id, {"installments": [], "promises": []})
            entries[f"{kind}s"].append(
                {"id": row_id, "from": due.isoformat(), "to": day.isoformat()})
    for account_id in sorted(fresh):
        await audit.record(
            session, occurred_at=now, actor=ACTOR, action=RESCHEDULED,
            subject_type="account", subject_id=account_id,
            data={"reason": "collection_paused", **fresh[account_id]})


def _paused_accounts() -> Any:
    """The accounts whose collection a stop-state pauses (`stops.collection_paused`)."""
    return select(Account.id).where(collection_paused())


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
    return ((PAUSED_BY_ARRANGEMENT, "due_date"), (AGREED, "promise"))


async def run_lifecycles(session: AsyncSession, now: datetime, life: Lifecycle,
                         portfolio_id: int | None = None,
                         creditor_id: int | None = None,
                         notice: Notice | None = None) -> LifecycleReport:
    """Every transition, in dependency order (a pause's moves, promises, installments, plans,
    then contacts).

    With `portfolio_id` or `creditor_id` (a dry run) only that portfolio's or creditor's rows
    are touched, and no audit event is written (docs/WORKFLOW.md: the dry run writes none).
    `notice` (the strategy's reminder lead) is how far ahead a pause carries dates. A
    live run first holds the accounts it judges, as posting a payment does, so a payment is
    judged wholly or not at all.
    """
    scoped = _scope(portfolio_id, creditor_id)
    live = scoped is None
    if live:
        await _hold_judged_accounts(session)
    report = LifecycleReport()
    report.arrangements_carried = await carry_paused(session, now, scoped, audited=live,
                                                     notice=notice)
    report.promises_kept, report.promises_judged = await judge_promises(
        session, now, life, scoped, audited=live)
    report.installments_missed = await judge_installments(session, now, life, scoped)
    report.plans_broken, report.plans_completed = await judge_plans(
        session, now, life, scoped, audited=live)
    report.contacts_cancelled = await cancel_held(session, now, life, scoped)
    return report


async def _hold_judged_accounts(session: AsyncSession) -> None:
    """Hold, until commit, every account with a pending promise or an active plan.

    A payment posting holds its account too (`ledger.post_payment`): without this, a plan
    could be broken from installments a payment is paying, or a payment applied to a plan
    from a snapshot taken before the plan was broken.
    """
    judged = or_(
        Account.id.in_(select(Promise.account_id).where(Promise.status == PromiseStatus.PENDING)),
        Account.id.in_(select(PaymentPlan.account_id)
                       .where(PaymentPlan.status == PlanStatus.ACTIVE)))
    if session.get_bind().dialect.name == "postgresql":
        # In id order, so two runs at once queue rather than deadlock.
        await session.execute(select(Account.id).where(judged).order_by(Account.id)
                              .with_for_update())
    else:  # SQLite has one writer at a time: writing first takes that lock before the reads
        await session.execute(update(Account).where(judged).values(id=Account.id)
                              .execution_options(synchronize_session=False))


async def lifecycle_rules(session: AsyncSession) -> Lifecycle:
    """The lifecycle rules in force: the highest-priority active strategy's, else the defaults."""
    versions = await active_versions(session)
    return versions[0].definition.lifecycle if versions else Lifecycle()


def _scope(portfolio_id: int | None, creditor_id: int | None) -> Any:
    """The accounts a run may touch (None: all of them)."""
    if portfolio_id is None and creditor_id is None:
        return None
    query = select(Account.id)
    if portfolio_id is not None:
        query = query.where(Account.portfolio_id == portfolio_id)
    if creditor_id is not None:
        query = query.where(Account.creditor_id == creditor_id)
    return query


def _count(result: object) -> int:
    return max(getattr(result, "rowcount", 0) or 0, 0)


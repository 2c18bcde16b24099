"""What each step anchor counts from: the account's due date, a promise, an installment, a plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, String, cast, func, literal, select

from backend.db.models import Account, Installment, PaymentPlan, Promise
from backend.db.models.enums import InstallmentStatus, PlanStatus, PromiseStatus
from backend.workflow.strategy import Lifecycle, Step


@dataclass(frozen=True)
class Source:
    """The rows a step is planned from, and the date its offset counts from."""

    event_date: ColumnElement  # type: ignore[type-arg]
    shift_days: int  # grace days between the source date and the event (broken, missed)
    key: ColumnElement[str]
    source_id: ColumnElement  # type: ignore[type-arg]
    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    joins: tuple[tuple[object, ColumnElement[bool]], ...] = ()

    def attach(self, query: Select) -> Select:  # type: ignore[type-arg]
        """Join the source tables onto a query over accounts and filter to open sources."""
        for table, on in self.joins:
            query = query.join(table, on)  # type: ignore[arg-type]
        return query.where(*self.conditions)


def _key(prefix: str, ident: ColumnElement, step: Step) -> ColumnElement[str]:  # type: ignore[type-arg]
    return literal(prefix) + cast(ident, String) + literal(f":{step.id}")


def _last_missed() -> ColumnElement:  # type: ignore[type-arg]
    return (select(func.max(Installment.due_date))
            .where(Installment.plan_id == PaymentPlan.id,
                   Installment.status == InstallmentStatus.MISSED)
            .scalar_subquery())


def source_for(step: Step, life: Lifecycle) -> Source:
    """The source of `step` under the strategy's lifecycle settings."""
    if step.anchor == "due_date":
        # A new due date (re-imported account) starts a new ladder, so it is part of the key.
        key = _key("a", Account.id, step) + literal(":") + cast(Account.due_date, String)
        return Source(Account.due_date, 0, key, literal(None))
    if step.anchor == "promise":
        return Source(Promise.due_date, 0, _key("p", Promise.id, step), Promise.id,
                      [Promise.status == PromiseStatus.PENDING],
                      ((Promise, Promise.account_id == Account.id),))
    if step.anchor == "promise_broken":
        broken = (PromiseStatus.BROKEN.value, PromiseStatus.PARTIALLY_KEPT.value)
        return Source(Promise.due_date, life.promise_grace_days, _key("p", Promise.id, step),
                      Promise.id, [Promise.status.in_(broken)],
                      ((Promise, Promise.account_id == Account.id),))
    plan_join = ((PaymentPlan, PaymentPlan.account_id == Account.id),)
    if step.anchor == "plan_broken":
        return Source(_last_missed(), life.installment_grace_days,
                      _key("pl", PaymentPlan.id, step), PaymentPlan.id,
                      [PaymentPlan.status == PlanStatus.BROKEN], plan_join)
    installment_join = plan_join + ((Installment, Installment.plan_id == PaymentPlan.id),)
    active = PaymentPlan.status == PlanStatus.ACTIVE
    if step.anchor == "installment":
        open_ = Installment.status.in_((InstallmentStatus.DUE.value,
                                        InstallmentStatus.PARTIAL.value))
        return Source(Installment.due_date, 0, _key("i", Installment.id, step), Installment.id,
                      [active, open_], installment_join)
    return Source(Installment.due_date, life.installment_grace_days,
                  _key("i", Installment.id, step), Installment.id,
                  [active, Installment.status == InstallmentStatus.MISSED], installment_join)

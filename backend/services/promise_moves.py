"""Moving a pending promise to another day: the same promise and amount, audited, counted."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, AuditEvent, PlannedContact, Promise
from backend.db.models.enums import PromiseStatus
from backend.services import audit
from backend.services.ledger import Origin

MOVED = "promise.moved"


class PromiseNotPending(LookupError):
    """No pending promise of that amount on that day: nothing is moved."""


async def move_promise(
    session: AsyncSession,
    account: Account,
    amount: Decimal,
    old_due: date,
    new_due: date,
    origin: Origin,
) -> Promise:
    """Move the account's pending promise of `amount` due `old_due` to `new_due`; audited as
    `promise.moved` with both days. Raises PromiseNotPending when there is none."""
    promise: Promise | None = await session.scalar(
        select(Promise)
        .where(
            Promise.account_id == account.id,
            Promise.status == PromiseStatus.PENDING,
            Promise.amount == amount,
            Promise.due_date == old_due,
        )
        .order_by(Promise.id)
        .limit(1)
        .with_for_update()
    )
    if promise is None:
        raise PromiseNotPending(
            f"account {account.id} has no pending promise of {amount} due {old_due}"
        )
    promise.due_date = new_due
    await _retime_contacts(session, promise.id, old_due, origin)
    await audit.record(
        session,
        occurred_at=origin.now,
        actor=origin.actor,
        action=MOVED,
        subject_type="account",
        subject_id=account.id,
        data={
            "conversation_id": origin.conversation_id,
            "promise_id": promise.id,
            "amount": str(promise.amount),
            "from": old_due.isoformat(),
            "to": new_due.isoformat(),
        },
    )
    return promise


async def _retime_contacts(session: AsyncSession, promise_id: int, old_due: date,
                           origin: Origin) -> None:
    """The workflow's contacts about the promise's old day give way to its new day.

    A contact's key names the promise and the step, never doubled; so the keys of the old
    day's contacts get the old day appended, which lets the planner plan each step again
    for the new day, and those not sent yet are cancelled rather than remind of the old day.
    """
    suffix = f":before:{old_due.isoformat()}"
    await session.execute(
        update(PlannedContact)
        .where(PlannedContact.source_id == promise_id, PlannedContact.anchor == "promise",
               PlannedContact.anchor_date == old_due)
        .values(
            key=func.substr(PlannedContact.key, 1, 160 - len(suffix)) + literal(suffix),
            status=case((PlannedContact.status == "planned", literal("cancelled")),
                        else_=PlannedContact.status),
            outcome=case((PlannedContact.status == "planned", literal("promise moved")),
                         else_=PlannedContact.outcome),
            updated_at=origin.now,
        )
        .execution_options(synchronize_session=False)
    )


async def moves_by_promise(session: AsyncSession, account_id: int) -> Counter[int]:
    """How often each promise of the account was moved, as the audit log records it."""
    rows = await session.scalars(
        select(AuditEvent.data).where(
            AuditEvent.action == MOVED,
            AuditEvent.subject_type == "account",
            AuditEvent.subject_id == str(account_id),
        )
    )
    return Counter(int(data["promise_id"]) for data in rows if data.get("promise_id"))

"""Stop and re-time rules as one SQL expression, used by the bulk planner and at send time alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.db.models import (
    Account,
    ContactPoint,
    Conversation,
    Dispute,
    Message,
    PaymentPlan,
    PlannedContact,
    Promise,
)
from backend.db.models.enums import AccountStatus, DisputeStatus, Ownership, PromiseStatus

# Anchors whose steps give way to an open promise or plan (the ladder pauses, then resumes).
PAUSED_BY_ARRANGEMENT = ("due_date", "promise_broken", "plan_broken")
# Anchors of what the debtor agreed while it runs: its reminders and a missed installment's.
AGREED = ("promise", "installment", "installment_missed")


# Subqueries use aliases so they correlate to Account only, even when the planner's own
# query already joins promises or plans.


def _open_dispute() -> ColumnElement[bool]:
    d = aliased(Dispute)
    return exists().where(d.account_id == Account.id, d.status == DisputeStatus.OPEN)


def collection_paused() -> ColumnElement[bool]:
    """A stop-state holds collection: cease, attorney, bankruptcy, deceased or a dispute.

    Correlated to `Account`. While it holds, the debtor's arrangements are not judged
    (`backend/workflow/lifecycle.py`): we asked for nothing, so nothing was missed. Hardship
    is not among them: a hardship plan is agreed under it and judged as usual.
    """
    return or_(Account.cease, Account.attorney, Account.bankruptcy, Account.deceased,
               Account.dispute, _open_dispute())


def _human_owns() -> ColumnElement[bool]:
    c = aliased(Conversation)
    return exists().where(
        or_(c.account_id == Account.id, c.debtor_id == Account.debtor_id),
        c.ownership.in_((Ownership.QUEUED.value, Ownership.AGENT.value)),
    )


def _replied_since(since: datetime) -> ColumnElement[bool]:
    c, m = aliased(Conversation), aliased(Message)
    return exists().where(
        m.conversation_id == c.id, m.direction == "inbound", m.created_at >= since,
        or_(c.account_id == Account.id, c.debtor_id == Account.debtor_id),
    )


def _pending_promise() -> ColumnElement[bool]:
    p = aliased(Promise)
    return exists().where(p.account_id == Account.id, p.status == PromiseStatus.PENDING)


def _active_plan() -> ColumnElement[bool]:
    p = aliased(PaymentPlan)
    return exists().where(p.account_id == Account.id, p.status == "active")


def resumed() -> ColumnElement[bool]:
    """The account's ladder comes back from a hold: it was under way, or an arrangement ended.

    Correlated to `Account`; a ladder step held past the catch-up window is still owed then.
    """
    pc, p, plan = aliased(PlannedContact), aliased(Promise), aliased(PaymentPlan)
    return or_(
        exists().where(pc.account_id == Account.id, pc.anchor == "due_date",
                       pc.anchor_date == Account.due_date, pc.status.in_(("sent", "handed_off"))),
        exists().where(p.account_id == Account.id, p.status != PromiseStatus.PENDING),
        exists().where(plan.account_id == Account.id, plan.status != "active"),
    )


def hold_reason(anchor: str, now: datetime, reply_pause: timedelta) -> ColumnElement[str | None]:
    """Why the account's `anchor` steps must not go out now (NULL when they may).

    Correlated to `Account`; the order is the order of precedence shown to people.
    """
    whens: list[tuple[ColumnElement[bool], str]] = [
        (Account.status == AccountStatus.PAID, "paid"),
        (Account.status != AccountStatus.ACTIVE, "account_closed"),
        (Account.current_balance <= 0, "paid"),
        # compliance.md G item 75: hold states stop all automated collection.
        (Account.cease, "stop_state:cease"),
        (Account.attorney, "stop_state:attorney"),
        (Account.bankruptcy, "stop_state:bankruptcy"),
        (Account.deceased, "stop_state:deceased"),
        # compliance.md A.5 item 25: a dispute stops collection until verification.
        (or_(Account.dispute, _open_dispute()), "dispute_open"),
    ]
    if anchor in PAUSED_BY_ARRANGEMENT:
        # compliance.md F items 67, 73: hardship pauses collection outreach, but a plan or
        # promise agreed under it (the forbearance itself) is followed and judged like any
        # other, so its reminders, which the debtor asked for, still go (docs/WORKFLOW.md).
        whens.append((Account.hardship.is_(True), "hardship"))
    whens.append((_human_owns(), "handed_to_human"))
    # The reply pause lets the conversation lead the ladder; the reminders of an arrangement
    # the debtor just made in it are what they agreed to, so they still go.
    if reply_pause > timedelta(0) and anchor in PAUSED_BY_ARRANGEMENT:
        whens.append((_replied_since(now - reply_pause), "debtor_replied"))
    if anchor in PAUSED_BY_ARRANGEMENT:
        whens += [(_pending_promise(), "promise_pending"), (_active_plan(), "plan_active")]
    return case(*whens, else_=literal(None))


def reachable_on(channels: tuple[str, ...]) -> ColumnElement[bool]:
    """The debtor has a contact point on one of `channels` that nothing forbids using."""
    cp = aliased(ContactPoint)
    return exists().where(
        cp.debtor_id == Account.debtor_id, cp.channel.in_(channels), cp.consent.is_(True),
        cp.opted_out_at.is_(None), cp.wrong_party.is_(False),
    )


async def hold_for(
    session: AsyncSession, account_id: int, anchor: str, now: datetime, reply_pause: timedelta
) -> str | None:
    """The same rule for one account, evaluated at send time."""
    query = select(hold_reason(anchor, now, reply_pause)).where(Account.id == account_id)
    found = (await session.execute(query)).first()
    return "unknown_account" if found is None else found[0]

